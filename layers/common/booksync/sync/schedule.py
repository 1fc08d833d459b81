"""The weekly fan-out: one import job per connected (company, provider), paged from the sparse index."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from booksync.ids import utcnow
from booksync.observability import logger


class ConnectedIndex(Protocol):
    def iter_connected(self, provider: str | None = None) -> Iterable[tuple[str, str]]: ...


@dataclass(frozen=True)
class WeeklyFanOut:
    connections: ConnectedIndex
    sqs: Any
    import_queue_url: str

    def run(self) -> dict[str, Any]:
        run_id = utcnow().strftime("weekly-%Y-%m-%d")  # re-running the same day de-duplicates in the FIFO queue
        batch: list[dict[str, Any]] = []
        jobs = 0
        for company_id, provider in self.connections.iter_connected():
            body = {"companyId": company_id, "provider": provider, "runId": run_id, "kind": "weekly"}
            batch.append(
                {
                    "Id": str(len(batch)),
                    "MessageBody": json.dumps(body, separators=(",", ":")),
                    "MessageGroupId": f"{company_id}#{provider}"[:128],
                    "MessageDeduplicationId": hashlib.sha256(f"{run_id}#{company_id}#{provider}".encode()).hexdigest(),
                }
            )
            if len(batch) == 10:
                jobs += self._flush(batch)
                batch = []
        if batch:
            jobs += self._flush(batch)
        logger.info("weekly sync fanned out", run_id=run_id, jobs=jobs)
        return {"runId": run_id, "jobs": jobs}

    def _flush(self, entries: list[dict[str, Any]]) -> int:
        resp = self.sqs.send_message_batch(QueueUrl=self.import_queue_url, Entries=entries)
        failed = resp.get("Failed") or []
        if failed:  # raise so the scheduler's retry policy runs us again; de-duplication makes that safe
            raise RuntimeError(f"{len(failed)} import job(s) could not be queued")
        return len(entries)
