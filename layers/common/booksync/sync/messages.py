"""Queue message bodies (DESIGN.md) and the SQS record models the batch processors parse them with."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import BaseModel, ConfigDict, Field, Json


class _Msg(BaseModel):
    model_config = ConfigDict(extra="ignore")


class InvoiceSyncMessage(_Msg):
    company_id: str = Field(alias="companyId", min_length=1)
    invoice_id: str = Field(alias="invoiceId", min_length=1)
    trigger: str = "sent"
    requested_at: datetime | None = Field(default=None, alias="requestedAt")


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


class InvoiceSyncRecord(SqsRecordModel):
    body: Json[InvoiceSyncMessage]  # type: ignore[assignment]


class PaymentSyncRecord(SqsRecordModel):
    body: Json[PaymentSyncMessage]  # type: ignore[assignment]


class ImportRecord(SqsRecordModel):
    body: Json[ImportMessage]  # type: ignore[assignment]
