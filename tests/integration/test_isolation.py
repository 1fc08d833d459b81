"""Every route, called with a second company's token on the first company's ids, answers 404 and leaks nothing."""

from __future__ import annotations

import json
import re
from typing import Any

from booksync.openapi import openapi_json
from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.test_api_flow import _setup_invoice

HANDLERS = {"/invoices/{invoice_id}/sync": "sync_invoice", "/integrations/{provider}/callback": "oauth_callback"}
BODIES: dict[str, Any] = {
    "/customers/{customer_id}": {"name": "Stolen"},
    "/items/{item_id}": {"price": "1.00"},
    "/invoices/{invoice_id}": {"status": "VOID"},
    "/invoices/{invoice_id}/payments": {"amount": "1.00", "method": "cash"},
    "/integrations/{provider}/settings": {"syncInvoices": True, "syncCustomers": True, "syncItems": False},
    "/account-mappings": {"quickbooks": {"defaultAccountId": "1", "items": {}}},
    "/customers": {"name": "B's customer"},
    "/items": {"name": "B's item", "price": "1.00"},
}


def test_second_company_sees_nothing_of_the_first_on_any_route(api: Any) -> None:
    # Given company A with a customer, item, invoice (sent, paid once), mapping and a notification
    made = _setup_invoice(api, company="co_a")
    inv = made["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send", company="co_a"))
    pay = invoke(api, http_event("api/record_payment.json", path=f"/invoices/{inv['id']}/payments", company="co_a"))
    mapping = {"quickbooks": {"defaultAccountId": "79", "items": {made["item"]["id"]: "80"}}}
    assert invoke(api, http_event("api/put_account_mappings.json", body=mapping, company="co_a")).status == 200
    from booksync.wiring import notification_service

    note = notification_service().notify(
        "co_a", code="item_unmapped", message="A's secret problem", entity_type="invoice", entity_id=inv["id"]
    )
    ids = {
        "customer_id": made["customer"]["id"],
        "item_id": made["item"]["id"],
        "invoice_id": inv["id"],
        "notification_id": note.id,
        "provider": "quickbooks",
    }
    secrets = [
        ids["customer_id"],
        ids["item_id"],
        ids["invoice_id"],
        note.id,
        pay.body["id"],
        "A's secret problem",
        "Jane Doe",
        "INV-1001",
    ]
    spec = json.loads(openapi_json())
    checked = 0
    for path, ops in spec["paths"].items():
        for method in ops:
            concrete = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
            handler = load_function(HANDLERS.get(path, "api")).lambda_handler
            template = "oauth_callback/quickbooks_callback.json" if "callback" in path else "api/create_customer.json"
            body = BODIES.get(path) if method in ("post", "put", "patch") else None
            # When company B calls it with A's ids
            r = invoke(handler, http_event(template, method=method.upper(), path=concrete, body=body, company="co_b"))
            text = json.dumps(r.body) + json.dumps(r.headers)
            # Then nothing of A appears, and A's objects are 404
            for s in secrets:
                if s in concrete:
                    continue  # B sent this id itself; echoing it back in "not found" reveals nothing
                assert s not in text, f"{method.upper()} {path} leaked {s!r}: {text[:300]}"
            if any(k in path for k in ("{customer_id}", "{item_id}", "{invoice_id}", "{notification_id}")):
                assert r.status == 404, f"{method.upper()} {path} -> {r.status} {r.body}"
            checked += 1
    assert checked >= 24  # every route of API.md was walked
    # And A's data is unchanged by B's attempts
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}", company="co_a"))
    assert detail.body["status"] == "SENT" and len(detail.body["payments"]) == 1
    cust = invoke(api, http_event("api/get_invoice.json", path=f"/customers/{ids['customer_id']}", company="co_a"))
    assert cust.body["name"] == "Jane Doe"
    got = invoke(api, http_event("api/put_account_mappings.json", method="GET", body=None, company="co_a"))
    assert got.body["quickbooks"]["defaultAccountId"] == "79"
