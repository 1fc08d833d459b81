"""The QuickBooks sandbox against Intuit's own XSD: field names, repeated elements, kinds and enumerations.

The specs directory comes from one setting: env BOOKSYNC_SPECS_DIR, default ``../shared/specs`` from the repo root.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from local.sandbox import quickbooks as qbo_module
from local.sandbox.quickbooks_xsd import XsdSchema, generate_module

if TYPE_CHECKING:
    from conftest import Connection, Qbo

REPO_ROOT = Path(__file__).resolve().parents[2]


def specs_dir() -> Path:
    """The one setting for the official specs: BOOKSYNC_SPECS_DIR, default ../shared/specs from the repo root."""
    configured = os.environ.get("BOOKSYNC_SPECS_DIR")
    return Path(configured) if configured else (REPO_ROOT / ".." / "shared" / "specs").resolve()


# Fault.type values Intuit sends that its XSD does not list (providers/quickbooks.md sections 6 and 7):
# "SERVICE" on 429 ThrottleExceeded, and "AuthorizationFault" which the XSD misspells "AuthorizatonFault".
OBSERVED_FAULT_TYPES = {"SERVICE", "AuthorizationFault"}
# The seeded payment-method names and the PaymentMethodEnum value each stands for.
PAYMENT_METHOD_ENUM = {
    "Cash": "Cash",
    "Check": "Check",
    "Visa": "Visa",
    "MasterCard": "MasterCard",
    "American Express": "AmEx",
    "Discover": "Discover",
}


@pytest.fixture(scope="module")
def xsd() -> XsdSchema:
    directory = specs_dir() / "quickbooks_xsd"
    if not directory.is_dir():
        pytest.skip(
            f"QuickBooks XSD not found at {directory}: set BOOKSYNC_SPECS_DIR to the shared specs directory "
            "(the one holding quickbooks_xsd/) to run the conformance checks"
        )
    return XsdSchema(directory)


def enum(xsd: XsdSchema, name: str) -> set[str]:
    values = xsd.enum(name)
    assert values, f"{name} missing from the XSD"
    return set(values)


def test_schema_module_is_generated_from_the_xsd(xsd: XsdSchema) -> None:
    generated = generate_module(specs_dir() / "quickbooks_xsd")
    committed = Path(qbo_module.__file__).with_name("quickbooks_schema.py").read_text(encoding="utf-8")
    assert committed == generated, "regenerate local/sandbox/quickbooks_schema.py (see its docstring)"


def test_sandbox_enumerations_are_subsets_of_the_xsd(xsd: XsdSchema) -> None:
    assert set(qbo_module.ITEM_TYPES) <= enum(xsd, "ItemTypeEnum")
    assert set(qbo_module.INVOICE_LINE_TYPES) <= enum(xsd, "LineDetailTypeEnum")
    assert set(qbo_module.ACCOUNT_CLASSIFICATION) <= enum(xsd, "AccountTypeEnum")
    assert set(qbo_module.ACCOUNT_CLASSIFICATION.values()) <= enum(xsd, "AccountClassificationEnum")
    assert qbo_module.ENTITY_STATUS_DELETED in enum(xsd, "EntityStatusEnum")
    assert set(qbo_module.FAULT_TYPES) <= enum(xsd, "FaultTypeEnum") | OBSERVED_FAULT_TYPES
    assert {name for name, _ in qbo_module.SEED_PAYMENT_METHODS} == set(PAYMENT_METHOD_ENUM)
    assert set(PAYMENT_METHOD_ENUM.values()) <= enum(xsd, "PaymentMethodEnum")


def test_entity_field_sets_match_the_xsd(xsd: XsdSchema) -> None:
    for entity in qbo_module.ENTITY_NAMES:
        xsd_fields = set(xsd.fields(entity))
        assert qbo_module.READONLY[entity] <= xsd_fields, entity
        assert qbo_module.HANDLED_REFS[entity] <= xsd_fields, entity
        assert set(qbo_module.QUERYABLE[entity]) - set(qbo_module.META_FIELDS) <= xsd_fields, entity


def test_payment_type_enum_is_enforced_on_input(qbo: Qbo, conn: Connection, xsd: XsdSchema) -> None:
    customer = qbo.customer(conn)
    for value in sorted(enum(xsd, "PaymentTypeEnum")):
        assert qbo.payment(conn, customer["Id"], "1", PaymentType=value).status_code == 200, value
    assert qbo.error(qbo.payment(conn, customer["Id"], "1", PaymentType="Bitcoin"))["code"] == "2010"


def test_item_type_enum_values_outside_the_supported_subset_are_refused_clearly(
    qbo: Qbo, conn: Connection, xsd: XsdSchema
) -> None:
    income = qbo.account_id(conn, "Services")
    for value in sorted(enum(xsd, "ItemTypeEnum") - set(qbo_module.ITEM_TYPES)):
        body = {"Name": f"T {value}", "Type": value, "IncomeAccountRef": {"value": income}}
        assert qbo.error(qbo.api(conn, "POST", "item", json=body))["code"] == "500", value


def sample_responses(qbo: Qbo, conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """One of everything the sandbox returns, obtained over HTTP."""
    customer = qbo.customer(
        conn,
        "Conformance Co",
        GivenName="Jane",
        PrimaryEmailAddr={"Address": "jane@example.com"},
        BillAddr={"Line1": "1 Main St", "City": "Springfield", "CountrySubDivisionCode": "CA", "PostalCode": "94000"},
        PrimaryPhone={"FreeFormNumber": "(555) 555-0100"},
        PaymentMethodRef={"value": qbo.payment_method_id(conn, "Visa")},
    )
    job = qbo.customer(conn, "Conformance Job", ParentRef={"value": customer["Id"]})
    item = qbo.item(conn, "Conformance Item", Sku="C-1", Description="d", Taxable=False)
    invoice = qbo.invoice(
        conn,
        customer["Id"],
        [
            qbo.line(item["Id"], "2", "12.50"),
            {"DetailType": "DescriptionOnly", "Description": "note"},
        ],
        DocNumber="CONF-1",
        BillEmail={"Address": "ap@example.com"},
        CustomerMemo={"value": "thanks"},
        PrivateNote="private",
    )
    payment_response = qbo.payment(
        conn, customer["Id"], "30", {invoice["Id"]: "20"}, PaymentRefNum="CHK-1", PaymentType="Check"
    )
    assert payment_response.status_code == 200, payment_response.text
    payment = payment_response.json()["Payment"]
    invoice_after = qbo.read(conn, "Invoice", invoice["Id"])
    account = qbo.create(conn, "Account", {"Name": "Conformance Income", "AccountType": "Income", "AcctNum": "4100"})
    method = qbo.create(conn, "PaymentMethod", {"Name": "Conformance ACH", "Type": "NON_CREDIT_CARD"})
    accounts = qbo.query(conn, "select * from Account maxresults 1000")["Account"]
    methods = qbo.query(conn, "select * from PaymentMethod")["PaymentMethod"]
    info = qbo.read(conn, "CompanyInfo", conn.realm_id)
    return {
        "Customer": [customer, job, qbo.read(conn, "Customer", customer["Id"])],
        "Item": [item],
        "Invoice": [invoice, invoice_after],
        "Payment": [payment],
        "Account": [account, *accounts],
        "PaymentMethod": [method, *methods],
        "CompanyInfo": [info],
    }


def test_every_entity_the_sandbox_returns_reads_as_its_xsd_type(qbo: Qbo, conn: Connection, xsd: XsdSchema) -> None:
    problems = []
    for entity, rows in sample_responses(qbo, conn).items():
        for row in rows:
            problems += xsd.validate_json(entity, row)
    assert problems == []


def test_the_validator_catches_what_it_should(xsd: XsdSchema) -> None:
    # An honest conformance test must fail on wrong shapes: a few deliberately broken entities.
    assert xsd.validate_json("Customer", {"DisplayNmae": "x"})
    assert xsd.validate_json("Invoice", {"Line": {"Amount": 1}})  # not an array
    assert xsd.validate_json("Invoice", {"EmailStatus": "Sent"})  # not an EmailStatusEnum value
    assert xsd.validate_json("Invoice", {"TotalAmt": "25.00"})  # decimal sent as a string
    assert xsd.validate_json("Item", {"Type": "Widget"})
    assert xsd.validate_json("Customer", {"MetaData": {"CreateTime": "2024-01-01T00:00:00"}})  # no offset


def test_deleted_objects_and_status_values_read_as_xsd(qbo: Qbo, conn: Connection, xsd: XsdSchema) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    invoice = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "1", "12.50")])
    deleted = qbo.api(
        conn, "POST", "invoice", params={"operation": "delete"}, json={"Id": invoice["Id"], "SyncToken": "0"}
    )
    tombstone = deleted.json()["Invoice"]
    assert xsd.validate_json("Invoice", tombstone) == []
    assert tombstone["status"] in enum(xsd, "EntityStatusEnum")
    clock = qbo.http.get("/_sandbox/clock").json()["now"][:19] + "+00:00"
    since = clock.replace(clock[11:19], "00:00:00")
    cdc = qbo.api(conn, "GET", "cdc", params={"entities": "Invoice,Customer", "changedSince": since}).json()
    for response in cdc["CDCResponse"][0]["QueryResponse"]:
        for entity in ("Invoice", "Customer"):
            for row in response.get(entity, []):
                assert xsd.validate_json(entity, row) == []


def fault_samples(qbo: Qbo, conn: Connection) -> list[dict[str, Any]]:
    samples = [
        qbo.api(conn, "POST", "customer", json={"Bogus": 1}).json(),
        qbo.api(conn, "GET", "customer/424242").json(),
        qbo.api(conn, "GET", "query", params={"query": "select"}).json(),
        qbo.api(conn, "GET", "companyinfo/1", token="bad").json(),
    ]
    qbo.configure(rate_limit_per_minute=1)  # the requests above already used the minute up
    samples.append(qbo.api(conn, "GET", "companyinfo/1").json())
    qbo.configure(rate_limit_per_minute=500)
    qbo.add_fault(method="GET", path="companyinfo", mode="status", status=500)
    samples.append(qbo.api(conn, "GET", "companyinfo/1").json())
    qbo.add_fault(method="GET", path="companyinfo", mode="status", status=403)
    samples.append(qbo.api(conn, "GET", "companyinfo/1").json())
    return [s for s in samples if "Fault" in s]


def test_fault_envelopes_use_xsd_error_fields_and_known_types(qbo: Qbo, conn: Connection, xsd: XsdSchema) -> None:
    faults = fault_samples(qbo, conn)
    assert len(faults) == 7
    allowed_types = enum(xsd, "FaultTypeEnum") | OBSERVED_FAULT_TYPES
    seen_types = set()
    for body in faults:
        assert set(body) == {"Fault", "time"}
        fault = body["Fault"]
        seen_types.add(fault["type"])
        assert fault["type"] in allowed_types
        assert xsd.validate_json("Fault", fault) == []
        for error in fault["Error"]:
            assert error["code"].isdigit()
    assert {"ValidationFault", "AuthenticationFault", "SystemFault", "SERVICE", "AuthorizationFault"} <= seen_types
