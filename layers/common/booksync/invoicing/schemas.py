from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import Field

from booksync.invoicing.models import InvoiceStatus, PaymentMethod
from booksync.schema_base import ApiModel, RequestModel

NUMBER_LIMIT = 21  # QuickBooks DocNumber: the strictest provider limit


class LineIn(RequestModel):
    item_id: str = Field(min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=4000)
    quantity: Decimal = Field(description='Quantity, e.g. "2" or "1.5"')
    unit_price: Decimal = Field(description='Unit price as a decimal string, e.g. "125.00"')


class InvoiceCreate(RequestModel):
    number: str = Field(min_length=1, max_length=255, description=f"Invoice number, at most {NUMBER_LIMIT} characters")
    customer_id: str = Field(min_length=1, max_length=64)
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    lines: list[LineIn] = Field(max_length=250)
    status: InvoiceStatus | None = Field(default=None, description="DRAFT (default) or SENT")


class InvoicePatch(RequestModel):
    number: str | None = Field(default=None, min_length=1, max_length=255)
    customer_id: str | None = Field(default=None, min_length=1, max_length=64)
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    lines: list[LineIn] | None = Field(default=None, max_length=250)
    status: InvoiceStatus | None = None


class PaymentCreate(RequestModel):
    amount: Decimal = Field(description='Amount as a decimal string, e.g. "350.00"')
    method: PaymentMethod
    date: dt.date | None = Field(default=None, description="Defaults to today (UTC)")
    reference: str | None = Field(
        default=None, max_length=255, description="e.g. a check number, at most 21 characters"
    )


class SyncButton(ApiModel):
    label: str
    provider: str


class PaymentOut(ApiModel):
    id: str
    invoice_id: str
    amount: Decimal
    method: PaymentMethod
    date: dt.date
    reference: str | None = None
    provider_ids: dict[str, str]
    sync_status: str
    last_sync_error: dict[str, object] | None = None
    created_at: dt.datetime


class InvoiceLineOut(ApiModel):
    item_id: str
    description: str | None = None
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal


class InvoiceSummary(ApiModel):
    id: str
    number: str
    customer_id: str
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    status: InvoiceStatus
    total: Decimal
    sync_status: str
    provider_ids: dict[str, str]
    created_at: dt.datetime
    updated_at: dt.datetime


class InvoicePage(ApiModel):
    data: list[InvoiceSummary]
    next_cursor: str | None = None
    show_sync_status: bool


class SyncHistoryEntry(ApiModel):
    id: str
    entity_type: str
    entity_id: str
    provider: str
    action: str
    result: str
    provider_id: str | None = None
    error_code: str | None = None
    at: dt.datetime


class InvoiceDetail(InvoiceSummary):
    lines: list[InvoiceLineOut]
    amount_paid: Decimal
    balance: Decimal
    sync_button: SyncButton | None = None
    last_sync_error: dict[str, object] | None = None
    last_synced_at: dt.datetime | None = None
    payments: list[PaymentOut]
    sync_history: list[SyncHistoryEntry] = Field(default_factory=list)
