"""The main flow through the API handler, with moto in-process: customer, item, invoice, send, two payments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.helpers import http_event, invoke, load_event


def _setup_invoice(api: Any, company: str = "co_a", number: str = "INV-1001") -> dict[str, Any]:
    cust = invoke(api, http_event("api/create_customer.json", company=company))
    assert cust.status == 201, cust.body
    item = invoke(api, http_event("api/create_item.json", company=company))
    assert item.status == 201, item.body
    body = {
        "number": number,
        "customerId": cust.body["id"],
        "issueDate": "2026-11-24",
        "dueDate": "2026-12-24",
        "lines": [
            {"itemId": item.body["id"], "quantity": "2", "unitPrice": "175.00"},
            {"itemId": item.body["id"], "quantity": "1.5", "unitPrice": "33.33", "description": "Extra hour"},
        ],
    }
    inv = invoke(api, http_event("api/create_invoice.json", body=body, company=company))
    assert inv.status == 201, inv.body
    return {"customer": cust.body, "item": item.body, "invoice": inv.body}


def test_invoice_flow_amount_paid_is_the_sum_of_payments(api: Any) -> None:
    # Given a customer, an item and an invoice with two lines
    made = _setup_invoice(api)
    inv = made["invoice"]
    assert inv["status"] == "DRAFT"
    assert [line["amount"] for line in inv["lines"]] == ["350.00", "50.00"]  # 1.5 x 33.33 = 49.995 -> 50.00
    assert inv["total"] == "400.00"
    assert inv["amountPaid"] == "0.00"
    assert "syncButton" not in inv  # nothing connected
    # When it is sent and two payments are recorded
    sent = invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    assert sent.status == 200 and sent.body["status"] == "SENT"
    p1 = invoke(api, http_event("api/record_payment.json", path=f"/invoices/{inv['id']}/payments"))
    assert p1.status == 201, p1.body
    p2 = invoke(
        api,
        http_event(
            "api/record_payment.json",
            path=f"/invoices/{inv['id']}/payments",
            body={"amount": "25.50", "method": "cash", "date": "2026-11-25"},
        ),
    )
    assert p2.status == 201, p2.body
    # Then the detail's amountPaid is their sum, with the payments listed
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert detail.status == 200
    assert Decimal(detail.body["amountPaid"]) == Decimal("350.00") + Decimal("25.50")
    assert detail.body["balance"] == "24.50"
    assert [p["amount"] for p in detail.body["payments"]] == ["350.00", "25.50"]
    assert all(p["providerIds"] == {} for p in detail.body["payments"])
    assert detail.body["providerIds"] == {}


def test_paying_the_balance_marks_the_invoice_paid_and_overpaying_is_refused(api: Any) -> None:
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    path = f"/invoices/{inv['id']}/payments"
    over = invoke(api, http_event("api/record_payment.json", path=path, body={"amount": "400.01", "method": "card"}))
    assert over.status == 400
    assert over.body["error"]["code"] == "payment_exceeds_balance"
    assert "400.00" in over.body["error"]["message"]
    full = invoke(api, http_event("api/record_payment.json", path=path, body={"amount": "400.00", "method": "ach"}))
    assert full.status == 201
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert detail.body["status"] == "PAID"
    again = invoke(api, http_event("api/record_payment.json", path=path, body={"amount": "0.01", "method": "cash"}))
    assert again.body["error"]["code"] == "payment_exceeds_balance"


def test_payment_with_same_idempotency_key_is_recorded_once(api: Any) -> None:
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    path = f"/invoices/{inv['id']}/payments"
    first = invoke(api, http_event("api/record_payment.json", path=path, headers={"Idempotency-Key": "click-1"}))
    second = invoke(api, http_event("api/record_payment.json", path=path, headers={"Idempotency-Key": "click-1"}))
    assert (first.status, second.status) == (201, 200)
    assert first.body["id"] == second.body["id"]
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert len(detail.body["payments"]) == 1


def test_invoice_list_has_sync_status_and_hides_it_until_something_synced(api: Any) -> None:
    _setup_invoice(api, number="INV-1")
    _setup_invoice(api, number="INV-2")
    page = invoke(api, load_event("api/list_invoices.json") | {})
    page = invoke(api, http_event("api/list_invoices.json"))
    assert page.status == 200
    assert page.body["showSyncStatus"] is False
    assert [r["number"] for r in page.body["data"]] == ["INV-1", "INV-2"]
    assert {r["syncStatus"] for r in page.body["data"]} == {"not_synced"}


def test_list_paging_with_cursor_returns_every_row_once(api: Any) -> None:
    for n in range(5):
        body = {"name": f"Customer {n}"}
        assert invoke(api, http_event("api/create_customer.json", body=body)).status == 201
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = invoke(api, http_event("api/list_customers.json", query=query))
        assert page.status == 200, page.body
        seen += [c["name"] for c in page.body["data"]]
        cursor = page.body["nextCursor"]
        if not cursor:
            break
    assert sorted(seen) == [f"Customer {n}" for n in range(5)]
