"""SQS consumers: partial batch responses (a failed record is retried, then redriven to its DLQ)."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from booksync.config import PROVIDER_DISPLAY_NAMES, get_settings
from booksync.errors import NotFound
from booksync.observability import logger
from booksync.ratelimit import DAY, Throttle, clear_observed, deferred_receipts, named_wait, observed
from booksync.sync.messages import ImportMessage, InvoiceSyncMessage, PaymentSyncMessage
from booksync.wiring import notification_service, sqs_client, sync_service


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
    if msg.kind == "backfill":  # push what is not in the books yet (batching; see docs/DESIGN.md "Batching")
        logger.info("backfill job received", provider=msg.provider, run_id=msg.run_id, seq=msg.seq)
        return str(sync_service().handle_backfill_message(msg.company_id, msg.provider, msg.run_id, msg.seq))
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
    return _fifo_batch(event, context, _invoice_record)


def payment_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return _fifo_batch(event, context, _payment_record)


def import_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    # imports and backfills meet the same limits as pushes: a day limit defers the run instead of dead-lettering it
    return _fifo_batch(event, context, _import_record)


def _fifo_batch(event: dict[str, Any], context: Any, handler: Callable[[SQSRecord], str]) -> PartialItemFailureResponse:
    # skip_group_on_error: one entity's failure holds back only its group's later messages, not other groups
    processor = _report_all(SqsFifoPartialProcessor(skip_group_on_error=True))
    sooner: dict[str, tuple[int, str]] = {}  # message group -> (seconds until its failed record is retried, its id)
    response = process_partial_response(
        event=event, record_handler=_deferrable(handler, sooner), processor=processor, context=context
    )
    if sooner:
        _retry_group_sooner(event, response, sooner)
    return response


def dead_letter_batch(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    processor = _report_all(BatchProcessor(event_type=EventType.SQS))
    return process_partial_response(event=event, record_handler=_dead_letter, processor=processor, context=context)


# ---- rate limits: defer instead of hammering (booksync.ratelimit; docs/DESIGN.md "Rate limits") ---------------------
# A provider-named wait longer than this (Xero's day limit, a long Retry-After) is not retried at the queue's pace:
# the message is deferred until then. Shorter waits are the engine's (in-process) or the queue's normal retry.
DEFER_AFTER_SECONDS = 60.0
SQS_MAX_VISIBILITY = 43_200  # 12 h, counted from the message's receipt: the total, not per call
VISIBILITY_MARGIN = 120  # seconds kept below that total (SQS measures from first receipt, moto from sending)
# Every receive counts towards maxReceiveCount (5): from this receive on, a deferred message is replaced by a fresh
# copy (same body and group; the original is acknowledged) so waiting out limits never dead-letters it.
RESEND_FROM_RECEIVE = 3
_visibility_timeouts: dict[str, int] = {}  # queue URL -> its VisibilityTimeout (read once per container)


def _deferrable(
    handler: Callable[[SQSRecord], str], sooner: dict[str, tuple[int, str]] | None = None
) -> Callable[[SQSRecord], str]:
    def run(record: SQSRecord) -> str:
        clear_observed()
        try:
            return handler(record)
        except Exception as exc:
            seen = observed()
            wait = max(named_wait(exc) or 0.0, seen.wait if seen is not None else 0.0)
            if wait <= DEFER_AFTER_SECONDS:
                seconds = _retry_sooner(record, wait) if wait > 0 else None
                if seconds is not None and sooner is not None:
                    sooner[record.attributes.message_group_id or ""] = (seconds, record.message_id)
                raise
            resent = _try_defer(record, wait)
            if resent is None:
                raise
            if seen is not None and seen.problem == DAY:
                _day_limit_notice(record, seen)
            if resent:
                return "deferred"
            raise

    return run


def _queue_url(record: SQSRecord) -> str:
    name = record.event_source_arn.rsplit(":", 1)[-1]
    settings = get_settings()
    for url in (settings.invoice_sync_queue_url, settings.payment_sync_queue_url, settings.import_queue_url):
        if url and url.rsplit("/", 1)[-1] == name:
            return str(url)
    return str(sqs_client().get_queue_url(QueueName=name)["QueueUrl"])


def _try_defer(record: SQSRecord, wait: float) -> bool | None:
    try:
        return _defer(record, wait)
    except Exception:
        logger.exception("deferral failed; the message is retried as usual", message_id=record.message_id)
        return None


def _defer(record: SQSRecord, wait: float) -> bool:
    """Keep the message out of sight until ``wait`` is over. True if it was replaced by a fresh copy (the original
    then counts as done); False if its visibility was extended (it is reported failed, without a new receive)."""
    url = _queue_url(record)
    attrs = record.attributes
    receives = int(attrs.approximate_receive_count or 1)
    sent = float(attrs.sent_timestamp or 0) / 1000.0 or time.time()
    left = SQS_MAX_VISIBILITY - (time.time() - sent) - VISIBILITY_MARGIN
    seconds = int(min(math.ceil(wait) + 1, left))
    if receives >= RESEND_FROM_RECEIVE or seconds < DEFER_AFTER_SECONDS:
        _resend(record, url)
        logger.warning("sync deferred by the provider's limit: re-queued as a fresh message", receives=receives)
        return True
    _hide(url, record.receipt_handle, seconds)
    logger.warning("sync deferred by the provider's limit", seconds=seconds, receives=receives)
    return False


def _retry_sooner(record: SQSRecord, wait: float) -> int | None:
    """A short named wait (a minute limit the step could not wait out in-process, e.g. a backfill step whose batches
    were all throttled): the record comes back when the wait is over instead of after the queue's visibility timeout
    (an import step's is 30 minutes). Only for its first receives: each one counts towards maxReceiveCount, and a
    provider still throttling after that gets the queue's normal pace again (the DLQ stays hours away). Answers the
    seconds set, or None where the queue's own timeout stands."""
    try:
        if int(record.attributes.approximate_receive_count or 1) >= RESEND_FROM_RECEIVE:
            return None
        url = _queue_url(record)
        seconds = math.ceil(wait) + 1
        if seconds >= _visibility_timeout(url):
            return None
        _hide(url, record.receipt_handle, seconds)
        logger.info("retried when the provider's wait is over", seconds=seconds)
        return seconds
    except Exception:
        logger.exception("early retry not set; the message is retried as usual", message_id=record.message_id)
        return None


def _retry_group_sooner(
    event: dict[str, Any], response: PartialItemFailureResponse, sooner: dict[str, tuple[int, str]]
) -> None:
    """The records a FIFO batch skipped after a group's failure stay in flight for the queue's whole visibility
    timeout, and SQS delivers none of a group while any of it is in flight: they come back with the failed one."""
    failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
    for raw in event.get("Records", []):
        record = SQSRecord(raw)
        group = record.attributes.message_group_id or ""
        if record.message_id not in failed or group not in sooner or sooner[group][1] == record.message_id:
            continue
        try:
            _hide(_queue_url(record), record.receipt_handle, sooner[group][0])
        except Exception:
            logger.exception("early retry not set; the message is retried as usual", message_id=record.message_id)


def _visibility_timeout(url: str) -> int:
    if url not in _visibility_timeouts:
        attrs = sqs_client().get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
        _visibility_timeouts[url] = int(attrs["Attributes"]["VisibilityTimeout"])
    return _visibility_timeouts[url]


def _hide(url: str, receipt_handle: str, seconds: int) -> None:
    sqs_client().change_message_visibility(QueueUrl=url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds)
    deferred_receipts.note(receipt_handle, seconds)  # the local poller must not change it


def _resend(record: SQSRecord, url: str) -> None:
    attrs = record.attributes
    original = attrs.message_deduplication_id or record.message_id
    # derived from the original's id: a crash between send and ack re-sends the same id, which FIFO collapses
    dedup = hashlib.sha256(f"{original}#deferred#{record.message_id}".encode()).hexdigest()
    extra: dict[str, Any] = {}
    if attrs.message_group_id:
        extra["MessageGroupId"] = attrs.message_group_id
        extra["MessageDeduplicationId"] = dedup
    sqs_client().send_message(QueueUrl=url, MessageBody=record.body, **extra)


def _day_limit_notice(record: SQSRecord, seen: Throttle) -> None:
    """A day limit needs no action, but syncing visibly pauses: one informational notification per connection
    (the notification store keeps one per provider/entity/code while unread)."""
    try:
        company = json.loads(record.body).get("companyId")
        if not company:
            return
        name = PROVIDER_DISPLAY_NAMES.get(seen.provider, seen.provider)
        until = datetime.fromtimestamp(seen.until, tz=UTC).strftime("%Y-%m-%d %H:%M")
        notification_service().notify(
            company,
            code="provider_rate_limited",
            message=f"{name}'s daily API limit for your organisation is used up, so syncing is paused. It resumes "
            f"automatically after {until} UTC; nothing is lost and there is nothing to do.",
            provider=seen.provider,
            entity_type="connection",
            entity_id=seen.provider,
        )
    except Exception:
        logger.exception("day-limit notification not raised")
