"""Wave sync end to end: handlers in-process, moto server and the Wave GraphQL sandbox over real HTTP.

Every GraphQL document the adapter sent is checked against the sandbox schema (which holds Wave's own input types
and enums unchanged) with graphql-core's ``validate``; the sandbox also refuses any invalid document itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graphql import parse, validate

from local.sandbox.wave_schema import schema
from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.test_api_flow import _setup_invoice
from tests.integration.wave_helpers import (
    connect_wave,
    drain,
    map_default_income_account,
    notifications,
    pay,
    resync,
    send,
    tenant,
    wave_world,
)

pytestmark = pytest.mark.moto_server


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with wave_world() as w:
        yield w


def _sent_documents_are_valid(world: dict[str, Any]) -> None:
    from booksync.providers import accounting
    from booksync.providers.wave.accounting import DOCUMENTS

    adapter = accounting("wave")
    assert adapter.sent, "the adapter sent nothing"
    for name in set(adapter.sent):
        assert validate(schema(), parse(DOCUMENTS[name])) == [], name
    stats = tenant(world["url"], world["business"])["stats"]
    assert (stats["validation_failures"], stats["bad_user_input"]) == (0, 0)


def test_seed_flow_send_pay_then_resync_ends_with_exactly_two_payments(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    business = world["business"] = connect_wave("co_a")
    account = map_default_income_account("wave", "co_a")
    made = _setup_invoice(api)
    inv = made["invoice"]
    # When the invoice is sent, it is queued and pushed
    send(api, inv["id"])
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    books = tenant(world["url"], business)
    assert not books["is_personal"]  # the business chosen is the real one, not the user's personal business
    (wave_invoice,) = books["entities"]["invoices"]
    assert wave_invoice["invoiceNumber"] == "INV-1001" and wave_invoice["total"] == "400.00"
    assert wave_invoice["status"] == "SAVED"  # approved: posted to the books
    assert wave_invoice["memo"] == f"BlueClerk invoice {inv['id']}"
    (product,) = books["entities"]["products"]
    assert product["name"] == "Water heater flush" and product["incomeAccountId"] == account
    assert [(i["productId"], i["quantity"], i["unitPrice"], i["accountId"]) for i in wave_invoice["items"]] == [
        (product["id"], "2", "175", account),
        (product["id"], "1.5", "33.33", account),
    ]
    (customer,) = books["entities"]["customers"]
    assert customer["name"] == "Jane Doe" and wave_invoice["customerId"] == customer["id"]
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert detail.body["providerIds"] == {"wave": wave_invoice["id"]}
    assert detail.body["syncButton"]["label"] == "Resync to Wave"
    # And a recorded payment is queued and pushed
    p1 = pay(api, inv["id"], "350.00")
    drain(sqs, queues["payment-sync"], "sync_payments")
    assert tenant(world["url"], business)["counts"]["payments"] == 1
    # When another payment is recorded after the sync and Resync is clicked before its message is processed
    p2 = pay(api, inv["id"], "50.00", method="cash")
    r = resync(inv["id"])
    assert r.status == 200, r.body
    statuses = {p["id"]: (p["status"], p["action"]) for p in r.body["payments"]}
    assert statuses == {p1["id"]: ("synced", "unchanged"), p2["id"]: ("synced", "created")}
    # Then the queued message for the second payment changes nothing: exactly two payments in the books
    drain(sqs, queues["payment-sync"], "sync_payments")
    books = tenant(world["url"], business)
    assert books["counts"]["payments"] == 2
    assert sorted((p["amount"], p["paymentMethod"]) for p in books["entities"]["payments"]) == [
        ("350.00", "CHEQUE"),
        ("50.00", "CASH"),
    ]
    cash = next(a for a in books["entities"]["accounts"] if a["name"] == "Cash on Hand")
    assert {p["invoiceId"] for p in books["entities"]["payments"]} == {wave_invoice["id"]}
    assert all(p["memo"].startswith("BlueClerk payment ") for p in books["entities"]["payments"])
    (wave_invoice,) = books["entities"]["invoices"]
    assert (wave_invoice["status"], wave_invoice["amountDue"]) == ("PAID", "0.00")
    assert books["counts"]["customers"] == 1 and books["counts"]["products"] == 1
    assert cash  # payments land in the business's Cash on Hand account
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert all(p["providerIds"].get("wave") for p in detail.body["payments"])
    _sent_documents_are_valid(world)


def test_unmapped_item_is_not_pushed_and_notifies_once(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    business = connect_wave("co_a")
    inv = _setup_invoice(api)["invoice"]
    send(api, inv["id"])
    for _ in range(2):
        r = resync(inv["id"])
        assert r.status == 400 and r.body["error"]["code"] == "item_unmapped"
        assert "'Water heater flush'" in r.body["error"]["message"] and "Wave" in r.body["error"]["message"]
    books = tenant(world["url"], business)
    assert books["counts"]["invoices"] == 0 and books["counts"]["products"] == 0
    notes = notifications()
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "item_unmapped"


def test_a_changed_mapping_moves_the_product_to_the_new_income_account(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    world["business"] = business = connect_wave("co_a")
    first = map_default_income_account("wave", "co_a")
    made = _setup_invoice(api)
    send(api, made["invoice"]["id"])
    assert resync(made["invoice"]["id"]).status == 200
    accounts = invoke(api, http_event("api/list_integrations.json", path="/integrations/wave/accounts")).body["data"]
    assert {a["type"] for a in accounts} <= {"Income", "Other Income"}
    assert "Old Sales (archived)" not in {a["name"] for a in accounts}
    other = next(a["id"] for a in accounts if a["id"] != first)
    body = {"wave": {"defaultAccountId": first, "items": {made["item"]["id"]: other}}}
    assert invoke(api, http_event("api/put_account_mappings.json", body=body)).status == 200
    # When a second invoice with the same item is pushed
    body = {
        "number": "INV-1002",
        "customerId": made["customer"]["id"],
        "issueDate": "2026-11-25",
        "lines": [{"itemId": made["item"]["id"], "quantity": "1", "unitPrice": "99.00"}],
    }
    inv2 = invoke(api, http_event("api/create_invoice.json", body=body)).body
    send(api, inv2["id"])
    assert resync(inv2["id"]).status == 200
    # Then the one product (Wave lines need one) now posts to the newly mapped account, and so do the new lines
    books = tenant(world["url"], business)
    products = [p for p in books["entities"]["products"] if p["name"] == "Water heater flush"]
    assert len(products) == 1 and products[0]["incomeAccountId"] == other
    second = next(i for i in books["entities"]["invoices"] if i["invoiceNumber"] == "INV-1002")
    assert {i["accountId"] for i in second["items"]} == {other}
    _sent_documents_are_valid(world)


def test_customer_edits_are_pushed_and_item_sync_is_refused_for_wave(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    business = connect_wave("co_a")
    map_default_income_account("wave", "co_a")
    refused = invoke(
        api,
        http_event(
            "api/list_integrations.json",
            method="PUT",
            path="/integrations/wave/settings",
            body={"syncInvoices": True, "syncCustomers": True, "syncItems": True},
        ),
    )
    assert refused.status == 400 and refused.body["error"]["code"] == "item_sync_unsupported"
    made = _setup_invoice(api)
    send(api, made["invoice"]["id"])
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    cid = made["customer"]["id"]
    r = invoke(
        api,
        http_event(
            "api/get_invoice.json", method="PATCH", path=f"/customers/{cid}", body={"email": "jane@example.net"}
        ),
    )
    assert r.status == 200, r.body
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    (customer,) = tenant(world["url"], business)["entities"]["customers"]
    assert customer["email"] == "jane@example.net"


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
    connect_wave("co_a")
    map_default_income_account("wave", "co_a")
    inv = _setup_invoice(api)["invoice"]
    send(api, inv["id"])
    resync(inv["id"])
    tokens = wiring.token_manager().current("co_a", "wave")
    logger._logger.removeHandler(handler)
    logs = sink.getvalue()
    assert "provider connected" in logs
    for secret in (tokens.access_token, tokens.refresh_token, "local-wave-secret"):
        assert secret not in logs
