"""Queue consumers, dead letters → one notification, weekly fan-out, OAuth state checks."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from booksync.adapters.dynamodb import ConnectionRecord, company_pk
from booksync.ids import utcnow
from booksync.integrations.models import OAuthState
from tests.helpers import LambdaContext, http_event, invoke
from tests.integration.conftest import load_function, receive_all
from tests.integration.test_api_flow import _setup_invoice


def _sqs_event(bodies: list[dict[str, Any]], queue: str = "invoice-sync.fifo") -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m-{n}",
                "receiptHandle": f"rh-{n}",
                "body": json.dumps(b),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1764000000000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1764000000001",
                    "MessageGroupId": f"{b['companyId']}#{b.get('invoiceId', '')}",
                    "MessageDeduplicationId": f"d-{n}",
                    "SequenceNumber": str(18800000000000000000 + n),
                },
                "messageAttributes": {},
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}",
                "awsRegion": "us-east-1",
            }
            for n, b in enumerate(bodies)
        ]
    }


def _connect(company: str, provider: str = "quickbooks") -> None:
    ConnectionRecord(
        company_pk(company),
        f"CONNECTION#{provider}",
        provider=provider,
        status="connected",
        tenant_name="Demo Plumbing",
        gsi1pk="CONNECTED",
        gsi1sk=f"{provider}#{company}",
    ).save()


def test_dead_letters_for_one_invoice_become_one_notification(aws: dict[str, Any], api: Any) -> None:
    inv = _setup_invoice(api)["invoice"]
    handler = load_function("notify_failures").lambda_handler
    body = {"companyId": "co_a", "invoiceId": inv["id"], "trigger": "sent"}
    # When the same invoice dead-letters three times (three messages)
    for _ in range(3):
        resp = handler(_sqs_event([body], "invoice-sync-dlq.fifo"), LambdaContext())
        assert resp == {"batchItemFailures": []}
    # Then there is exactly one unread notification for it, counting the repeats
    page = invoke(api, http_event("api/list_notifications.json"))
    assert page.body["unreadCount"] == 1
    (note,) = page.body["data"]
    assert note["entityId"] == inv["id"] and note["occurrences"] == 3
    assert "Resync" in note["message"]
    # And once read, a new failure raises a fresh notification
    read = invoke(
        api, http_event("api/list_notifications.json", method="POST", path=f"/notifications/{note['id']}/read")
    )
    assert read.status == 200 and read.body["read"] is True
    handler(_sqs_event([body], "invoice-sync-dlq.fifo"), LambdaContext())
    page = invoke(api, http_event("api/list_notifications.json"))
    assert page.body["unreadCount"] == 1 and len(page.body["data"]) == 2
    assert page.body["data"][0]["read"] is False  # newest first


def test_send_enqueues_only_when_a_provider_is_connected(aws: dict[str, Any], api: Any) -> None:
    url = aws["queues"]["invoice-sync"]
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    assert receive_all(aws["sqs"], url) == []
    _connect("co_a")
    inv2 = _setup_invoice(api, number="INV-2")["invoice"]
    for _ in range(3):  # repeated clicks on Send collapse into one message (FIFO de-duplication)
        invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv2['id']}/send"))
    msgs = [m for m in receive_all(aws["sqs"], url) if "invoiceId" in json.loads(m["Body"])]
    assert len(msgs) == 1
    body = json.loads(msgs[0]["Body"])
    assert body["invoiceId"] == inv2["id"] and body["companyId"] == "co_a" and body["trigger"] == "sent"
    assert msgs[0]["Attributes"]["MessageGroupId"] == f"co_a#{inv2['id']}"


def test_payment_is_enqueued_once_per_payment(aws: dict[str, Any], api: Any) -> None:
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    path = f"/invoices/{inv['id']}/payments"
    p1 = invoke(api, http_event("api/record_payment.json", path=path, headers={"Idempotency-Key": "k1"}))
    invoke(api, http_event("api/record_payment.json", path=path, headers={"Idempotency-Key": "k1"}))
    msgs = receive_all(aws["sqs"], aws["queues"]["payment-sync"])
    assert [json.loads(m["Body"])["paymentId"] for m in msgs] == [p1.body["id"]]


def test_sync_consumers_skip_when_nothing_is_connected(aws: dict[str, Any], api: Any) -> None:
    inv = _setup_invoice(api)["invoice"]
    resp = load_function("sync_invoice").lambda_handler(
        _sqs_event([{"companyId": "co_a", "invoiceId": inv["id"], "trigger": "sent"}]), LambdaContext()
    )
    assert resp == {"batchItemFailures": []}
    bad = load_function("sync_payments").lambda_handler(
        _sqs_event([{"companyId": "co_a", "invoiceId": "inv_missing", "paymentId": "pay_x"}]), LambdaContext()
    )
    assert bad == {"batchItemFailures": []}  # a message for an invoice that does not exist is dropped, not retried


def test_weekly_fan_out_pages_the_connected_index(aws: dict[str, Any]) -> None:
    for n in range(23):
        _connect(f"co_{n:02d}", "quickbooks" if n % 2 else "xero")
    ConnectionRecord(company_pk("co_off"), "CONNECTION#quickbooks", provider="quickbooks", status="disconnected").save()
    handler = load_function("weekly_sync").lambda_handler
    result = handler({"source": "blueclerk.scheduler", "job": "weekly_sync"}, LambdaContext())
    assert result["jobs"] == 23
    msgs = receive_all(aws["sqs"], aws["queues"]["import"])
    jobs = {(json.loads(m["Body"])["companyId"], json.loads(m["Body"])["provider"]) for m in msgs}
    assert len(jobs) == 23 and ("co_off", "quickbooks") not in jobs


def test_oauth_callback_rejects_forged_expired_and_replayed_state(aws: dict[str, Any]) -> None:
    from booksync.adapters.dynamodb import ConnectionRepository, OAuthStateRepository

    handler = load_function("oauth_callback").lambda_handler
    states = OAuthStateRepository()
    now = utcnow()
    states.add(
        OAuthState(
            state="st_expired",
            company_id="co_a",
            provider="quickbooks",
            created_at=now - timedelta(minutes=11),
            expires_at=now - timedelta(minutes=1),
        )
    )
    states.add(
        OAuthState(
            state="st_xero", company_id="co_a", provider="xero", created_at=now, expires_at=now + timedelta(minutes=10)
        )
    )

    def call(state: str) -> str:
        q = {"code": "AB11764000000abc", "state": state, "realmId": "9341453160"}
        r = invoke(handler, http_event("oauth_callback/quickbooks_callback.json", query=q, company=None))
        assert r.status == 302
        return r.headers["location"]

    assert call("st_forged").endswith("/settings/integrations?error=invalid_state")
    assert call("st_expired").endswith("?error=expired_state")
    assert call("st_expired").endswith("?error=invalid_state")  # replay: single use
    assert call("st_xero").endswith("?error=invalid_state")  # bound to another provider
    assert call("st_xero").endswith("?error=invalid_state")
    assert ConnectionRepository().get("co_a", "quickbooks").status.value == "disconnected"
