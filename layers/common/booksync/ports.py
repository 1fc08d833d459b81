"""Ports the domain depends on (implemented in ``booksync.adapters``; tests may pass in-memory fakes)."""

from __future__ import annotations

from typing import Any, Protocol


class SyncQueue(Protocol):
    def enqueue_invoice(self, company_id: str, invoice_id: str, *, trigger: str, dedupe: str) -> None: ...

    def enqueue_payment(self, company_id: str, invoice_id: str, payment_id: str) -> None: ...

    def enqueue_entity(self, company_id: str, kind: str, entity_id: str, *, dedupe: str) -> None: ...


class Notifier(Protocol):
    """Raises a (de-duplicated) notification a person must act on."""

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
