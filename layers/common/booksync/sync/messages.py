"""Queue message bodies (DESIGN.md) and the SQS record models the batch processors parse them with."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Msg(BaseModel):
    model_config = ConfigDict(extra="ignore")


class InvoiceSyncMessage(_Msg):
    """An invoice to push, or (``entityType`` + ``entityId``) a customer/item created or edited in BlueClerk."""

    company_id: str = Field(alias="companyId", min_length=1)
    invoice_id: str | None = Field(default=None, alias="invoiceId", min_length=1)
    entity_type: Literal["customer", "item"] | None = Field(default=None, alias="entityType")
    entity_id: str | None = Field(default=None, alias="entityId", min_length=1)
    trigger: str = "sent"
    requested_at: datetime | None = Field(default=None, alias="requestedAt")

    @model_validator(mode="after")
    def _one_target(self) -> InvoiceSyncMessage:
        if not self.invoice_id and not (self.entity_type and self.entity_id):
            raise ValueError("a message needs invoiceId, or entityType and entityId")
        return self


class PaymentSyncMessage(_Msg):
    company_id: str = Field(alias="companyId", min_length=1)
    invoice_id: str = Field(alias="invoiceId", min_length=1)
    payment_id: str = Field(alias="paymentId", min_length=1)


class ImportMessage(_Msg):
    """An import run (``weekly``), or a **backfill** run: push everything not yet in the books (after a connect, or
    ``POST /integrations/{provider}/backfill``). ``continue`` numbers a run's continuation messages."""

    company_id: str = Field(alias="companyId", min_length=1)
    provider: str
    run_id: str = Field(alias="runId")
    kind: Literal["weekly", "backfill"] = "weekly"
    seq: int = Field(default=0, alias="continue", ge=0)


def backfill_message(company_id: str, provider: str, run_id: str, seq: int = 0) -> dict[str, object]:
    """The ImportQueue body of a backfill run (``seq`` > 0: its continuation after a Lambda ran out of time)."""
    body: dict[str, object] = {"companyId": company_id, "provider": provider, "runId": run_id, "kind": "backfill"}
    if seq:
        body["continue"] = seq
    return body


class ScheduleEvent(_Msg):
    source: str = "blueclerk.scheduler"
    job: Literal["weekly_sync"] = "weekly_sync"
