"""QuickBooks sync end to end: handlers in-process, moto server and the QuickBooks sandbox over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.qbo_helpers import connect_quickbooks, drain, map_default_income_account, qbo_world, tenant
from tests.integration.test_api_flow import _setup_invoice

pytestmark = pytest.mark.moto_server


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with qbo_world() as w:
        yield w


def _pay(api: Any, invoice_id: str, amount: str, method: str = "check", company: str = "co_a") -> dict[str, Any]:
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


def test_seed_flow_send_pay_then_resync_ends_with_exactly_two_payments(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sync = load_function("sync_invoice").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    realm = connect_quickbooks("co_a")
    account = map_default_income_account("co_a")
    made = _setup_invoice(api)
    inv = made["invoice"]
    # When the invoice is sent, it is queued and pushed
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    books = tenant(world["url"], realm)
    (qb_invoice,) = books["entities"]["Invoice"]
    assert qb_invoice["DocNumber"] == "INV-1001"
    assert qb_invoice["TotalAmt"] == 400.0
    assert [
        ln["SalesItemLineDetail"]["Qty"] for ln in qb_invoice["Line"] if ln.get("DetailType") == "SalesItemLineDetail"
    ] == [2, 1.5]
    (qb_customer,) = books["entities"]["Customer"]
    assert qb_customer["DisplayName"] == "Jane Doe" and qb_invoice["CustomerRef"]["value"] == qb_customer["Id"]
    qb_items = [i for i in books["entities"]["Item"] if i["Name"] == "Water heater flush"]
    assert len(qb_items) == 1 and qb_items[0]["IncomeAccountRef"]["value"] == account
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert detail.body["providerIds"] == {"quickbooks": qb_invoice["Id"]}
    assert detail.body["syncButton"]["label"] == "Resync to QuickBooks"
    assert invoke(api, http_event("api/list_invoices.json")).body["showSyncStatus"] is True
    # And a recorded payment is queued and pushed
    p1 = _pay(api, inv["id"], "350.00")
    drain(sqs, queues["payment-sync"], "sync_payments")
    assert tenant(world["url"], realm)["counts"]["Payment"] == 1
    # When another payment is recorded after the sync and Resync is clicked before its message is processed
    p2 = _pay(api, inv["id"], "50.00", method="cash")
    r = invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv['id']}/sync"))
    assert r.status == 200, r.body
    assert r.body["invoice"]["status"] == "synced"
    statuses = {p["id"]: (p["status"], p["action"]) for p in r.body["payments"]}
    assert statuses == {p1["id"]: ("synced", "unchanged"), p2["id"]: ("synced", "created")}
    # Then the queued message for the second payment changes nothing: exactly two payments in the books
    drain(sqs, queues["payment-sync"], "sync_payments")
    books = tenant(world["url"], realm)
    assert books["counts"]["Payment"] == 2
    assert sorted(p["TotalAmt"] for p in books["entities"]["Payment"]) == [50.0, 350.0]
    assert books["counts"]["Invoice"] == 1 and books["counts"]["Customer"] == 1
    (qb_invoice,) = books["entities"]["Invoice"]
    assert qb_invoice["Balance"] == 0
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert all(p["providerIds"].get("quickbooks") for p in detail.body["payments"])
    # And the sync history records each push: when, what, result, provider id
    history = detail.body["syncHistory"]
    pushed = {(h["entityType"], h["entityId"]): h for h in history if h["result"] == "synced"}
    assert pushed[("invoice", inv["id"])]["providerId"] == qb_invoice["Id"]
    assert {pushed[("payment", p1["id"])]["action"], pushed[("payment", p2["id"])]["action"]} == {"created"}


def test_unmapped_item_is_not_pushed_and_notifies_once(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sync = load_function("sync_invoice").lambda_handler
    realm = connect_quickbooks("co_a")
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    for _ in range(2):
        r = invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv['id']}/sync"))
        assert r.status == 400
        assert r.body["error"]["code"] == "item_unmapped"
        assert "'Water heater flush'" in r.body["error"]["message"]
        assert "Settings > Account Mapping" in r.body["error"]["message"]
    books = tenant(world["url"], realm)
    assert books["counts"]["Invoice"] == 0 and books["counts"]["Item"] == 0
    notes = invoke(api, http_event("api/list_notifications.json")).body
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "item_unmapped"
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert detail.body["syncStatus"] == "failed" and detail.body["lastSyncError"]["code"] == "item_unmapped"
    assert detail.body["syncButton"]["label"] == "Sync to QuickBooks"


def test_customer_and_item_edits_are_pushed_when_settings_allow(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    realm = connect_quickbooks("co_a")
    map_default_income_account("co_a")
    made = _setup_invoice(api)
    drain(sqs, queues["invoice-sync"], "sync_invoice")  # the new customer and item are pushed on their own
    books = tenant(world["url"], realm)
    assert books["counts"]["Customer"] == 1
    # When the customer's email and the item's price change in BlueClerk
    cid, iid = made["customer"]["id"], made["item"]["id"]
    r = invoke(
        api,
        http_event(
            "api/get_invoice.json",
            method="PATCH",
            path=f"/customers/{cid}",
            body={"email": "jane.doe@example.net", "phone": "(555) 555-0199"},
        ),
    )
    assert r.status == 200, r.body
    r = invoke(api, http_event("api/get_invoice.json", method="PATCH", path=f"/items/{iid}", body={"price": "189.50"}))
    assert r.status == 200, r.body
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    # Then QuickBooks has the new values, still one customer and one such item
    books = tenant(world["url"], realm)
    (customer,) = books["entities"]["Customer"]
    assert customer["PrimaryEmailAddr"]["Address"] == "jane.doe@example.net"
    assert customer["PrimaryPhone"]["FreeFormNumber"] == "(555) 555-0199"
    (item,) = [i for i in books["entities"]["Item"] if i["Name"] == "Water heater flush"]
    assert item["UnitPrice"] == 189.5
    # And with item sync off, a later price change stays local
    body = {"syncInvoices": True, "syncCustomers": True, "syncItems": False}
    invoke(
        api, http_event("api/list_integrations.json", method="PUT", path="/integrations/quickbooks/settings", body=body)
    )
    invoke(api, http_event("api/get_invoice.json", method="PATCH", path=f"/items/{iid}", body={"price": "200.00"}))
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    (item,) = [i for i in tenant(world["url"], realm)["entities"]["Item"] if i["Name"] == "Water heater flush"]
    assert item["UnitPrice"] == 189.5


def test_an_item_without_income_account_is_skipped_with_a_clear_error(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    realm = connect_quickbooks("co_a")
    invoke(api, http_event("api/create_item.json"))
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    assert [i for i in tenant(world["url"], realm)["entities"]["Item"] if i["Name"] == "Water heater flush"] == []
    notes = invoke(api, http_event("api/list_notifications.json")).body
    assert notes["unreadCount"] == 1
    assert notes["data"][0]["code"] == "item_unmapped" and "Water heater flush" in notes["data"][0]["message"]


def test_no_token_or_code_appears_in_any_log_line(world: dict[str, Any]) -> None:
    import io
    import logging

    from booksync import wiring
    from booksync.observability import logger

    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)  # every structured line, exactly as CloudWatch would get it

    api = load_function("api").lambda_handler
    sync = load_function("sync_invoice").lambda_handler
    connect_quickbooks("co_a")
    map_default_income_account("co_a")
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv['id']}/sync"))
    tokens = wiring.token_manager().current("co_a", "quickbooks")
    logger._logger.removeHandler(handler)
    logs = sink.getvalue()
    assert "provider connected" in logs  # the logs were captured
    for secret in (tokens.access_token, tokens.refresh_token, "local-quickbooks-secret"):
        assert secret not in logs
