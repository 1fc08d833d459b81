"""The local SQS event source: real batches and events, partial batch responses, redrive to the DLQ, schedules."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel

from local.stack.poller import failed_message_ids

pytestmark = pytest.mark.moto_server


def _wait_for(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _records(tiny: Any, queue: str) -> list[dict[str, Any]]:
    arn = tiny.stack.resources[queue]["arn"]
    return [r for call in tiny.module("consumer").CALLS for r in call["Records"] if r["eventSourceARN"] == arn]


def _bodies(tiny: Any, queue: str, tag: str) -> list[dict[str, Any]]:
    return [b for b in (json.loads(r["body"]) for r in _records(tiny, queue)) if b.get("tag") == tag]


def _dlq_bodies(tiny: Any, dlq: str) -> list[dict[str, Any]]:
    sqs = tiny.stack.sqs()
    messages = sqs.receive_message(
        QueueUrl=tiny.stack.queue_url(dlq), MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=0
    ).get("Messages", [])
    return [{**json.loads(m["Body"]), "_attributes": m["Attributes"]} for m in messages]


def test_poller_delivers_real_fifo_sqs_events(tiny_stack: Any) -> None:
    # Given a FIFO message with attributes
    tag = uuid.uuid4().hex
    body = json.dumps({"tag": tag})
    tiny_stack.stack.sqs().send_message(
        QueueUrl=tiny_stack.stack.queue_url("WorkQueue"),
        MessageBody=body,
        MessageGroupId="company#invoice",
        MessageDeduplicationId=tag,
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "sent"}},
    )
    # When the poller hands it to the consumer
    record = _wait_for(lambda: [r for r in _records(tiny_stack, "WorkQueue") if tag in r["body"]])[0]
    # Then the record is a real SQS Lambda record
    event = next(c for c in tiny_stack.module("consumer").CALLS if record in c["Records"])
    SqsModel.model_validate(event)
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == tiny_stack.stack.resources["WorkQueue"]["arn"]
    assert record["awsRegion"] == "us-east-1"
    assert record["md5OfBody"] == hashlib.md5(body.encode()).hexdigest()
    assert record["attributes"]["MessageGroupId"] == "company#invoice"
    assert record["attributes"]["MessageDeduplicationId"] == tag
    assert record["attributes"]["SequenceNumber"]
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert int(record["attributes"]["SentTimestamp"]) > 0
    assert record["messageAttributes"]["kind"] == {
        "stringValue": "sent",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert tiny_stack.stack.drain_queues(timeout=10)


def test_poller_partial_batch_failure_redrives_only_the_failed_record(tiny_stack: Any) -> None:
    # Given one batch with a failing record between two good ones (three message groups)
    tag = uuid.uuid4().hex
    entries = [
        {
            "Id": str(i),
            "MessageBody": json.dumps({"tag": tag, "n": i, "fail": i == 1}),
            "MessageGroupId": f"g{i}",
            "MessageDeduplicationId": f"{tag}-{i}",
        }
        for i in range(3)
    ]
    tiny_stack.stack.sqs().send_message_batch(QueueUrl=tiny_stack.stack.queue_url("WorkQueue"), Entries=entries)
    # When the queues drain
    assert tiny_stack.stack.drain_queues(timeout=20)
    # Then the good records ran once, the failed one maxReceiveCount (3) times and then sits in the DLQ
    seen = [b["n"] for b in _bodies(tiny_stack, "WorkQueue", tag)]
    assert sorted(seen) == [0, 1, 1, 1, 2]
    dead = [b for b in _dlq_bodies(tiny_stack, "WorkDLQ") if b.get("tag") == tag]
    assert [b["n"] for b in dead] == [1]
    assert dead[0]["_attributes"]["MessageGroupId"] == "g1"


def test_poller_exception_fails_the_whole_batch(tiny_stack: Any) -> None:
    # Given a batch in which one record makes the handler raise (standard queue, maxReceiveCount 2)
    tag = uuid.uuid4().hex
    entries = [
        {"Id": "ok", "MessageBody": json.dumps({"tag": tag, "n": 0})},
        {"Id": "boom", "MessageBody": json.dumps({"tag": tag, "n": 1, "raise": True})},
    ]
    tiny_stack.stack.sqs().send_message_batch(QueueUrl=tiny_stack.stack.queue_url("PlainQueue"), Entries=entries)
    # When the queues drain
    assert tiny_stack.stack.drain_queues(timeout=20)
    # Then both records were retried until the redrive and both are in the DLQ
    seen = [b["n"] for b in _bodies(tiny_stack, "PlainQueue", tag)]
    assert sorted(seen) == [0, 0, 1, 1]
    assert sorted(b["n"] for b in _dlq_bodies(tiny_stack, "PlainDLQ") if b.get("tag") == tag) == [0, 1]


def test_poller_ignores_batch_item_failures_without_report_batch_item_failures(tiny_stack: Any) -> None:
    tag = uuid.uuid4().hex
    tiny_stack.stack.sqs().send_message(
        QueueUrl=tiny_stack.stack.queue_url("PlainQueue"), MessageBody=json.dumps({"tag": tag, "fail": True})
    )
    assert tiny_stack.stack.drain_queues(timeout=10)
    assert len(_bodies(tiny_stack, "PlainQueue", tag)) == 1


@pytest.mark.parametrize(
    ("result", "failed"),
    [
        (None, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"a", "b"}),
        ({"batchItemFailures": "nope"}, {"a", "b"}),
    ],
)
def test_failed_message_ids_follow_lambda_partial_batch_rules(result: Any, failed: set[str]) -> None:
    assert failed_message_ids(result, ["a", "b"], report_batch_item_failures=True) == failed


def test_weekly_sync_invokes_the_schedule_target_with_its_input(tiny_stack: Any) -> None:
    runs = tiny_stack.stack.fire_schedule()
    assert [(r.schedule, r.function_id, r.result, r.error) for r in runs] == [
        ("ScheduledFunctionWeekly", "ScheduledFunction", {"fannedOut": 2}, None)
    ]
    assert tiny_stack.module("scheduled").EVENTS[-1] == {"source": "tiny.scheduler", "job": "weekly"}


def test_weekly_sync_failure_goes_to_the_on_failure_destination(tiny_stack: Any) -> None:
    # Given the schedule in the Scheduler stand-in now carries a failing input
    scheduler = tiny_stack.stack.client("scheduler")
    detail = scheduler.get_schedule(Name="ScheduledFunctionWeekly")
    keep = {k: detail[k] for k in ("Name", "GroupName", "ScheduleExpression", "FlexibleTimeWindow", "Target")}
    scheduler.update_schedule(**{**keep, "Target": {**detail["Target"], "Input": '{"fail": true}'}})
    try:
        # When it fires
        (run,) = tiny_stack.stack.fire_schedule("ScheduledFunctionWeekly")
    finally:
        scheduler.update_schedule(**keep)
    # Then the error is reported and a Lambda destination record is in the DLQ
    assert isinstance(run.error, RuntimeError)
    messages = tiny_stack.stack.sqs().receive_message(QueueUrl=tiny_stack.stack.queue_url("ScheduleDLQ"))["Messages"]
    record = json.loads(messages[0]["Body"])
    assert record["requestPayload"] == {"fail": True}
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["responsePayload"]["errorType"] == "RuntimeError"


def test_redrive_dlq_moves_messages_back_to_their_source_queue(tiny_stack: Any) -> None:
    # Given a message in the FIFO DLQ (and nothing else there)
    stack = tiny_stack.stack
    sqs = stack.sqs()
    assert stack.drain_queues(timeout=20)
    for dlq in ("WorkDLQ", "PlainDLQ"):
        sqs.purge_queue(QueueUrl=stack.queue_url(dlq))
    tag = uuid.uuid4().hex
    sqs.send_message(
        QueueUrl=stack.queue_url("WorkDLQ"),
        MessageBody=json.dumps({"tag": tag}),
        MessageGroupId="company#invoice-9",
        MessageDeduplicationId=tag,
    )
    # When the DLQs are redriven
    moved = stack.redrive_dlqs()
    # Then it went back to WorkQueue with its group and the consumer processed it
    assert moved == {"WorkDLQ": 1, "PlainDLQ": 0}
    record = _wait_for(lambda: [r for r in _records(tiny_stack, "WorkQueue") if tag in r["body"]])[0]
    assert record["attributes"]["MessageGroupId"] == "company#invoice-9"
    assert stack.drain_queues(timeout=10)
    assert _dlq_bodies(tiny_stack, "WorkDLQ") == []
