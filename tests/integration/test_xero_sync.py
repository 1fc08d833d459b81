"""Xero sync end to end: handlers in-process, moto server and the Xero sandbox over real HTTP (spec-checked)."""

from __future__ import annotations

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
        yield w


def _pay(api: Any, invoice_id: str, amount: str, method: str = "check") -> dict[str, Any]:
    r = invoke(
        api,
        http_event(
            "api/record_payment.json",
            path=f"/invoices/{invoice_id}/payments",
            body={"amount": amount, "method": method, "reference": "CHK-1"},
        ),
    )
    assert r.status == 201, r.body
    return dict(r.body)


def _resync(invoice_id: str) -> Any:
    sync = load_function("sync_invoice").lambda_handler
    return invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{invoice_id}/sync"))


def test_seed_flow_send_pay_then_resync_ends_with_exactly_two_payments(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    org = connect_xero("co_a")
    listed = invoke(api, http_event("api/list_integrations.json")).body["data"]
    assert next(p for p in listed if p["provider"] == "xero")["tenantName"] == "BlueClerk Xero Demo Company"
    map_default_income_account("co_a", "200")
    made = _setup_invoice(api)
    inv = made["invoice"]
    # When the invoice is sent, it is queued and pushed
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    books = tenant(world["url"], org)
    (x_invoice,) = books["entities"]["Invoices"]
    assert x_invoice["Type"] == "ACCREC" and x_invoice["Status"] == "AUTHORISED"
    assert x_invoice["InvoiceNumber"] == "INV-1001" and x_invoice["Total"] == 400.0
    assert x_invoice["Reference"] == f"BlueClerk invoice {inv['id']}"
    assert [(ln["Quantity"], ln["UnitAmount"], ln["AccountCode"]) for ln in x_invoice["LineItems"]] == [
        (2.0, 175.0, "200"),
        (1.5, 33.33, "200"),
    ]
    (x_contact,) = books["entities"]["Contacts"]
    assert x_contact["Name"] == "Jane Doe" and x_invoice["Contact"]["ContactID"] == x_contact["ContactID"]
    (x_item,) = [i for i in books["entities"]["Items"] if i["Name"] == "Water heater flush"]
    assert x_item["SalesDetails"]["AccountCode"] == "200" and x_item["IsSold"] is True
    assert {ln["ItemCode"] for ln in x_invoice["LineItems"]} == {x_item["Code"]}
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert detail.body["providerIds"] == {"xero": x_invoice["InvoiceID"]}
    assert detail.body["syncButton"]["label"] == "Resync to Xero"
    # And a recorded payment is queued and pushed
    p1 = _pay(api, inv["id"], "350.00")
    drain(sqs, queues["payment-sync"], "sync_payments")
    assert tenant(world["url"], org)["counts"]["Payments"] == 1
    # When another payment is recorded after the sync and Resync is clicked before its message is processed
    p2 = _pay(api, inv["id"], "50.00", method="cash")
    r = _resync(inv["id"])
    assert r.status == 200, r.body
    assert r.body["invoice"]["status"] == "synced"
    statuses = {p["id"]: (p["status"], p["action"]) for p in r.body["payments"]}
    assert statuses == {p1["id"]: ("synced", "unchanged"), p2["id"]: ("synced", "created")}
    # Then the queued message for the second payment changes nothing: exactly two payments in the books
    drain(sqs, queues["payment-sync"], "sync_payments")
    books = tenant(world["url"], org)
    assert books["counts"]["Payments"] == 2
    payments = sorted(books["entities"]["Payments"], key=lambda p: p["Amount"])
    assert [p["Amount"] for p in payments] == [50.0, 350.0]
    assert "method: cash" in payments[0]["Reference"] and f"BlueClerk payment {p2['id']}" in payments[0]["Reference"]
    assert payments[1]["Reference"].startswith("CHK-1 | method: check")
    assert {p["Account"]["Code"] for p in payments} == {"090"}
    (x_invoice,) = books["entities"]["Invoices"]
    assert x_invoice["Status"] == "PAID" and x_invoice["AmountDue"] == 0
    assert books["counts"]["Contacts"] == 1
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert {p["id"]: p["providerIds"]["xero"] for p in detail.body["payments"]} == {
        p["id"]: next(x["PaymentID"] for x in payments if p["id"] in x["Reference"]) for p in (p1, p2)
    }


def test_unmapped_item_is_not_pushed_and_notifies_once(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    for _ in range(2):
        r = _resync(inv["id"])
        assert r.status == 400
        assert r.body["error"]["code"] == "item_unmapped"
        assert "'Water heater flush'" in r.body["error"]["message"] and "Xero" in r.body["error"]["message"]
    books = tenant(world["url"], org)
    assert books["counts"]["Invoices"] == 0 and books["counts"]["Items"] == 0
    notes = invoke(api, http_event("api/list_notifications.json")).body
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "item_unmapped"


def test_accounts_route_lists_active_revenue_accounts_by_code(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    connect_xero("co_a")
    r = invoke(api, http_event("api/list_integrations.json", path="/integrations/xero/accounts"))
    assert r.status == 200, r.body
    assert {(a["id"], a["name"]) for a in r.body["data"]} == {
        ("200", "Sales"),
        ("260", "Other Revenue"),
        ("270", "Interest Income"),
    }  # the archived 205 and the non-revenue accounts are not offered


def test_a_paid_invoice_edit_is_rejected_clearly_but_a_due_date_change_goes_through(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    map_default_income_account("co_a")
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    _pay(api, inv["id"], "100.00")
    assert _resync(inv["id"]).status == 200
    # When the due date changes in BlueClerk, Xero takes it even though the invoice has a payment
    r = invoke(
        api,
        http_event(
            "api/get_invoice.json", method="PATCH", path=f"/invoices/{inv['id']}", body={"dueDate": "2027-01-15"}
        ),
    )
    assert r.status == 200, r.body
    assert _resync(inv["id"]).status == 200
    (x_invoice,) = tenant(world["url"], org)["entities"]["Invoices"]
    assert x_invoice["DueDateString"].startswith("2027-01-15") and x_invoice["AmountPaid"] == 100.0
    # When a line changes, the push is refused with the reason and the fix (Xero forbids it), nothing is changed
    lines = [{"itemId": line["itemId"], "quantity": "3", "unitPrice": "175.00"} for line in inv["lines"][:1]]
    r = invoke(
        api, http_event("api/get_invoice.json", method="PATCH", path=f"/invoices/{inv['id']}", body={"lines": lines})
    )
    assert r.status == 200, r.body
    r = _resync(inv["id"])
    assert r.status == 400 and r.body["error"]["code"] == "provider_rejected"
    assert "has payments in Xero" in r.body["error"]["message"] and "LineItems" in r.body["error"]["message"]
    (x_invoice,) = tenant(world["url"], org)["entities"]["Invoices"]
    assert x_invoice["Total"] == 400.0
    posts = [e for e in requests_log(world["url"]) if e["method"] == "POST" and "/Invoices/" in e["path"]]
    assert len(posts) == 1  # only the due-date update was ever sent


def test_an_unpaid_invoice_edit_updates_xero_in_place(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    map_default_income_account("co_a")
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    assert _resync(inv["id"]).status == 200
    lines = [{"itemId": inv["lines"][0]["itemId"], "quantity": "3", "unitPrice": "175.00"}]
    r = invoke(
        api, http_event("api/get_invoice.json", method="PATCH", path=f"/invoices/{inv['id']}", body={"lines": lines})
    )
    assert r.status == 200, r.body
    r = _resync(inv["id"])
    assert r.status == 200 and r.body["invoice"]["action"] == "updated", r.body
    (x_invoice,) = tenant(world["url"], org)["entities"]["Invoices"]
    assert x_invoice["Total"] == 525.0 and x_invoice["Status"] == "AUTHORISED"


def test_disconnect_deletes_the_connection_and_revokes(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    assert tenant(world["url"], org)["connections"] != []
    r = invoke(api, http_event("api/list_integrations.json", method="DELETE", path="/integrations/xero"))
    assert r.status in (200, 204), r.body
    books = tenant(world["url"], org)
    assert books["connections"] == [] and books["tokens"]["revocations"] == 1
    calls = [(e["method"], e["path"].split("/xero", 1)[1][:12]) for e in requests_log(world["url"])]
    assert ("DELETE", "/connections") in calls and ("POST", "/connect/rev") in calls
    listed = invoke(api, http_event("api/list_integrations.json")).body["data"]
    assert next(p for p in listed if p["provider"] == "xero")["status"] == "disconnected"


def test_day_limit_defers_the_push_instead_of_hammering(world: dict[str, Any]) -> None:
    from booksync import wiring

    # the shared rate budget keeps the day block on the pacer's clock: moving the sandbox clock must move it too
    wiring.rate_pacer().clock = world["sandbox"].core.clock.timestamp
    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    map_default_income_account("co_a")
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    used = tenant(world["url"], org)["limits"]["requests_last_day"]
    assert used >= 1
    # Given the organisation's daily allowance is used up
    httpx.post(f"{world['url']}/_sandbox/xero/config", json={"daily_limit": used}).raise_for_status()
    r = _resync(inv["id"])
    # Then the push fails as retryable (the queue retries it later), after exactly one refused call
    assert r.status == 503 and r.body["error"]["code"] == "provider_unavailable"
    throttled = [e for e in requests_log(world["url"]) if e["outcome"] == "throttled_day"]
    assert len(throttled) == 1
    # And once a day has passed (a fresh allowance of 40 calls here), the next try goes through
    httpx.post(f"{world['url']}/_sandbox/clock", json={"advance": 86_401}).raise_for_status()
    httpx.post(f"{world['url']}/_sandbox/xero/config", json={"daily_limit": 40}).raise_for_status()
    r = _resync(inv["id"])
    assert r.status == 200, r.body


def test_minute_limit_is_waited_out_with_retry_after(world: dict[str, Any]) -> None:
    from booksync import wiring

    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    map_default_income_account("co_a")
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    waits: list[float] = []
    engine = wiring.sync_engine()
    engine.sleep = waits.append  # the engine's sleep, recorded instead of slept
    fault(world["url"], method="PUT", path="/Invoices$", mode="status", status=429, retry_after=7, count=1)
    r = _resync(inv["id"])
    assert r.status == 200, r.body
    assert 7.0 in waits
    assert tenant(world["url"], org)["counts"]["Invoices"] == 1
