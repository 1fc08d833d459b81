"""Shared set-up for tests that talk to the FreshBooks sandbox over HTTP, with moto server for AWS."""

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
from tests.integration.qbo_helpers import drain
from tests.moto_server import moto_server

PROVIDER = "freshbooks"
__all__ = ["PROVIDER", "drain"]  # plus every function below


@contextmanager
def freshbooks_world() -> Iterator[dict[str, Any]]:
    """moto server + the provider sandbox, with the process environment pointed at both."""
    from booksync import wiring

    with moto_server() as aws, SandboxServer() as sandbox:
        env = sandbox.env(PROVIDER)
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


def connect(provider: str, company: str) -> dict[str, str]:
    """Walk the real flow: connect → sandbox consent (302 with code + state) → our callback. Returns the params."""
    api = load_function("api").lambda_handler
    r = invoke(
        api,
        http_event(
            "api/list_integrations.json", method="POST", path=f"/integrations/{provider}/connect", company=company
        ),
    )
    assert r.status == 200, r.body
    consent = httpx.get(r.body["authorizeUrl"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    params = {k: v[0] for k, v in parse_qs(urlparse(consent.headers["location"]).query).items()}
    assert "code" in params, params
    callback = load_function("oauth_callback").lambda_handler
    event = http_event(
        "oauth_callback/quickbooks_callback.json",
        path=f"/integrations/{provider}/callback",
        query=params,
        company=None,
    )
    event["pathParameters"] = {"provider": provider}
    done = invoke(callback, event)
    assert done.status == 302
    assert done.headers["location"].endswith(f"?connected={provider}"), done.headers["location"]
    return params


def connect_freshbooks(company: str) -> str:
    """Connect through the consent flow; answers the FreshBooks account_id the connection is bound to."""
    connect(PROVIDER, company)
    listed = invoke(load_function("api").lambda_handler, http_event("api/list_integrations.json", company=company))
    row = next(p for p in listed.body["data"] if p["provider"] == PROVIDER)
    assert row["status"] == "connected", row
    return str(row["tenantId"])


def map_default_income_account(provider: str, company: str) -> str:
    api = load_function("api").lambda_handler
    accounts = invoke(
        api, http_event("api/list_integrations.json", path=f"/integrations/{provider}/accounts", company=company)
    )
    assert accounts.status == 200, accounts.body
    account = accounts.body["data"][0]["id"]
    body = {provider: {"defaultAccountId": account, "items": {}}}
    assert invoke(api, http_event("api/put_account_mappings.json", body=body, company=company)).status == 200
    return str(account)


def tenant(sandbox_url: str, account_id: str) -> dict[str, Any]:
    r = httpx.get(f"{sandbox_url}/_sandbox/{PROVIDER}/tenants/{account_id}")
    r.raise_for_status()
    return dict(r.json())


def fault(sandbox_url: str, provider: str, **spec: Any) -> dict[str, Any]:
    r = httpx.post(f"{sandbox_url}/_sandbox/faults", json={"provider": provider, **spec})
    r.raise_for_status()
    return dict(r.json())


def advance_clock(sandbox_url: str, seconds: float) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/clock", json={"advance": seconds}).raise_for_status()


def send(api: Any, invoice_id: str, company: str = "co_a") -> None:
    r = invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{invoice_id}/send", company=company))
    assert r.status == 200, r.body


def pay(api: Any, invoice_id: str, amount: str, method: str = "check", company: str = "co_a") -> dict[str, Any]:
    r = invoke(
        api,
        http_event(
            "api/record_payment.json",
            path=f"/invoices/{invoice_id}/payments",
            body={"amount": amount, "method": method, "reference": "CHK-1"},
            company=company,
        ),
    )
    assert r.status == 201, r.body
    return dict(r.body)


def resync(invoice_id: str, company: str = "co_a") -> Any:
    sync = load_function("sync_invoice").lambda_handler
    return invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{invoice_id}/sync", company=company))


def drain_to_dead_letter(sqs: Any, queue_url: str, function: str, deliveries: int = 6) -> None:
    """Deliver a failing queue's messages until SQS moves them to the DLQ (maxReceiveCount 5), without waiting for
    the visibility timeout: a failed message is made visible again at once, as its timeout expiring would."""
    from tests.helpers import LambdaContext

    handler = load_function(function).lambda_handler
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for _ in range(deliveries):
        msgs = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not msgs:
            return
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
        failed = {f["itemIdentifier"] for f in handler(event, LambdaContext()).get("batchItemFailures", [])}
        for m in msgs:
            if m["MessageId"] in failed:
                sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])


def notifications(company: str = "co_a") -> dict[str, Any]:
    api = load_function("api").lambda_handler
    return dict(invoke(api, http_event("api/list_notifications.json", company=company)).body)


# ---- imports (tests/integration/test_import_freshbooks.py, test_import_soak_freshbooks.py) -------------------------
def fb_sandbox(world: dict[str, Any]) -> Any:
    return world["sandbox"].core.providers[PROVIDER]


def fb_seed(world: dict[str, Any], account: str, kind: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create objects (kind: client, item, invoice, payment) through the sandbox's own validation, under its lock;
    answers them as the API renders them (with invoice lines)."""
    core, sandbox = world["sandbox"].core, fb_sandbox(world)
    with core.lock:
        business = sandbox.businesses[account]
        made = [getattr(sandbox, f"_create_{kind}")(business, dict(body)) for body in bodies]
        return [sandbox.render(business, kind, obj, lines=True) for obj in made]


def fb_update(world: dict[str, Any], account: str, kind: str, object_id: int, **changes: Any) -> dict[str, Any]:
    core, sandbox = world["sandbox"].core, fb_sandbox(world)
    with core.lock:
        business = sandbox.businesses[account]
        obj = getattr(sandbox, f"_update_{kind}")(business, business.objects[kind][int(object_id)], changes)
        return dict(sandbox.render(business, kind, obj, lines=True))


def configure(sandbox_url: str, **knobs: Any) -> dict[str, Any]:
    r = httpx.post(f"{sandbox_url}/_sandbox/{PROVIDER}/config", json=knobs)
    r.raise_for_status()
    return dict(r.json())


def last_seq(sandbox_url: str) -> int:
    return int(httpx.get(f"{sandbox_url}/_sandbox/requests", params={"provider": PROVIDER}).json()["last_seq"])


def list_calls(sandbox_url: str, since: int) -> list[dict[str, Any]]:
    """Accounting list requests received since ``since`` (token calls, identity and control calls excluded), each
    with ``kind`` (the resource's last path segment: clients, items, invoices, payments) and ``params``."""
    rows = httpx.get(f"{sandbox_url}/_sandbox/requests", params={"provider": PROVIDER, "since": since}).json()
    out = []
    for r in rows["requests"]:
        if "/accounting/account/" in r["path"]:
            params = {k: v[-1] for k, v in parse_qs(r["query"] or "").items()}
            out.append({**r, "kind": r["path"].rstrip("/").rsplit("/", 1)[-1], "params": params})
    return out
