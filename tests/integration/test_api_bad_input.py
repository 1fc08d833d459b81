"""Bad input gets a clear error: 422 names the fields, 400 says how to fix it, 401/404/413 as API.md says."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import http_event, invoke
from tests.integration.test_api_flow import _setup_invoice


def _err(result: Any) -> dict[str, Any]:
    assert "error" in result.body, result.body
    return result.body["error"]


def test_schema_violation_is_422_naming_each_field(api: Any) -> None:
    bad = {"name": "", "email": "not-an-email", "nickname": "x"}
    r = invoke(api, http_event("api/create_customer.json", body=bad))
    assert r.status == 422
    err = _err(r)
    assert err["code"] == "validation_error"
    fields = {d["field"] for d in err["details"]}
    assert {"name", "email", "nickname"} <= fields
    assert "name" in err["message"]


def test_malformed_json_is_a_clear_422(api: Any) -> None:
    r = invoke(api, http_event("api/create_customer.json", raw_body='{"name": "Jane'))
    assert r.status == 422
    assert _err(r)["details"][0]["field"] == "body"


def test_missing_company_claim_is_401(api: Any) -> None:
    r = invoke(api, http_event("api/list_customers.json", company=None))
    assert r.status == 401
    assert _err(r)["code"] == "unauthorized"


def test_oversized_body_is_413(api: Any) -> None:
    r = invoke(api, http_event("api/create_customer.json", body={"name": "x" * 300_000}))
    assert r.status == 413
    assert _err(r)["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("price", "code"),
    [("-1.00", "invalid_amount"), ("10.001", "invalid_amount")],
)
def test_item_price_must_be_non_negative_cents(api: Any, price: str, code: str) -> None:
    r = invoke(api, http_event("api/create_item.json", body={"name": "Flush", "price": price}))
    assert r.status == 400, r.body
    assert _err(r)["code"] == code
    assert "price" in _err(r)["message"]


def test_non_numeric_price_is_a_schema_error(api: Any) -> None:
    r = invoke(api, http_event("api/create_item.json", body={"name": "Flush", "price": "NaN"}))
    assert r.status == 422 and _err(r)["details"][0]["field"] == "price"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("0", "greater than zero"), ("-5.00", "greater than zero"), ("10.005", "two decimal places")],
)
def test_payment_amount_must_be_positive_cents(api: Any, amount: str, expected: str) -> None:
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    r = invoke(
        api,
        http_event(
            "api/record_payment.json", path=f"/invoices/{inv['id']}/payments", body={"amount": amount, "method": "cash"}
        ),
    )
    assert r.status == 400
    assert _err(r)["code"] == "invalid_amount"
    assert expected in _err(r)["message"]


def test_payment_on_draft_or_void_invoice_is_400(api: Any) -> None:
    inv = _setup_invoice(api)["invoice"]
    path = f"/invoices/{inv['id']}/payments"
    r = invoke(api, http_event("api/record_payment.json", path=path))
    assert r.status == 400 and _err(r)["code"] == "invoice_not_payable"
    assert "send the invoice first" in _err(r)["message"]
    void = invoke(
        api, http_event("api/get_invoice.json", method="PATCH", path=f"/invoices/{inv['id']}", body={"status": "VOID"})
    )
    assert void.status == 200 and void.body["status"] == "VOID"
    r = invoke(api, http_event("api/record_payment.json", path=path))
    assert r.status == 400 and _err(r)["code"] == "invoice_not_payable"


def test_invoice_without_lines_is_400(api: Any) -> None:
    made = _setup_invoice(api)
    body = {"number": "INV-9", "customerId": made["customer"]["id"], "lines": []}
    r = invoke(api, http_event("api/create_invoice.json", body=body))
    assert r.status == 400 and _err(r)["code"] == "invoice_without_lines"


def test_invoice_number_longer_than_21_is_400(api: Any) -> None:
    made = _setup_invoice(api)
    body = {
        "number": "N" * 22,
        "customerId": made["customer"]["id"],
        "lines": [{"itemId": made["item"]["id"], "quantity": "1", "unitPrice": "1.00"}],
    }
    r = invoke(api, http_event("api/create_invoice.json", body=body))
    assert r.status == 400 and _err(r)["code"] == "invoice_number_too_long"
    assert "21" in _err(r)["message"]


def test_duplicate_invoice_number_is_409(api: Any) -> None:
    made = _setup_invoice(api, number="INV-7")
    body = {
        "number": "inv-7",
        "customerId": made["customer"]["id"],
        "lines": [{"itemId": made["item"]["id"], "quantity": "1", "unitPrice": "1.00"}],
    }
    r = invoke(api, http_event("api/create_invoice.json", body=body))
    assert r.status == 409 and _err(r)["code"] == "duplicate_invoice_number"


def test_unknown_item_on_a_line_is_400_naming_it(api: Any) -> None:
    made = _setup_invoice(api)
    body = {
        "number": "INV-8",
        "customerId": made["customer"]["id"],
        "lines": [{"itemId": "itm_nope", "quantity": "1", "unitPrice": "1.00"}],
    }
    r = invoke(api, http_event("api/create_invoice.json", body=body))
    assert r.status == 400 and _err(r)["code"] == "unknown_item"
    assert "itm_nope" in _err(r)["message"]


def test_reference_longer_than_21_is_400(api: Any) -> None:
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    r = invoke(
        api,
        http_event(
            "api/record_payment.json",
            path=f"/invoices/{inv['id']}/payments",
            body={"amount": "1.00", "method": "check", "reference": "R" * 22},
        ),
    )
    assert r.status == 400 and _err(r)["code"] == "reference_too_long"


def test_forged_cursor_is_400(api: Any) -> None:
    r = invoke(api, http_event("api/list_customers.json", query={"cursor": "bm9wZQ"}))
    assert r.status == 400 and _err(r)["code"] == "invalid_cursor"


def test_wave_item_sync_is_refused(api: Any) -> None:
    body = {"syncInvoices": True, "syncCustomers": True, "syncItems": True}
    r = invoke(
        api, http_event("api/list_integrations.json", method="PUT", path="/integrations/wave/settings", body=body)
    )
    assert r.status == 400 and _err(r)["code"] == "item_sync_unsupported"
    ok = invoke(
        api,
        http_event(
            "api/list_integrations.json",
            method="PUT",
            path="/integrations/wave/settings",
            body=body | {"syncItems": False},
        ),
    )
    assert ok.status == 200 and ok.body == {"syncInvoices": True, "syncCustomers": True, "syncItems": False}
    listed = invoke(api, http_event("api/list_integrations.json"))
    wave = next(p for p in listed.body["data"] if p["provider"] == "wave")
    assert wave["settings"]["syncItems"] is False and wave["status"] == "disconnected"


def test_sync_without_a_connection_is_not_connected_and_unknown_provider_is_404(api: Any, sync_fn: Any) -> None:
    inv = _setup_invoice(api)["invoice"]
    sync = invoke(sync_fn, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv['id']}/sync"))
    assert sync.status == 409 and _err(sync)["code"] == "not_connected"
    assert "Settings > Integrations" in _err(sync)["message"]
    unknown = invoke(api, http_event("api/list_integrations.json", method="POST", path="/integrations/sage/connect"))
    assert unknown.status == 404 and _err(unknown)["code"] == "unknown_provider"
