"""Invoices (with lines) and payments."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from booksync.schema_base import ApiModel


class InvoiceStatus(StrEnum):
    DRAFT = "DRAFT"
    SENT = "SENT"
    PAID = "PAID"
    VOID = "VOID"


class SyncStatus(StrEnum):
    SYNCED = "synced"
    NOT_SYNCED = "not_synced"
    FAILED = "failed"


class PaymentMethod(StrEnum):
    CASH = "cash"
    CHECK = "check"
    CARD = "card"
    ACH = "ach"
    OTHER = "other"


class SyncError(ApiModel):
    code: str
    message: str
    provider: str | None = None
    at: datetime


class InvoiceLine(ApiModel):
    item_id: str
    description: str | None = None
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class Invoice(ApiModel):
    id: str
    number: str
    customer_id: str
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    status: InvoiceStatus = InvoiceStatus.DRAFT
    lines: list[InvoiceLine]
    total: Decimal
    provider_ids: dict[str, str] = Field(default_factory=dict)
    provider_sync_tokens: dict[str, str] = Field(default_factory=dict)
    sync_status: SyncStatus = SyncStatus.NOT_SYNCED
    last_sync_error: SyncError | None = None
    last_synced_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 0
    pushed_version: int | None = Field(default=None, exclude=True)  # the version last pushed (debounce)


# One provider-id field per provider on every payment row (the exactly-once anchor of the sync engine).
PAYMENT_PROVIDER_ID_FIELDS: dict[str, str] = {
    "quickbooks": "quickbooks_payment_id",
    "xero": "xero_payment_id",
    "freshbooks": "freshbooks_payment_id",
    "wave": "wave_payment_id",
}


class Payment(ApiModel):
    id: str
    invoice_id: str
    amount: Decimal
    method: PaymentMethod
    date: dt.date
    reference: str | None = None
    quickbooks_payment_id: str | None = None
    xero_payment_id: str | None = None
    freshbooks_payment_id: str | None = None
    wave_payment_id: str | None = None
    last_sync_error: SyncError | None = None
    created_at: datetime

    def provider_ids(self) -> dict[str, str]:
        return {p: v for p, f in PAYMENT_PROVIDER_ID_FIELDS.items() if (v := getattr(self, f))}
