"""Entry points of the sync engine used by the handlers (Sync button, queue consumers, DLQ consumer).

Queue consumers re-raise what is worth retrying (SQS retries, then the DLQ consumer notifies) and finish messages
whose failure needs a person (the engine has already raised the notification).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from booksync.config import check_provider
from booksync.errors import AppError, Conflict, NotFound, UpstreamError
from booksync.ids import new_id
from booksync.integrations.models import Connection, ConnectionStatus
from booksync.integrations.tokens import needs_reauth_error, not_connected_error
from booksync.invoicing.models import Invoice, Payment
from booksync.observability import logger
from booksync.ports import Notifier
from booksync.sync.engine import SyncFailed


class InvoiceReader(Protocol):
    def get(self, company_id: str, invoice_id: str) -> Invoice: ...
    def get_payment(self, company_id: str, invoice_id: str, payment_id: str) -> Payment | None: ...


class ConnectionReader(Protocol):
    def for_company(self, company_id: str) -> list[Connection]: ...


@dataclass(frozen=True)
class SyncService:
    invoices: InvoiceReader
    connections: ConnectionReader
    notifier: Notifier
    engine: Any = None  # SyncEngine
    customers: Any = None  # CustomerRepository (last errors of dead-lettered customer pushes)
    items: Any = None  # ItemRepository
    # () -> ImportService (booksync.imports.service); a factory, so messages that import nothing never load it
    imports: Callable[[], Any] | None = None
    enqueue_backfill: Callable[[str, str, str, int], None] | None = None  # (company, provider, run id, seq)

    def sync_now(self, company_id: str, invoice_id: str) -> dict[str, Any]:
        """The Sync / Resync button: push now and answer the outcome (SyncFailed carries it on failure)."""
        return dict(self.engine.sync_invoice(company_id, invoice_id))  # 404 for unknown or other-company ids

    def handle_invoice_message(self, company_id: str, invoice_id: str, trigger: str) -> str:
        try:
            outcome = self.engine.sync_invoice(company_id, invoice_id)
        except SyncFailed as exc:
            if exc.retryable:
                raise  # SQS retries it; after maxReceiveCount the DLQ consumer notifies
            return "failed"  # a person must act; the notification is already raised
        except AppError as exc:
            if exc.code == "provider_unavailable":
                raise
            if exc.code == "not_connected":
                logger.info("sync skipped", reason="not_connected")
                return "skipped"
            return "failed"
        failed = [p for p in outcome.get("payments", []) if p.get("status") == "failed"]
        return "synced" if not failed else "synced_with_payment_failures"

    def handle_entity_message(self, company_id: str, kind: str, entity_id: str) -> str:
        try:
            outcome = self.engine.sync_entity(company_id, kind, entity_id)
        except AppError as exc:
            if exc.code == "provider_unavailable":
                raise
            if exc.code == "not_connected":
                logger.info("sync skipped", reason="not_connected")
                return "skipped"
            return "failed"
        return str(outcome.get("status"))

    def handle_payment_message(self, company_id: str, invoice_id: str, payment_id: str) -> str:
        try:
            outcome = self.engine.sync_payment(company_id, invoice_id, payment_id)
        except SyncFailed as exc:
            if exc.retryable:
                raise
            return "failed"
        except AppError as exc:
            if exc.code == "provider_unavailable":
                raise
            if exc.code == "not_connected":
                logger.info("sync skipped", reason="not_connected")
                return "skipped"
            return "failed"
        if outcome.get("status") == "in_progress":
            raise Conflict("Another request is pushing this payment; retry shortly.", code="in_progress")
        return str(outcome.get("status"))

    def handle_import_message(self, company_id: str, provider: str, run_id: str) -> str:
        """Run (or resume) the import run for (company, provider). Retryable provider failures are raised (SQS
        retries; the run resumes at its checkpoint); a run that nears the time limit re-enqueues itself."""
        if self.imports is None:
            logger.info("import skipped", reason="no import service in this build", provider=provider)
            return "skipped"
        try:
            run = self.imports().run(company_id, provider, run_id)
        except AppError as exc:
            if exc.code != "not_connected":  # not_connected: this provider has no importer in this build
                raise
            logger.info("import skipped", reason=exc.message, provider=provider)
            return "skipped"
        return str(run.status.value)

    def request_backfill(self, company_id: str, provider: str) -> dict[str, Any]:
        """``POST /integrations/{provider}/backfill``: queue a backfill run of the connected provider (202)."""
        check_provider(provider)
        conn = next((c for c in self.connections.for_company(company_id) if c.provider == provider), None)
        if conn is None or conn.status == ConnectionStatus.DISCONNECTED:
            raise not_connected_error(provider)
        if conn.status == ConnectionStatus.NEEDS_REAUTH:
            raise needs_reauth_error(provider)
        run_id = new_id("bf")
        assert self.enqueue_backfill is not None
        self.enqueue_backfill(company_id, provider, run_id, 0)
        logger.info("backfill queued", provider=provider, run_id=run_id)
        return {"runId": run_id, "provider": provider, "status": "queued"}

    def handle_backfill_message(self, company_id: str, provider: str, run_id: str, seq: int = 0) -> str:
        """Run (or continue) a backfill. It stops between batches before the Lambda's time limit and queues its own
        continuation; what it pushed is linked, so the continuation (or an SQS retry) skips it."""
        from booksync.imports.budget import REMAINING_MS  # the import Lambda's time budget (time_budget())

        getter = REMAINING_MS.get()
        time_left = (lambda: getter() / 1000.0) if getter is not None else None
        try:
            result = self.engine.backfill(company_id, provider, time_left=time_left)
        except AppError as exc:
            if exc.code in ("not_connected", "needs_reauth"):
                logger.info("backfill skipped", reason=exc.code, provider=provider)
                return "skipped"
            raise  # provider_unavailable and the unexpected: SQS retries; the links make the retry resume
        status = str(result.get("status"))
        logger.info("backfill step", provider=provider, run_id=run_id, seq=seq, status=status,
                    pushed=result.get("pushed"), failed=result.get("failed"))  # fmt: skip
        if status == "continued":
            if not result.get("pushed") and result.get("failed"):
                # Nothing went through this time (the provider keeps refusing or throttling): continuing at once would
                # only repeat it. SQS retries this message after its visibility timeout, and a run that never moves
                # again ends in the DLQ as one notification; what was pushed stays linked either way.
                raise UpstreamError(
                    f"The backfill to {provider} made no progress in this step ({result.get('failed')} failed); "
                    "it is retried later.",
                    details=[{"runId": run_id, "seq": seq}],
                )
            assert self.enqueue_backfill is not None
            self.enqueue_backfill(company_id, provider, run_id, seq + 1)
        return status

    def dead_letter(self, company_id: str, entity_type: str, entity_id: str, message: dict[str, Any]) -> None:
        """A message that exhausted its retries: one notification carrying the entity's last error."""
        last = self._last_error(company_id, entity_type, entity_id, message)
        provider = last.provider if last else message.get("provider")
        why = f"{last.message} " if last else ""
        self.notifier.notify(
            company_id,
            code=last.code if last else "sync_failed",
            message=f"The {entity_type} could not be synced after several attempts. {why}"
            "Open it and click Resync; if it fails again, check Settings > Integrations.",
            provider=provider,
            entity_type=entity_type,
            entity_id=entity_id,
        )

    def _last_error(self, company_id: str, entity_type: str, entity_id: str, message: dict[str, Any]) -> Any:
        try:
            if entity_type == "invoice":
                return self.invoices.get(company_id, entity_id).last_sync_error
            if entity_type == "payment":
                payment = self.invoices.get_payment(company_id, message.get("invoiceId", ""), entity_id)
                return payment.last_sync_error if payment else None
            if entity_type == "customer" and self.customers is not None:
                return self.customers.get(company_id, entity_id).last_sync_error
            if entity_type == "item" and self.items is not None:
                return self.items.get(company_id, entity_id).last_sync_error
        except NotFound:
            return None
        return None
