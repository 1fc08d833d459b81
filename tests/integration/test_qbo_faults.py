"""QuickBooks sync under bad conditions: commit-then-fail, dead Lambdas, races, duplicates, dead tokens, 5xx storms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.qbo_helpers import connect_quickbooks, drain, map_default_income_account, qbo_world, tenant
from tests.integration.test_api_flow import _setup_invoice

pytestmark = pytest.mark.moto_server


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with qbo_world() as w:
        from booksync import wiring

        engine = wiring.sync_engine()
        engine.backoff_cap = 0.05  # keep retries quick; the bound on attempts is what is under test
        w["realm"] = connect_quickbooks("co_a")
        map_default_income_account("co_a")
        yield w


def _fault(world: dict[str, Any], **spec: Any) -> int:
    r = httpx.post(f"{world['url']}/_sandbox/faults", json={"provider": "quickbooks", **spec})
    r.raise_for_status()
    return int(r.json()["id"])


def _fired(world: dict[str, Any], rule_id: int) -> bool:
    """A rule with count=1 leaves the sandbox's list once it has fired."""
    rules = httpx.get(f"{world['url']}/_sandbox/faults", params={"provider": "quickbooks"}).json()["faults"]
    return all(r["id"] != rule_id for r in rules)


# Where each entity's create goes: customers, items and invoices on their own endpoint; payments ride in /batch
# (Resync sends an invoice's payments in one batch — issue 9), so that is where the payment's fault must be.
CREATE_PATHS = {
    "customer": "/v3/company/[0-9]+/customer$",
    "item": "/v3/company/[0-9]+/item$",
    "invoice": "/v3/company/[0-9]+/invoice$",
    "payment": "/v3/company/[0-9]+/batch$",
}


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
@pytest.mark.parametrize("entity", ["customer", "item", "invoice", "payment"])
def test_provider_saves_then_fails_the_answer_still_one_object(world: dict[str, Any], mode: str, entity: str) -> None:
    api = load_function("api").lambda_handler
    # Given QuickBooks will store the next create of this entity and then fail the response
    rule = _fault(world, method="POST", path=CREATE_PATHS[entity], mode=mode, count=1)
    inv = _sent_invoice(api)
    _pay(api, inv["id"])
    # When the user clicks Sync (the engine retries with the same requestid)
    r = _resync(inv["id"])
    assert _fired(world, rule), f"the {entity} fault never fired: its push took another path"
    # Then everything is synced and the books hold exactly one of each
    assert r.status == 200, r.body
    assert r.body["invoice"]["status"] == "synced"
    assert [p["status"] for p in r.body["payments"]] == ["synced"]
    counts = tenant(world["url"], world["realm"])["counts"]
    assert (counts["Customer"], counts["Invoice"], counts["Payment"]) == (1, 1, 1)
    assert (
        len([i for i in tenant(world["url"], world["realm"])["entities"]["Item"] if i["Name"] == "Water heater flush"])
        == 1
    )


def test_number_already_used_in_quickbooks_fails_with_duplicate_invoice_number(world: dict[str, Any]) -> None:
    from booksync import wiring

    api = load_function("api").lambda_handler
    # Given an accountant already created invoice INV-1001 in QuickBooks
    token = wiring.token_manager().access_token("co_a", "quickbooks").access_token
    base = f"{world['url']}/quickbooks/v3/company/{world['realm']}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    cust = httpx.post(
        f"{base}/customer", params={"minorversion": "75"}, headers=headers, json={"DisplayName": "Walk-in"}
    ).json()["Customer"]
    q = {"query": "select * from Account where AccountType = 'Income'", "minorversion": "75"}
    account = httpx.get(f"{base}/query", params=q, headers=headers).json()["QueryResponse"]["Account"][0]
    item = httpx.post(
        f"{base}/item",
        params={"minorversion": "75"},
        headers=headers,
        json={
            "Name": "Counter sale",
            "Type": "Service",
            "UnitPrice": 10.0,
            "IncomeAccountRef": {"value": account["Id"]},
        },
    ).json()["Item"]
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": 10.0,
        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": 10.0},
    }
    made = httpx.post(
        f"{base}/invoice",
        params={"minorversion": "75"},
        headers=headers,
        json={"CustomerRef": {"value": cust["Id"]}, "DocNumber": "INV-1001", "Line": [line]},
    )
    assert made.status_code == 200, made.text
    inv = _sent_invoice(api, "INV-1001")
    for _ in range(2):
        r = _resync(inv["id"])
        assert r.status == 409 and r.body["error"]["code"] == "duplicate_invoice_number"
        assert "INV-1001" in r.body["error"]["message"] and "QuickBooks" in r.body["error"]["message"]
    books = tenant(world["url"], world["realm"])
    assert books["counts"]["Invoice"] == 1  # only the accountant's
    notes = invoke(api, http_event("api/list_notifications.json")).body
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "duplicate_invoice_number"


def test_expired_refresh_token_marks_needs_reauth_with_one_notification(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    # Given QuickBooks' clock moved past the refresh token's 100-day life
    httpx.post(f"{world['url']}/_sandbox/clock", json={"advance": 101 * 86400}).raise_for_status()
    for _ in range(3):
        r = _resync(inv["id"])
        assert r.status == 409 and r.body["error"]["code"] == "needs_reauth"
        assert "Reconnect QuickBooks" in r.body["error"]["message"]
    listed = invoke(api, http_event("api/list_integrations.json")).body["data"]
    assert next(p for p in listed if p["provider"] == "quickbooks")["status"] == "needs_reauth"
    notes = invoke(api, http_event("api/list_notifications.json")).body
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "needs_reauth"
    assert tenant(world["url"], world["realm"])["counts"]["Invoice"] == 0


def test_provider_5xx_storm_retries_boundedly_then_dead_letters_into_one_notification(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    inv = _sent_invoice(api)
    _fault(world, path="/v3/company/", mode="status", status=503, count=None)
    r = _resync(inv["id"])
    assert r.status == 503 and r.body["error"]["code"] == "provider_unavailable"
    log = httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": "quickbooks"}).json()
    api_calls = [e for e in log["requests"] if e["outcome"] == "fault"]
    assert 1 <= len(api_calls) <= 4  # bounded: max_attempts per call
    # The queued push fails each delivery; after maxReceiveCount it is in the DLQ
    import time

    for _ in range(6):
        drain(sqs, queues["invoice-sync"], "sync_invoice", rounds=1)
        time.sleep(2.1)  # the queue's visibility timeout
    drain(sqs, queues["invoice-sync-dlq"], "notify_failures")
    notes = invoke(api, http_event("api/list_notifications.json")).body
    # one notification per failed entity (the invoice, and the new customer and item queued on their own)
    per_entity = [(n["entityType"], n["entityId"]) for n in notes["data"]]
    assert len(per_entity) == len(set(per_entity)) == notes["unreadCount"]
    assert ("invoice", inv["id"]) in per_entity
    assert {n["code"] for n in notes["data"]} == {"provider_unavailable"}
    assert tenant(world["url"], world["realm"])["counts"]["Invoice"] == 0
