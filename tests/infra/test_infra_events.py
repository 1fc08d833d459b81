"""The SQS and Scheduler event files (for `sam local invoke -e` and tests) are real-shaped, with DESIGN bodies."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel

from local.stack.template import REPO_ROOT

EVENTS = REPO_ROOT / "events"
# docs/DESIGN.md "Message bodies": event folder -> (queue the records come from, body keys)
SQS_EVENTS = {
    "sync_invoice": ({"InvoiceSyncQueue"}, {"companyId", "invoiceId", "trigger", "requestedAt"}),
    "sync_payments": ({"PaymentSyncQueue"}, {"companyId", "invoiceId", "paymentId"}),
    "import_changes": ({"ImportQueue"}, {"companyId", "provider", "runId", "kind"}),
    "notify_failures": ({"InvoiceSyncDLQ", "PaymentSyncDLQ", "ImportDLQ"}, None),
}
SQS_FILES = sorted(p for folder in SQS_EVENTS for p in (EVENTS / folder).glob("sqs_*.json"))


def _queue_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1].removesuffix(".fifo")


@pytest.mark.parametrize("path", SQS_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sqs_event_file_is_a_real_fifo_sqs_event(path: Path) -> None:
    event: dict[str, Any] = json.loads(path.read_text())
    SqsModel.model_validate(event)
    queues, keys = SQS_EVENTS[path.parent.name]
    for record in event["Records"]:
        assert _queue_name(record["eventSourceARN"]) in queues
        assert record["eventSource"] == "aws:sqs"
        assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
        attributes = record["attributes"]
        assert attributes["MessageGroupId"] and attributes["MessageDeduplicationId"] and attributes["SequenceNumber"]
        body = json.loads(record["body"])
        if keys is not None:
            assert set(body) == keys
        assert attributes["MessageGroupId"].startswith(body["companyId"] + "#")


def test_every_sqs_consumer_has_one_record_and_two_record_events() -> None:
    for folder in SQS_EVENTS:
        sizes = {len(json.loads(p.read_text())["Records"]) for p in (EVENTS / folder).glob("sqs_*.json")}
        assert {1, 2} <= sizes, folder


def test_notify_failures_events_cover_every_dlq() -> None:
    arns = {
        _queue_name(r["eventSourceARN"])
        for p in (EVENTS / "notify_failures").glob("sqs_*.json")
        for r in json.loads(p.read_text())["Records"]
    }
    assert arns == SQS_EVENTS["notify_failures"][0]


def test_event_bodies_parse_with_the_consumer_models() -> None:
    from aws_lambda_powertools.utilities.parser.models import SqsRecordModel

    from booksync.sync import messages

    models = {
        "sync_invoice": messages.InvoiceSyncMessage,
        "sync_payments": messages.PaymentSyncMessage,
        "import_changes": messages.ImportMessage,
    }
    for folder, model in models.items():
        for path in (EVENTS / folder).glob("sqs_*.json"):
            for record in json.loads(path.read_text())["Records"]:
                SqsRecordModel.model_validate(record)  # the Lambda SQS record shape
                model.model_validate_json(record["body"])  # the body our consumer parses


def test_weekly_sync_event_is_the_schedule_input(repo_template: Any) -> None:
    event = json.loads((EVENTS / "weekly_sync" / "scheduled.json").read_text())
    (schedule,) = repo_template.schedules()
    assert event == json.loads(schedule.properties["Input"]) == {"source": "blueclerk.scheduler", "job": "weekly_sync"}
