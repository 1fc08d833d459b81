"""moto server over real HTTP for tests that need state shared across threads (STYLE.md section 11)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import httpx
from moto.server import ThreadedMotoServer


def reset_pynamodb_connections() -> None:
    from booksync.adapters import dynamodb

    for value in vars(dynamodb).values():
        if isinstance(value, type) and issubclass(value, dynamodb.TableRecord):
            value._connection = None  # type: ignore[attr-defined]


@contextmanager
def moto_server() -> Iterator[dict[str, Any]]:
    """Start moto server on a free port, point boto3/pynamodb at it, create the table and the token KMS key."""
    from booksync import wiring
    from booksync.adapters.dynamodb import TableRecord

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    httpx.post(f"{url}/moto-api/reset").raise_for_status()  # moto's backends are process-wide: start clean
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "TOKEN_KMS_KEY_ID")}
    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        reset_pynamodb_connections()
        wiring.reset()
        TableRecord.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        kms = boto3.client("kms")
        key_id = kms.create_key(Description="provider tokens")["KeyMetadata"]["KeyId"]
        os.environ["TOKEN_KMS_KEY_ID"] = key_id
        sqs = boto3.client("sqs")
        queues: dict[str, str] = {}
        for name in ("invoice-sync", "payment-sync", "import"):
            dlq = sqs.create_queue(QueueName=f"{name}-dlq.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            queues[name] = sqs.create_queue(
                QueueName=f"{name}.fifo",
                Attributes={
                    "FifoQueue": "true",
                    "VisibilityTimeout": "2",
                    "RedrivePolicy": f'{{"deadLetterTargetArn":"{arn}","maxReceiveCount":"5"}}',
                },
            )["QueueUrl"]
            queues[f"{name}-dlq"] = dlq
        wiring.reset()
        yield {
            "url": url,
            "kms": kms,
            "key_id": key_id,
            "dynamodb": boto3.client("dynamodb"),
            "sqs": sqs,
            "queues": queues,
        }
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        reset_pynamodb_connections()
        wiring.reset()
        httpx.post(f"{url}/moto-api/reset")  # leave the process-wide backends clean for the next test
        server.stop()
