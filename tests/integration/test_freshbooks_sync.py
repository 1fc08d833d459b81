"""FreshBooks sync end to end: handlers in-process, moto server and the FreshBooks sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.freshbooks_helpers import (
    connect_freshbooks,
    drain,
    freshbooks_world,
    map_default_income_account,
    notifications,
    pay,
    resync,
    send,
    tenant,
)
from tests.integration.test_api_flow import _setup_invoice

pytestmark = pytest.mark.moto_server


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with freshbooks_world() as w:
        yield w


def test_seed_flow_send_pay_then_resync_ends_with_exactly_two_payments(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    account = connect_freshbooks("co_a")
    ledger_account = map_default_income_account("freshbooks", "co_a")
    made = _setup_invoice(api)
    inv = made["invoice"]
    # When the invoice is sent, it is queued and pushed
    send(api, inv["id"])
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    books = tenant(world["url"], account)
    (fb_invoice,) = books["entities"]["invoice"]
    assert fb_invoice["invoice_number"] == "INV-1001"
    assert fb_invoice["amount"] == {"amount": "400.00", "code": "USD"}
    assert fb_invoice["notes"] == f"BlueClerk invoice {inv['id']}"
    assert [(ln["name"], ln["qty"], ln["unit_cost"]["amount"]) for ln in fb_invoice["lines"]] == [
        ("Water heater flush", "2", "175.00"),
        ("Water heater flush", "1.5", "33.33"),
    ]
    (client,) = books["entities"]["client"]
    assert client["organization"] == "Jane Doe" and fb_invoice["customerid"] == client["id"]
    items = [i for i in books["entities"]["item"] if i["name"] == "Water heater flush"]
    assert len(items) == 1 and items[0]["unit_cost"]["amount"] == made["item"]["price"]
    assert ledger_account  # the mapping is required by BlueClerk; FreshBooks lines carry no account
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert detail.body["providerIds"] == {"freshbooks": str(fb_invoice["id"])}
    assert detail.body["syncButton"]["label"] == "Resync to FreshBooks"
    # And a recorded payment is queued and pushed
    p1 = pay(api, inv["id"], "350.00")
    drain(sqs, queues["payment-sync"], "sync_payments")
    assert tenant(world["url"], account)["counts"]["payment"] == 1
    # When another payment is recorded after the sync and Resync is clicked before its message is processed
    p2 = pay(api, inv["id"], "50.00", method="cash")
    r = resync(inv["id"])
    assert r.status == 200, r.body
    assert r.body["invoice"]["status"] == "synced"
    statuses = {p["id"]: (p["status"], p["action"]) for p in r.body["payments"]}
    assert statuses == {p1["id"]: ("synced", "unchanged"), p2["id"]: ("synced", "created")}
    # Then the queued message for the second payment changes nothing: exactly two payments in the books
    drain(sqs, queues["payment-sync"], "sync_payments")
    books = tenant(world["url"], account)
    assert books["counts"]["payment"] == 2
    assert sorted((p["amount"]["amount"], p["type"]) for p in books["entities"]["payment"]) == [
        ("350.00", "Check"),
        ("50.00", "Cash"),
    ]
    assert all(p["note"].startswith("BlueClerk payment ") for p in books["entities"]["payment"])
    assert books["counts"]["invoice"] == 1 and books["counts"]["client"] == 1
    (fb_invoice,) = books["entities"]["invoice"]
    assert fb_invoice["outstanding"]["amount"] == "0.00" and fb_invoice["payment_status"] == "paid"
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert all(p["providerIds"].get("freshbooks") for p in detail.body["payments"])
    history = detail.body["syncHistory"]
    pushed = {(h["entityType"], h["entityId"]): h for h in history if h["result"] == "synced"}
    assert pushed[("invoice", inv["id"])]["providerId"] == str(fb_invoice["id"])
    assert {pushed[("payment", p1["id"])]["action"], pushed[("payment", p2["id"])]["action"]} == {"created"}


def test_unmapped_item_is_not_pushed_and_notifies_once(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    account = connect_freshbooks("co_a")
    inv = _setup_invoice(api)["invoice"]
    send(api, inv["id"])
    for _ in range(2):
        r = resync(inv["id"])
        assert r.status == 400
        assert r.body["error"]["code"] == "item_unmapped"
        assert "'Water heater flush'" in r.body["error"]["message"] and "FreshBooks" in r.body["error"]["message"]
    books = tenant(world["url"], account)
    assert books["counts"]["invoice"] == 0 and books["counts"]["item"] == 0
    notes = notifications()
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "item_unmapped"


def test_customer_and_item_edits_are_pushed_as_partial_updates(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    account = connect_freshbooks("co_a")
    map_default_income_account("freshbooks", "co_a")
    made = _setup_invoice(api)
    drain(sqs, queues["invoice-sync"], "sync_invoice")  # the new customer and item are pushed on their own
    cid, iid = made["customer"]["id"], made["item"]["id"]
    body = {"email": "jane.doe@example.net", "phone": "(555) 555-0199"}
    r = invoke(api, http_event("api/get_invoice.json", method="PATCH", path=f"/customers/{cid}", body=body))
    assert r.status == 200, r.body
    r = invoke(api, http_event("api/get_invoice.json", method="PATCH", path=f"/items/{iid}", body={"price": "189.50"}))
    assert r.status == 200, r.body
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    books = tenant(world["url"], account)
    (client,) = books["entities"]["client"]
    assert (client["email"], client["bus_phone"]) == ("jane.doe@example.net", "(555) 555-0199")
    (item,) = [i for i in books["entities"]["item"] if i["name"] == "Water heater flush"]
    assert item["unit_cost"]["amount"] == "189.50"


def test_a_client_made_by_an_accountant_with_the_same_name_is_reused_not_duplicated(world: dict[str, Any]) -> None:
    import httpx

    from booksync import wiring

    api = load_function("api").lambda_handler
    account = connect_freshbooks("co_a")
    map_default_income_account("freshbooks", "co_a")
    token = wiring.token_manager().access_token("co_a", "freshbooks").access_token
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{world['url']}/freshbooks/accounting/account/{account}"
    # Given 120 clients already in FreshBooks (more than one page) and "Jane Doe" the last of them
    for n in range(119):
        httpx.post(f"{base}/users/clients", headers=headers, json={"client": {"organization": f"Other {n}"}})
    made = httpx.post(f"{base}/users/clients", headers=headers, json={"client": {"organization": "JANE DOE"}})
    assert made.status_code == 200, made.text
    inv = _setup_invoice(api)["invoice"]
    send(api, inv["id"])
    r = resync(inv["id"])
    assert r.status == 200, r.body
    books = tenant(world["url"], account)
    assert books["counts"]["client"] == 120
    (fb_invoice,) = books["entities"]["invoice"]
    assert fb_invoice["customerid"] == made.json()["response"]["result"]["client"]["id"]


def test_no_token_or_code_appears_in_any_log_line(world: dict[str, Any]) -> None:
    import io
    import logging

    from booksync import wiring
    from booksync.observability import logger

    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)
    api = load_function("api").lambda_handler
    connect_freshbooks("co_a")
    map_default_income_account("freshbooks", "co_a")
    inv = _setup_invoice(api)["invoice"]
    send(api, inv["id"])
    resync(inv["id"])
    tokens = wiring.token_manager().current("co_a", "freshbooks")
    logger._logger.removeHandler(handler)
    logs = sink.getvalue()
    assert "provider connected" in logs
    for secret in (tokens.access_token, tokens.refresh_token, "local-freshbooks-secret"):
        assert secret not in logs


def test_disconnect_revokes_the_grant_at_freshbooks(world: dict[str, Any]) -> None:
    """Our adapter ignores a 4xx answer to revoke (the user is disconnecting anyway), so only the sandbox's books can
    say whether the grant was really revoked."""
    api = load_function("api").lambda_handler
    account = connect_freshbooks("co_a")
    assert tenant(world["url"], account)["tokens"]["active_grants"] == 1
    r = invoke(api, http_event("api/list_integrations.json", method="DELETE", path="/integrations/freshbooks"))
    assert r.status in (200, 204), r.body
    tokens = tenant(world["url"], account)["tokens"]
    assert (tokens["active_grants"], tokens["live_access_tokens"]) == (0, 0), tokens
    listed = invoke(api, http_event("api/list_integrations.json")).body["data"]
    assert next(p for p in listed if p["provider"] == "freshbooks")["status"] == "disconnected"
