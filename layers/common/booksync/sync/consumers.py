"""SQS consumers: partial batch responses (a failed record is retried, then redriven to its DLQ)."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from booksync.errors import NotFound
from booksync.observability import logger
from booksync.sync.messages import ImportMessage, InvoiceSyncMessage, PaymentSyncMessage
from booksync.wiring import sync_service


def _invoice_record(record: SQSRecord) -> str:
    msg = InvoiceSyncMessage.model_validate_json(record.body)
    try:
        if msg.entity_type and msg.entity_id:
            return str(sync_service().handle_entity_message(msg.company_id, msg.entity_type, msg.entity_id))
        assert msg.invoice_id is not None
        logger.append_keys(invoice_id=msg.invoice_id)
        return str(sync_service().handle_invoice_message(msg.company_id, msg.invoice_id, msg.trigger))
    except NotFound:
        logger.error("sync message for an entity that does not exist; dropped", message_id=record.message_id)
        return "gone"


def _payment_record(record: SQSRecord) -> str:
    msg = PaymentSyncMessage.model_validate_json(record.body)
    logger.append_keys(invoice_id=msg.invoice_id, payment_id=msg.payment_id)
    try:
        return str(sync_service().handle_payment_message(msg.company_id, msg.invoice_id, msg.payment_id))
    except NotFound:
        logger.error("sync message for an entity that does not exist; dropped", message_id=record.message_id)
        return "gone"


def _import_record(record: SQSRecord) -> str:
    msg = ImportMessage.model_validate_json(record.body)
    logger.info("import job received", provider=msg.provider, run_id=msg.run_id)
    return str(sync_service().handle_import_message(msg.company_id, msg.provider, msg.run_id))


def _dead_letter(record: SQSRecord) -> None:
    """Turn a message that exhausted its retries into one (de-duplicated) notification."""
    body = json.loads(record.body)
    company = body.get("companyId")
    if not company:
        logger.error("dead letter without company", message_id=record.message_id)
        return
    if body.get("paymentId"):
        entity_type, entity_id = "payment", body["paymentId"]
    elif body.get("entityType") and body.get("entityId"):
        entity_type, entity_id = body["entityType"], body["entityId"]
    elif body.get("invoiceId"):
        entity_type, entity_id = "invoice", body["invoiceId"]
    else:
        entity_type, entity_id = "import", body.get("provider", "unknown")
    sync_service().dead_letter(company, entity_type, entity_id, body)


def _report_all(processor: Any) -> Any:
    """Report every failed record in batchItemFailures, even when all failed (same effect as raising, without
    turning the invocation into an error; the records are retried and, after maxReceiveCount, dead-lettered)."""
    processor.raise_on_entire_batch_failure = False
    return processor


def invoice_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    # skip_group_on_error: one invoice's failure holds back only that invoice's later messages, not other invoices
    processor = _report_all(SqsFifoPartialProcessor(skip_group_on_error=True))
    return process_partial_response(event=event, record_handler=_invoice_record, processor=processor, context=context)


def payment_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    processor = _report_all(SqsFifoPartialProcessor(skip_group_on_error=True))
    return process_partial_response(event=event, record_handler=_payment_record, processor=processor, context=context)


def import_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    processor = _report_all(SqsFifoPartialProcessor(skip_group_on_error=True))
    return process_partial_response(event=event, record_handler=_import_record, processor=processor, context=context)


def dead_letter_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    processor = _report_all(BatchProcessor(event_type=EventType.SQS))
    return process_partial_response(event=event, record_handler=_dead_letter, processor=processor, context=context)
