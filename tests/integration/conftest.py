from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.helpers import ROOT


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """moto in-process with the table (from the pynamodb model) and the FIFO queues + DLQs."""
    with mock_aws():
        from booksync import wiring
        from booksync.adapters.dynamodb import TableRecord
        from tests.moto_server import reset_pynamodb_connections

        reset_pynamodb_connections()  # a previous test may have pointed cached clients at a moto server
        wiring.reset()
        TableRecord.Meta.table_name = os.environ["TABLE_NAME"]
        TableRecord.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        sqs = boto3.client("sqs")
        queues = {}
        for name in ("invoice-sync", "payment-sync", "import"):
            dlq = sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            queues[name] = sqs.create_queue(
                QueueName=f"{name}.fifo",
                Attributes={
                    "FifoQueue": "true",
                    "RedrivePolicy": f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"5"}}',
                },
            )["QueueUrl"]
            queues[f"{name}-dlq"] = dlq
        yield {"sqs": sqs, "queues": queues}
        wiring.reset()


def load_function(name: str) -> Any:
    """Import functions/<name>/app.py as the Lambda runtime would (layer code on sys.path)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(f"functions.{name}.app")


@pytest.fixture
def api(aws: dict[str, Any]) -> Any:
    return load_function("api").lambda_handler


@pytest.fixture
def sync_fn(aws: dict[str, Any]) -> Any:
    return load_function("sync_invoice").lambda_handler


def receive_all(sqs: Any, url: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not msgs:
            return out
        out.extend(msgs)
        for m in msgs:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
