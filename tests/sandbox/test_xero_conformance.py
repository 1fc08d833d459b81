"""Conformance with Xero's official OpenAPI files (``$BOOKSYNC_SPECS_DIR``, default ../shared/specs).

The checker (tests/integration/xero_helpers.py ``XeroSpec``: openapi-core 0.23 + a strict undeclared-field pass)
accepts Xero's own examples, rejects broken exchanges, and finds zero violations in every request the Xero adapter
sends (each port operation, driven here against the sandbox) and every answer the sandbox gives.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from booksync.catalog.models import Address, Customer, Item
from booksync.invoicing.models import Invoice, InvoiceLine, Payment, PaymentMethod
from booksync.providers.xero.accounting import XeroAccounting
from booksync.sync.ports import LineRef, Ref, Rejected, Session
from local.sandbox.server import SandboxServer
from local.sandbox.xero import Exchange
from tests.integration.xero_helpers import (
    SpecReport,
    XeroClient,
    XeroSpec,
    assert_conformant,
    specs_dir,
    specs_missing_reason,
)

pytestmark = pytest.mark.skipif(specs_missing_reason() is not None, reason=specs_missing_reason() or "")
AGENT = {"user-agent": "BlueClerk-AccountingSync/1.0", "xero-tenant-id": "x", "accept": "application/json"}
LIMITS = {"x-minlimit-remaining": "59", "x-daylimit-remaining": "4999", "x-appminlimit-remaining": "9999"}
NOW = dt.datetime(2026, 11, 24, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def spec() -> XeroSpec:
    return XeroSpec(specs_dir())


def fixture(name: str) -> bytes:
    return (specs_dir() / "fixtures" / "xero" / name).read_bytes()


def exchange(
    method: str, path: str, body: bytes = b"", status: int = 200, response: bytes = b"", **kw: Any
) -> Exchange:
    headers = {**AGENT, "content-type": "application/json"} if body else dict(AGENT)
    return Exchange(
        method=method,
        path=f"/xero/api.xro/2.0/{path}",
        query=kw.pop("query", ""),
        headers=headers,
        body=body,
        status=status,
        response_headers={"content-type": "application/json", **LIMITS, **kw.pop("response_headers", {})},
        response_body=response,
    )


def test_the_checker_accepts_xeros_own_examples_but_for_their_known_slips(spec: XeroSpec) -> None:
    put = {name: fixture(f"{name.lower()}_put_request.json") for name in ("Invoices", "Contacts", "Items", "Payments")}
    cases = [
        exchange("PUT", "Invoices", put["Invoices"], response=fixture("invoices_put_response_200.json")),
        exchange("PUT", "Contacts", put["Contacts"], response=fixture("contacts_put_response_200.json")),
        exchange("PUT", "Contacts", put["Contacts"], 400, fixture("contacts_put_response_400_duplicate_name.json")),
        exchange("PUT", "Items", put["Items"], response=fixture("items_put_response_200.json")),
        exchange(
            "PUT", "Payments", put["Payments"], response=fixture("payments_put_response_200_with_validation_error.json")
        ),
        exchange("GET", "Accounts", response=fixture("accounts_get_response_200.json")),
        exchange("GET", "Invoices", query="page=1", response=fixture("invoices_get_response_200_paged.json")),
        exchange("GET", "Contacts", query="page=1", response=fixture("contacts_get_response_200_paged.json")),
    ]
    report = spec.check(cases)
    assert (report.checked_requests, report.checked_responses) == (8, 8)
    # Xero's examples are clean except for these slips of the spec itself, which the strict checker does see
    flagged = sorted({v.split(": ", 1)[1].split(" at [")[0].split(" (schema")[0] for v in report.violations})
    assert flagged == [
        "request: InvalidRequestBody: Tried to write read-only property with /Date(1551399321043+0000)/",
        "undeclared field $.Contacts[0].TaxNumbeType",  # sic: a typo for TaxNumberType in the example
        "undeclared field $.Contacts[1].TaxNumbeType",
        "undeclared field $.Invoices[0].Contact.ContactGroups[0].HasValidationErrors",
    ]


def test_the_checker_rejects_what_the_spec_does_not_allow(spec: XeroSpec) -> None:
    good = json.loads(fixture("invoices_put_response_200.json"))
    wrong_type = json.loads(json.dumps(good))
    wrong_type["Invoices"][0]["Total"] = "forty"
    unknown_field = json.loads(json.dumps(good))
    unknown_field["Invoices"][0]["InvoiceNo"] = "INV-0007"
    bad_enum = json.loads(json.dumps(good))
    bad_enum["Invoices"][0]["Status"] = "APPROVED"
    read_only = {"Invoices": [{"Type": "ACCREC", "Total": 10, "Contact": {"ContactID": "not-a-uuid"}}]}
    cases = {
        "type": exchange("GET", "Invoices", response=json.dumps(wrong_type).encode()),
        "undeclared": exchange("GET", "Invoices", response=json.dumps(unknown_field).encode()),
        "enum": exchange("GET", "Invoices", response=json.dumps(bad_enum).encode()),
        "request": exchange("PUT", "Invoices", json.dumps(read_only).encode(), response=json.dumps(good).encode()),
        "no limit headers": Exchange("GET", "/xero/api.xro/2.0/Accounts", "", dict(AGENT), b"", 200,
                                     {"content-type": "application/json"}, fixture("accounts_get_response_200.json")),
        "429": exchange("GET", "Accounts", status=429, response_headers={"x-rate-limit-problem": "hour"}),
        "401": exchange("GET", "Accounts", status=401, response=b'{"Title": "Unauthorized"}'),
        "token": Exchange("POST", "/xero/connect/token", "", {}, b"", 200, {}, b'{"access_token": 1}'),
    }  # fmt: skip
    for name, case in cases.items():
        assert spec.check([case]).violations, f"{name} was not flagged"


@pytest.fixture
def xero(http: httpx.Client, sandbox: SandboxServer) -> XeroClient:
    client = XeroClient(http, sandbox)
    client.configure(record_exchanges=True)
    return client


def test_every_adapter_request_and_every_answer_conforms(xero: XeroClient, sandbox: SandboxServer) -> None:
    conn = xero.connect()
    s = Session(tenant_id=conn.tenant_id, access_token=conn.access_token)
    adapter = XeroAccounting(
        api_base=f"{sandbox.url}/xero", http=httpx.Client(headers={"User-Agent": AGENT["user-agent"]})
    )
    customer = Customer(
        id="cus_1", name="Jane Doe", given_name="Jane", family_name="Doe", email="jane@example.com", phone="555-0100",
        billing_address=Address(line1="1 Main St", city="Springfield", postal_code="94000", country="US"),
        created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    item = Item(id="itm_1", name="Water heater flush", description="Flush", price=Decimal("175.00"), sku="WHF",
                created_at=NOW, updated_at=NOW)  # fmt: skip
    assert {a.id for a in adapter.income_accounts(s)} == {"200", "260", "270"}
    assert adapter.find_customer(s, customer) is None
    cust = adapter.create_customer(s, customer, "bc-cus_1-c")
    assert adapter.find_customer(s, customer) == cust
    adapter.update_customer(s, cust, customer.model_copy(update={"email": "jane@example.net"}))
    assert adapter.find_item(s, item) is None
    made_item = adapter.create_item(s, item, "200", "bc-itm_1-c")
    assert adapter.find_item(s, item) is not None
    adapter.update_item(s, made_item, item.model_copy(update={"price": Decimal("189.5")}), "260")
    line = LineRef(Ref(made_item.id), "260", Decimal("2"), Decimal("175.00"), Decimal("350.00"), "Flush")
    invoice = Invoice(
        id="inv_1",
        number="INV-1001",
        customer_id="cus_1",
        issue_date=dt.date(2026, 11, 24),
        due_date=dt.date(2026, 12, 24),
        lines=[
            InvoiceLine(item_id="itm_1", quantity=Decimal("2"), unit_price=Decimal("175.00"), amount=Decimal("350"))
        ],
        total=Decimal("350.00"),
        created_at=NOW,
        updated_at=NOW,
    )
    assert adapter.find_invoice(s, "INV-1001") is None
    ref = adapter.create_invoice(s, invoice, cust, [line], "bc-inv_1-c")
    assert adapter.find_invoice(s, "INV-1001") == ref and adapter.get_invoice(s, ref).version == "AUTHORISED"
    wider = LineRef(Ref(made_item.id), "260", Decimal("3"), Decimal("175.00"), Decimal("525.00"), "Flush")
    adapter.update_invoice(s, ref, invoice, cust, [wider], "bc-inv_1-v2")
    payment = Payment(id="pay_1", invoice_id="inv_1", amount=Decimal("100"), method=PaymentMethod.CARD,
                      date=dt.date(2026, 11, 25), reference="CHK-1", created_at=NOW)  # fmt: skip
    assert adapter.find_payment(s, payment, ref) is None
    paid = adapter.create_payment(s, payment, ref, cust, "bc-pay_1")
    assert adapter.find_payment(s, payment, ref) == Ref(paid.id, marker=paid.marker)
    moved = invoice.model_copy(update={"due_date": dt.date(2027, 1, 15)})
    adapter.update_invoice(s, ref, moved, cust, [wider], "bc-inv_1-v3")  # due date only: allowed with payments
    with pytest.raises(Rejected, match="has payments in Xero"):
        adapter.update_invoice(s, ref, moved, cust, [line], "bc-inv_1-v4")
    exchanges = list(sandbox.core.providers["xero"].exchanges)  # type: ignore[attr-defined]
    sent = {(e.method, _template(e.path)) for e in exchanges if "BlueClerk" in e.headers.get("user-agent", "")}
    assert sent == {
        ("GET", "Accounts"), ("GET", "Contacts"), ("PUT", "Contacts"), ("POST", "Contacts/{id}"), ("GET", "Items"),
        ("PUT", "Items"), ("POST", "Items/{id}"), ("GET", "Invoices"), ("PUT", "Invoices"), ("GET", "Invoices/{id}"),
        ("POST", "Invoices/{id}"), ("PUT", "Payments"),
    }  # fmt: skip
    report = assert_conformant(sandbox, SpecReport())
    assert report.checked_requests >= 20 and report.violations == []


def _template(path: str) -> str:
    parts = path.split("/api.xro/2.0/", 1)[-1].split("/")
    return parts[0] + ("/{id}" if len(parts) > 1 else "")
