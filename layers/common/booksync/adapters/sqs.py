"""The sync queues (SQS FIFO): one message group per invoice keeps its pushes in order."""

from __future__ import annotations

import json
from typing import Any

from booksync.ids import iso, utcnow


class SqsSyncQueue:
    def __init__(self, client: Any, invoice_queue_url: str, payment_queue_url: str) -> None:
        self._sqs = client
        self._invoice_url = invoice_queue_url
        self._payment_url = payment_queue_url

    def enqueue_invoice(self, company_id: str, invoice_id: str, *, trigger: str, dedupe: str) -> None:
        body = {"companyId": company_id, "invoiceId": invoice_id, "trigger": trigger, "requestedAt": iso(utcnow())}
        self._send(self._invoice_url, body, group=f"{company_id}#{invoice_id}", dedupe=f"{company_id}#{dedupe}")

    def enqueue_payment(self, company_id: str, invoice_id: str, payment_id: str) -> None:
        body = {"companyId": company_id, "invoiceId": invoice_id, "paymentId": payment_id}
        self._send(self._payment_url, body, group=f"{company_id}#{invoice_id}", dedupe=f"{company_id}#{payment_id}")

    def enqueue_entity(self, company_id: str, kind: str, entity_id: str, *, dedupe: str) -> None:
        """A customer or item created/edited in BlueClerk (same FIFO queue as invoices, its own message group)."""
        body = {"companyId": company_id, "entityType": kind, "entityId": entity_id, "requestedAt": iso(utcnow())}
        self._send(self._invoice_url, body, group=f"{company_id}#{kind}#{entity_id}", dedupe=f"{company_id}#{dedupe}")

    def _send(self, url: str, body: dict[str, Any], *, group: str, dedupe: str) -> None:
        self._sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps(body, separators=(",", ":")),
            MessageGroupId=group[:128],
            MessageDeduplicationId=_dedupe_id(dedupe),
        )


def _dedupe_id(value: str) -> str:
    import hashlib

    # SQS allows 128 characters of [A-Za-z0-9 punctuation]; hash to stay within that for any id.
    return hashlib.sha256(value.encode()).hexdigest()
