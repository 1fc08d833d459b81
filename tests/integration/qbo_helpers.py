"""Shared set-up for tests that talk to the QuickBooks sandbox over HTTP, with moto server for AWS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from local.sandbox.server import SandboxServer
from tests.helpers import http_event, invoke, pace_on_sandbox_clock
from tests.integration.conftest import load_function
from tests.moto_server import moto_server


@contextmanager
def qbo_world() -> Iterator[dict[str, Any]]:
    """moto server + the provider sandbox, with the process environment pointed at both."""
    from booksync import wiring

    with moto_server() as aws, SandboxServer() as sandbox:
        env = sandbox.env("quickbooks")
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        wiring.reset()
        pace_on_sandbox_clock(sandbox)
        try:
            yield {"aws": aws, "sandbox": sandbox, "url": sandbox.url}
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            wiring.reset()


def connect_quickbooks(company: str, realm_hint: str | None = None) -> str:
    """Walk the real flow: connect → sandbox consent (302 with code, state, realmId) → our callback."""
    api = load_function("api").lambda_handler
    r = invoke(
        api,
        http_event(
            "api/list_integrations.json", method="POST", path="/integrations/quickbooks/connect", company=company
        ),
    )
    assert r.status == 200, r.body
    url = r.body["authorizeUrl"]
    consent = httpx.get(url, follow_redirects=False)
    assert consent.status_code == 302, consent.text
    location = urlparse(consent.headers["location"])
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    callback = load_function("oauth_callback").lambda_handler
    done = invoke(callback, http_event("oauth_callback/quickbooks_callback.json", query=params, company=None))
    assert done.status == 302
    assert done.headers["location"].endswith("?connected=quickbooks"), done.headers["location"]
    return params["realmId"]


def drain(sqs: Any, queue_url: str, function: str, rounds: int = 10) -> list[dict[str, Any]]:
    """Feed a queue's messages to a consumer as real SQS batches; delete what succeeded. Returns the responses."""
    import json as _json

    from tests.helpers import LambdaContext

    handler = load_function(function).lambda_handler
    responses = []
    for _ in range(rounds):
        msgs = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not msgs:
            break
        arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": m["Attributes"],
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": "us-east-1",
                }
                for m in msgs
            ]
        }
        resp = handler(event, LambdaContext())
        responses.append(resp)
        failed = {f["itemIdentifier"] for f in resp.get("batchItemFailures", [])}
        for m in msgs:
            if m["MessageId"] not in failed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        _json.dumps(resp)
    return responses


def tenant(sandbox_url: str, realm: str) -> dict[str, Any]:
    r = httpx.get(f"{sandbox_url}/_sandbox/quickbooks/tenants/{realm}")
    r.raise_for_status()
    return dict(r.json())


def map_default_income_account(company: str) -> str:
    api = load_function("api").lambda_handler
    accounts = invoke(
        api, http_event("api/list_integrations.json", path="/integrations/quickbooks/accounts", company=company)
    )
    assert accounts.status == 200, accounts.body
    account = accounts.body["data"][0]["id"]
    body = {"quickbooks": {"defaultAccountId": account, "items": {}}}
    assert invoke(api, http_event("api/put_account_mappings.json", body=body, company=company)).status == 200
    return str(account)
