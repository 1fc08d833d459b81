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
    company_id: str = Field(alias="companyId", min_length=1)
    provider: str
    run_id: str = Field(alias="runId")
    kind: Literal["weekly"] = "weekly"


class ScheduleEvent(_Msg):
    source: str = "blueclerk.scheduler"
    job: Literal["weekly_sync"] = "weekly_sync"
