"""Xero sync under bad conditions: commit-then-fail on every create, races, duplicates, dead tokens, 5xx storms."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.qbo_helpers import drain
from tests.integration.test_api_flow import _setup_invoice
from tests.integration.xero_helpers import (
    connect_xero,
    fault,
    map_default_income_account,
    requests_log,
    tenant,
    xero_world,
)

pytestmark = pytest.mark.moto_server


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with xero_world() as w:
        from booksync import wiring

        engine = wiring.sync_engine()
        engine.backoff_cap = 0.05  # keep retries quick; the bound on attempts is what is under test
        w["org"] = connect_xero("co_a")
        map_default_income_account("co_a")
        yield w


def _sent_invoice(api: Any, number: str = "INV-1001") -> dict[str, Any]:
    inv = _setup_invoice(api, number=number)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    return inv


def _pay(api: Any, invoice_id: str, amount: str = "350.00") -> dict[str, Any]:
    r = invoke(
        api,
        http_event(
            "api/record_payment.json",
            path=f"/invoices/{invoice_id}/payments",
            body={"amount": amount, "method": "card"},
        ),
    )
    assert r.status == 201, r.body
    return dict(r.body)


def _resync(invoice_id: str) -> Any:
    sync = load_function("sync_invoice").lambda_handler
    return invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{invoice_id}/sync"))


@pytest.mark.parametrize("mode", ["commit_then_500", "commit_then_drop"])
@pytest.mark.parametrize("entity", ["Contacts", "Items", "Invoices", "Payments"])
def test_xero_saves_then_fails_the_answer_still_one_object(world: dict[str, Any], mode: str, entity: str) -> None:
    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    _pay(api, inv["id"])
    # Given Xero will store the next create of this entity and then fail the response
    fault(world["url"], method="PUT", path=f"/api.xro/2.0/{entity}$", mode=mode, count=1)
    # When the user clicks Sync (the engine retries with the same Idempotency-Key, which Xero replays)
    r = _resync(inv["id"])
    # Then everything is synced and the books hold exactly one of each
    assert r.status == 200, r.body
    assert r.body["invoice"]["status"] == "synced"
    assert [p["status"] for p in r.body["payments"]] == ["synced"]
    books = tenant(world["url"], world["org"])
    counts = books["counts"]
    assert (counts["Contacts"], counts["Items"], counts["Invoices"], counts["Payments"]) == (1, 1, 1, 1)
    log = requests_log(world["url"])
    assert any(e["outcome"].startswith("committed_then") for e in log)  # the fault did fire
    puts = [e for e in log if e["method"] == "PUT" and e["path"].endswith(f"/{entity}")]
    assert len(puts) == 2  # the failed create and its replay
    # the payment landed on the mapped bank account for card payments and carries its marker
    (payment,) = books["entities"]["Payments"]
    assert "method: card" in payment["Reference"] and "BlueClerk payment" in payment["Reference"]


def test_number_already_used_in_xero_fails_with_duplicate_invoice_number(world: dict[str, Any]) -> None:
    from booksync import wiring

    api = load_function("api").lambda_handler
    # Given an accountant already created invoice INV-1001 in Xero
    token = wiring.token_manager().access_token("co_a", "xero").access_token
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": world["org"], "Accept": "application/json"}
    base = f"{world['url']}/xero/api.xro/2.0"
    made = httpx.put(
        f"{base}/Invoices",
        headers=headers,
        json={
            "Invoices": [
                {
                    "Type": "ACCREC",
                    "Contact": {"Name": "Walk-in"},
                    "InvoiceNumber": "INV-1001",
                    "LineItems": [
                        {"Description": "Counter sale", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}
                    ],
                }
            ]
        },
    )
    assert made.status_code == 200, made.text
    inv = _sent_invoice(api, "INV-1001")
    for _ in range(2):
        r = _resync(inv["id"])
        assert r.status == 409 and r.body["error"]["code"] == "duplicate_invoice_number"
        assert "INV-1001" in r.body["error"]["message"] and "Xero" in r.body["error"]["message"]
    books = tenant(world["url"], world["org"])
    assert books["counts"]["Invoices"] == 1  # only the accountant's
    notes = invoke(api, http_event("api/list_notifications.json")).body
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "duplicate_invoice_number"


@pytest.mark.parametrize("how", ["expired", "revoked"])
def test_dead_refresh_token_marks_needs_reauth_with_one_notification(world: dict[str, Any], how: str) -> None:
    from booksync import wiring

    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    if how == "expired":  # Given 61 days without a refresh: the refresh token died
        httpx.post(f"{world['url']}/_sandbox/clock", json={"advance": 61 * 86400}).raise_for_status()
    else:  # Given the grant was revoked (e.g. by another system holding the same token set)
        stored = wiring.token_manager().current("co_a", "xero")
        httpx.post(
            f"{world['url']}/xero/connect/revocation",
            data={"token": stored.refresh_token},
            auth=("local-xero-client", "local-xero-secret"),
        ).raise_for_status()
    # the stored access token is still in date by our clock: the 401 is what triggers the refresh
    for _ in range(3):
        r = _resync(inv["id"])
        assert r.status == 409 and r.body["error"]["code"] == "needs_reauth", r.body
        assert "Reconnect Xero" in r.body["error"]["message"]
    listed = invoke(api, http_event("api/list_integrations.json")).body["data"]
    assert next(p for p in listed if p["provider"] == "xero")["status"] == "needs_reauth"
    notes = invoke(api, http_event("api/list_notifications.json")).body
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "needs_reauth"
    assert tenant(world["url"], world["org"])["counts"]["Invoices"] == 0


def test_xero_5xx_storm_retries_boundedly_then_dead_letters_into_one_notification(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    inv = _sent_invoice(api)
    fault(world["url"], path="/api.xro/2.0/", mode="status", status=503, count=None)
    r = _resync(inv["id"])
    assert r.status == 503 and r.body["error"]["code"] == "provider_unavailable"
    api_calls = [e for e in requests_log(world["url"]) if e["outcome"] == "fault"]
    assert 1 <= len(api_calls) <= 4  # bounded: max_attempts per call
    for _ in range(6):
        drain(sqs, queues["invoice-sync"], "sync_invoice", rounds=1)
        time.sleep(2.1)  # the queue's visibility timeout (moto server, real time)
    drain(sqs, queues["invoice-sync-dlq"], "notify_failures")
    notes = invoke(api, http_event("api/list_notifications.json")).body
    per_entity = [(n["entityType"], n["entityId"]) for n in notes["data"]]
    assert len(per_entity) == len(set(per_entity)) == notes["unreadCount"]
    assert ("invoice", inv["id"]) in per_entity
    assert {n["code"] for n in notes["data"]} == {"provider_unavailable"}
    assert tenant(world["url"], world["org"])["counts"]["Invoices"] == 0
    assert len([e for e in requests_log(world["url"]) if e["outcome"] == "fault"]) <= 4 * 6 * 3
