"""Feed SQS batches to the consumer functions like the Lambda event source mapping does.

One thread per SQS event source of the template. Each loop receives up to ``BatchSize`` messages (at most 10),
builds a real SQS Lambda event, invokes the handler in-process and then:
- deletes every record the handler did not report in ``batchItemFailures`` (only read when the event source has
  ``FunctionResponseTypes: [ReportBatchItemFailures]``; an unknown/empty ``itemIdentifier`` fails the whole batch,
  as in Lambda);
- treats a raised exception as the whole batch failing;
- makes failed records visible again after ``retry_delay`` seconds (local default 1 s, env ``LOCAL_SQS_RETRY_DELAY``)
  instead of the queue's VisibilityTimeout (minutes), so a poison message reaches its DLQ after the template's
  ``maxReceiveCount`` in seconds. The redrive itself is the queue's own (moto applies RedrivePolicy on receive).
  Records the consumer deferred itself (``booksync.ratelimit.deferred_receipts``) keep the visibility it set.
"""

from __future__ import annotations

import base64
import logging
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from local.stack.invoke import FunctionRuntime

log = logging.getLogger("local.stack")

# System attributes Lambda passes through in ``Records[].attributes``.
_LAMBDA_ATTRIBUTES = (
    "ApproximateReceiveCount",
    "SentTimestamp",
    "SenderId",
    "ApproximateFirstReceiveTimestamp",
    "SequenceNumber",
    "MessageGroupId",
    "MessageDeduplicationId",
    "AWSTraceHeader",
    "DeadLetterQueueSourceArn",
)


def sqs_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One ``Records[]`` entry of an SQS Lambda event, from a ReceiveMessage result."""
    attributes = {k: str(v) for k, v in (message.get("Attributes") or {}).items() if k in _LAMBDA_ATTRIBUTES}
    now_ms = str(int(time.time() * 1000))
    attributes.setdefault("ApproximateReceiveCount", "1")
    attributes.setdefault("SentTimestamp", now_ms)
    attributes.setdefault("SenderId", "AIDAIENQZJOLO23YVJ4VO")
    attributes.setdefault("ApproximateFirstReceiveTimestamp", now_ms)
    message_attributes: dict[str, Any] = {}
    for name, value in (message.get("MessageAttributes") or {}).items():
        attr: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
        if "StringValue" in value:
            attr["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            attr["binaryValue"] = base64.b64encode(raw).decode() if isinstance(raw, bytes) else str(raw)
        message_attributes[name] = attr
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def failed_message_ids(result: Any, message_ids: list[str], *, report_batch_item_failures: bool) -> set[str]:
    """Which records of a batch failed, from the handler's return value (Lambda's partial batch response rules)."""
    if not report_batch_item_failures or not isinstance(result, dict) or result.get("batchItemFailures") is None:
        return set()
    failures = result["batchItemFailures"]
    if not isinstance(failures, list):
        return set(message_ids)
    failed: set[str] = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            log.warning("invalid batchItemFailures entry %r: the whole batch is retried", failure)
            return set(message_ids)
        failed.add(identifier)
    return failed


def _deferred(receipt_handle: str) -> bool:
    """Did the consumer defer this record itself (a provider's day limit: visibility set to hours)? Lambda leaves a
    failed record's visibility alone, so the local retry shortening must not undo that deferral."""
    ratelimit = sys.modules.get("booksync.ratelimit")
    return ratelimit is not None and ratelimit.deferred_receipts.pop(receipt_handle) is not None


@dataclass
class BatchOutcome:
    received: int
    failed: int


class QueuePoller:
    """Polls one queue for one function (one SQS event source of the template)."""

    def __init__(
        self,
        *,
        sqs: Any,
        runtime: FunctionRuntime,
        queue_url: str,
        queue_arn: str,
        batch_size: int,
        report_batch_item_failures: bool,
        region: str,
        retry_delay: int = 1,
        idle_sleep: float = 0.2,
        name: str = "",
    ) -> None:
        self.sqs = sqs
        self.runtime = runtime
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.batch_size = max(1, min(int(batch_size), 10))
        self.report_batch_item_failures = report_batch_item_failures
        self.region = region
        self.retry_delay = int(retry_delay)
        self.idle_sleep = idle_sleep
        self.name = name or f"{runtime.logical_id}<-{queue_arn.rsplit(':', 1)[-1]}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy = threading.Event()

    @property
    def busy(self) -> bool:
        return self._busy.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"poller:{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                outcome = self.poll_once()
            except Exception:
                if self._stop.is_set():
                    break
                log.exception("poller %s: receive failed", self.name)
                outcome = BatchOutcome(0, 0)
            if outcome.received == 0:
                self._stop.wait(self.idle_sleep)

    def poll_once(self) -> BatchOutcome:
        self._busy.set()
        try:
            response = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.batch_size,
                WaitTimeSeconds=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            messages = response.get("Messages") or []
            if not messages:
                return BatchOutcome(0, 0)
            return self._process(messages)
        finally:
            self._busy.clear()

    def _process(self, messages: list[dict[str, Any]]) -> BatchOutcome:
        event = {"Records": [sqs_record(m, queue_arn=self.queue_arn, region=self.region) for m in messages]}
        ids = [m["MessageId"] for m in messages]
        try:
            result = self.runtime.invoke(event)
            failed = failed_message_ids(result, ids, report_batch_item_failures=self.report_batch_item_failures)
        except Exception:
            log.exception(
                "%s raised on a batch of %d from %s: the whole batch is retried",
                self.runtime.logical_id,
                len(ids),
                self.queue_arn.rsplit(":", 1)[-1],
            )
            failed = set(ids)
        done = [m for m in messages if m["MessageId"] not in failed]
        retry = [m for m in messages if m["MessageId"] in failed and not _deferred(m["ReceiptHandle"])]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        if retry:
            self.sqs.change_message_visibility_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": self.retry_delay}
                    for i, m in enumerate(retry)
                ],
            )
            log.info(
                "%s: %d of %d record(s) failed; visible again in %ss",
                self.name,
                len(retry),
                len(messages),
                self.retry_delay,
            )
        return BatchOutcome(len(messages), len(retry))
