"""A backfill step decides what happens next: continue at once, stop, or let SQS retry it later."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from booksync.errors import UpstreamError
from booksync.sync.service import SyncService


def _service(step: dict[str, Any]) -> tuple[SyncService, list[tuple[str, str, str, int]]]:
    queued: list[tuple[str, str, str, int]] = []
    engine = SimpleNamespace(backfill=lambda company, provider, time_left=None: step)
    service = SyncService(
        invoices=SimpleNamespace(),  # type: ignore[arg-type]
        connections=SimpleNamespace(),  # type: ignore[arg-type]
        notifier=SimpleNamespace(),  # type: ignore[arg-type]
        engine=engine,
        enqueue_backfill=lambda *args: queued.append(args),
    )
    return service, queued


def test_a_step_that_pushed_something_and_ran_out_of_time_queues_its_continuation() -> None:
    service, queued = _service({"status": "continued", "pushed": {"invoice": 30}, "failed": {"payment": 2}})
    assert service.handle_backfill_message("co_a", "quickbooks", "bf_1", 3) == "continued"
    assert queued == [("co_a", "quickbooks", "bf_1", 4)]


def test_a_step_that_pushed_nothing_is_retried_by_sqs_later_not_requeued_at_once() -> None:
    # The run that stalled in `make bench` (every batch throttled) re-queued itself step after step with nothing
    # pushed; now the message fails, SQS retries it after its visibility timeout, and the DLQ notifies at the end.
    service, queued = _service({"status": "continued", "pushed": {}, "failed": {"payment": 30}})
    with pytest.raises(UpstreamError, match="made no progress"):
        service.handle_backfill_message("co_a", "quickbooks", "bf_1", 7)
    assert queued == []


def test_a_finished_run_queues_nothing() -> None:
    service, queued = _service({"status": "done", "pushed": {"invoice": 2}, "failed": {}})
    assert service.handle_backfill_message("co_a", "xero", "bf_2", 0) == "done"
    assert queued == []
