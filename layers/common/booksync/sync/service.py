"""Entry points of the sync engine used by the handlers (Sync button, queue consumers, DLQ consumer).

The provider-independent engine behind the ``Provider`` port lands with the QuickBooks issues; until a provider is
connected every entry point answers ``not_connected`` (HTTP) or records a skip (queues) — nothing is dropped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from booksync.errors import Conflict, NotFound
from booksync.integrations.models import Connection
from booksync.invoicing.models import Invoice, Payment
from booksync.invoicing.service import primary_connection
from booksync.observability import logger


class InvoiceReader(Protocol):
    def get(self, company_id: str, invoice_id: str) -> Invoice: ...
    def get_payment(self, company_id: str, invoice_id: str, payment_id: str) -> Payment | None: ...


class ConnectionReader(Protocol):
    def for_company(self, company_id: str) -> list[Connection]: ...


class Notifier(Protocol):
    def notify(
        self,
        company_id: str,
        *,
        code: str,
        message: str,
        provider: str | None = None,
        entity_type: str | None = None,
        entity_id: str | None = None,
    ) -> Any: ...


@dataclass(frozen=True)
class SyncService:
    invoices: InvoiceReader
    connections: ConnectionReader
    notifier: Notifier

    def sync_now(self, company_id: str, invoice_id: str) -> dict[str, Any]:
        self.invoices.get(company_id, invoice_id)  # 404 for unknown or other-company ids
        conn = primary_connection(self.connections.for_company(company_id))
        if conn is None:
            raise Conflict(
                "No accounting provider is connected; connect one in Settings > Integrations, then click Sync.",
                code="not_connected",
            )
        raise Conflict(f"Syncing to {conn.provider} is not available in this build yet.", code="not_connected")

    def handle_invoice_message(self, company_id: str, invoice_id: str, trigger: str) -> str:
        self.invoices.get(company_id, invoice_id)
        if primary_connection(self.connections.for_company(company_id)) is None:
            logger.info("invoice sync skipped", reason="not_connected", trigger=trigger)
            return "skipped"
        raise Conflict("No sync engine for the connected provider in this build.", code="not_connected")

    def handle_payment_message(self, company_id: str, invoice_id: str, payment_id: str) -> str:
        self.invoices.get(company_id, invoice_id)
        if primary_connection(self.connections.for_company(company_id)) is None:
            logger.info("payment sync skipped", reason="not_connected")
            return "skipped"
        raise Conflict("No sync engine for the connected provider in this build.", code="not_connected")

    def handle_import_message(self, company_id: str, provider: str, run_id: str) -> str:
        logger.info("import skipped", reason="no importer for provider in this build", provider=provider)
        return "skipped"

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
        except NotFound:
            return None
        return None
