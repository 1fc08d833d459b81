"""Xero sandbox: the Accounting API's rules (uniqueness, status rules, payments, summarizeErrors, idempotency,
If-Modified-Since, paging, headers), each with the answer Xero documents. Exchanges are spec-checked at teardown."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from local.sandbox.server import SandboxServer
from tests.integration.xero_helpers import XeroClient, XeroConnection, assert_conformant


@pytest.fixture
def xero(http: httpx.Client, sandbox: SandboxServer) -> Iterator[XeroClient]:
    client = XeroClient(http, sandbox)
    client.configure(record_exchanges=True)
    yield client
    assert_conformant(sandbox)


@pytest.fixture
def conn(xero: XeroClient) -> XeroConnection:
    return xero.connect()


DUP_NAME = (
    "The contact name Acme Corp is already assigned to another contact. The contact name must be unique across all "
    "active contacts."
)


def test_contact_names_are_unique_among_active_contacts(xero: XeroClient, conn: XeroConnection) -> None:
    first = xero.contact(conn, "Acme Corp")
    assert first["ContactStatus"] == "ACTIVE" and first["UpdatedDateUTC"].startswith("/Date(")
    duplicate = xero.api(conn, "PUT", "Contacts", json={"Contacts": [{"Name": "acme corp "}]})
    assert xero.errors(duplicate) == [DUP_NAME.replace("Acme Corp", "acme corp")]
    # archived contacts free their name
    archived = xero.api(
        conn, "POST", f"Contacts/{first['ContactID']}", json={"Contacts": [{"ContactStatus": "ARCHIVED"}]}
    )
    assert archived.status_code == 200, archived.text
    assert xero.contact(conn, "Acme Corp")["ContactID"] != first["ContactID"]
    listed = xero.ok(xero.api(conn, "GET", "Contacts"), "Contacts")
    assert len(listed) == 1
    assert len(xero.ok(xero.api(conn, "GET", "Contacts", params={"includeArchived": "true"}), "Contacts")) == 2


def test_contact_updates_are_partial_and_checked(xero: XeroClient, conn: XeroConnection) -> None:
    made = xero.contact(conn, "Jane Doe", EmailAddress="jane@example.com")
    xero.contact(conn, "John Roe")
    cid = made["ContactID"]
    phone = {"PhoneType": "MOBILE", "PhoneNumber": "555-0199"}
    changed = xero.ok(
        xero.api(conn, "POST", f"Contacts/{cid}", json={"Contacts": [{"ContactID": cid, "Phones": [phone]}]}),
        "Contacts",
    )[0]
    assert changed["EmailAddress"] == "jane@example.com"
    assert {p["PhoneType"]: p["PhoneNumber"] for p in changed["Phones"]}["MOBILE"] == "555-0199"
    clash = xero.api(conn, "POST", f"Contacts/{cid}", json={"Contacts": [{"Name": "John Roe"}]})
    assert "is already assigned to another contact" in xero.errors(clash)[0]
    bad = xero.api(conn, "POST", f"Contacts/{cid}", json={"Contacts": [{"EmailAddress": "not-an-email"}]})
    assert xero.errors(bad) == ["Email address must be valid."]
    unknown = xero.api(conn, "GET", "Contacts/00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404


def test_summarize_errors_false_answers_each_element(xero: XeroClient, conn: XeroConnection) -> None:
    xero.contact(conn, "Acme Corp")
    body = {"Contacts": [{"Name": "Acme Corp"}, {"Name": "Beta Ltd"}]}
    r = xero.api(conn, "PUT", "Contacts", json=body, params={"summarizeErrors": "false"})
    assert r.status_code == 200, r.text
    bad, good = r.json()["Contacts"]
    assert bad["StatusAttributeString"] == "ERROR" and bad["HasValidationErrors"] is True
    assert bad["ValidationErrors"] == [{"Message": DUP_NAME}]
    assert good["StatusAttributeString"] == "OK" and good["ContactID"]
    # the default (summarizeErrors=true): one bad element makes the whole answer a 400, the good one is still saved
    r = xero.api(conn, "PUT", "Contacts", json={"Contacts": [{"Name": "Beta Ltd"}, {"Name": "Gamma Inc"}]})
    assert xero.errors(r) == [DUP_NAME.replace("Acme Corp", "Beta Ltd")]
    assert xero.tenant()["counts"]["Contacts"] == 3


def test_item_codes_are_unique_and_need_a_valid_sales_account(xero: XeroClient, conn: XeroConnection) -> None:
    item = xero.item(conn, "W-10", 12.5)
    assert item["SalesDetails"] == {"UnitPrice": 12.5, "AccountCode": "200"} and item["IsSold"] is True
    again = xero.api(conn, "PUT", "Items", json={"Items": [{"Code": "W-10", "Name": "Other"}]})
    assert xero.errors(again) == ["Price List Item with Code ''W-10'' already exists"]
    for code, message in (("476", "has been removed as it does not match a recognised account"),
                          ("090", "is not a valid code for this document"),
                          ("205", "is not a valid code for this document")):  # fmt: skip
        r = xero.api(
            conn, "PUT", "Items", json={"Items": [{"Code": f"X-{code}", "SalesDetails": {"AccountCode": code}}]}
        )
        assert message in xero.errors(r)[0]
    long = xero.api(conn, "PUT", "Items", json={"Items": [{"Code": "C" * 31}]})
    assert "30 characters" in xero.errors(long)[0]
    # unit prices round to 2 decimals unless unitdp=4; POST /Items/{id} updates in place
    iid = item["ItemID"]
    body = {"Items": [{"Code": "W-10", "SalesDetails": {"UnitPrice": 13.12345}}]}
    two = xero.ok(xero.api(conn, "POST", f"Items/{iid}", json=body), "Items")[0]
    assert two["SalesDetails"]["UnitPrice"] == 13.12 and two["SalesDetails"]["AccountCode"] == "200"
    four = xero.ok(xero.api(conn, "POST", f"Items/{iid}", json=body, params={"unitdp": "4"}), "Items")[0]
    assert four["SalesDetails"]["UnitPrice"] == 13.1235
    found = xero.ok(xero.api(conn, "GET", "Items", params={"where": 'Code=="W-10"'}), "Items")
    assert [i["ItemID"] for i in found] == [iid]


def test_accrec_invoice_numbers_are_unique(xero: XeroClient, conn: XeroConnection) -> None:
    contact = xero.contact(conn)["ContactID"]
    first = xero.ok(xero.invoice(conn, contact, "INV-1"), "Invoices")[0]
    assert first["Status"] == "AUTHORISED" and first["Total"] == 25.0 and first["AmountDue"] == 25.0
    assert first["LineItems"][0]["LineAmount"] == 25.0 and first["LineItems"][0]["LineItemID"]
    dup = xero.invoice(conn, contact, "inv-1")
    assert xero.errors(dup) == ["Invoice # must be unique."]
    per_element = xero.api(
        conn,
        "PUT",
        "Invoices",
        params={"summarizeErrors": "false"},
        json={"Invoices": [{"Type": "ACCREC", "Contact": {"ContactID": contact}, "InvoiceNumber": "INV-1",
                            "LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 1}]}]},
    )  # fmt: skip
    (element,) = xero.ok(per_element, "Invoices")
    assert element["HasErrors"] is True and element["ValidationErrors"] == [{"Message": "Invoice # must be unique."}]
    # numbers are generated when omitted; bills (ACCPAY) may repeat a number
    auto = xero.ok(xero.invoice(conn, contact, None), "Invoices")[0]
    assert auto["InvoiceNumber"].startswith("INV-")
    bill = {"Type": "ACCPAY", "Contact": {"ContactID": contact}, "InvoiceNumber": "INV-1",
            "LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 1, "AccountCode": "429"}]}  # fmt: skip
    assert xero.api(conn, "PUT", "Invoices", json={"Invoices": [bill]}).status_code == 200
    found = xero.ok(xero.api(conn, "GET", "Invoices", params={"InvoiceNumbers": "INV-1", "page": "1"}), "Invoices")
    assert sorted(i["Type"] for i in found) == ["ACCPAY", "ACCREC"]


def test_invoice_validation(xero: XeroClient, conn: XeroConnection) -> None:
    contact = xero.contact(conn)["ContactID"]
    no_contact = xero.api(conn, "PUT", "Invoices", json={"Invoices": [{"Type": "ACCREC", "LineItems": []}]})
    assert "at least 1 of the following elements to identify the contact" in xero.errors(no_contact)[0]
    no_account = xero.invoice(conn, contact, "A-1", LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 5}])
    assert xero.errors(no_account) == ["Account code must be specified."]
    as_draft = xero.invoice(
        conn, contact, "A-1", status="DRAFT", LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 5}]
    )
    assert as_draft.status_code == 200
    unknown_item = xero.invoice(
        conn, contact, "A-2", LineItems=[{"ItemCode": "NOPE", "Quantity": 1, "UnitAmount": 5, "AccountCode": "200"}]
    )
    assert xero.errors(unknown_item) == ["Item code 'NOPE' is not valid."]
    bad_account = xero.invoice(
        conn, contact, "A-3", LineItems=[{"Description": "x", "Quantity": 1, "UnitAmount": 5, "AccountCode": "476"}]
    )
    assert xero.errors(bad_account) == [
        "Account code '476' has been removed as it does not match a recognised account."
    ]
    no_due = xero.invoice(conn, contact, "A-4", DueDate=None)
    assert "Due Date is required." in xero.errors(no_due)
    euro = xero.invoice(conn, contact, "A-5", CurrencyCode="EUR")
    assert xero.errors(euro) == ["Organisation is not subscribed to currency EUR"]
    # a contact given by an unknown name is created (why our code sends only the ContactID)
    by_name = xero.invoice(conn, None, "A-6", Contact={"Name": "New Person"})  # type: ignore[arg-type]
    assert by_name.status_code == 200 and xero.tenant()["counts"]["Contacts"] == 2


def _invoice(xero: XeroClient, conn: XeroConnection, status: str = "AUTHORISED", number: str = "INV-9") -> dict:
    contact = xero.contact(conn, f"Customer {number}")["ContactID"]
    return xero.ok(xero.invoice(conn, contact, number, status=status), "Invoices")[0]


def test_status_rules_draft_and_submitted_change_freely(xero: XeroClient, conn: XeroConnection) -> None:
    draft = _invoice(xero, conn, "DRAFT")
    iid = draft["InvoiceID"]
    lines = [{"Description": "Two", "Quantity": 1, "UnitAmount": 40, "AccountCode": "200"}]
    r = xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"LineItems": lines, "Status": "SUBMITTED"}]})
    updated = xero.ok(r, "Invoices")[0]
    assert updated["Status"] == "SUBMITTED" and updated["Total"] == 40.0 and len(updated["LineItems"]) == 1
    back = xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"Status": "DRAFT"}]})
    assert xero.ok(back, "Invoices")[0]["Status"] == "DRAFT"
    gone = xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"Status": "DELETED"}]})
    assert xero.ok(gone, "Invoices")[0]["Status"] == "DELETED"
    again = xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"Reference": "x"}]})
    assert xero.errors(again) == ["Invoice not of valid status for modification"]


def test_status_rules_authorised_can_be_edited_or_voided_but_not_go_back(
    xero: XeroClient, conn: XeroConnection
) -> None:
    inv = _invoice(xero, conn)
    iid = inv["InvoiceID"]
    for wanted in ("DRAFT", "DELETED"):
        r = xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"Status": wanted}]})
        assert xero.errors(r) == [f"Invoice status cannot be changed from AUTHORISED to {wanted}"]
    r = xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"Reference": "PO-7", "DueDate": "2026-04-30"}]})
    edited = xero.ok(r, "Invoices")[0]
    assert edited["Reference"] == "PO-7" and edited["DueDateString"] == "2026-04-30T00:00:00"
    voided = xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"Status": "VOIDED"}]})
    assert xero.ok(voided, "Invoices")[0]["Status"] == "VOIDED"
    assert xero.errors(xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"Status": "AUTHORISED"}]})) == [
        "Invoice not of valid status for modification"
    ]


def test_status_rules_with_payments_only_the_due_date_moves(xero: XeroClient, conn: XeroConnection) -> None:
    inv = _invoice(xero, conn)
    iid = inv["InvoiceID"]
    assert xero.payment(conn, iid, 10).status_code == 200
    lines = [{"Description": "Other", "Quantity": 1, "UnitAmount": 99, "AccountCode": "200"}]
    r = xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"LineItems": lines}]})
    assert xero.errors(r) == ["This document cannot be edited as it has a payment or credit note allocated to it."]
    r = xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"Status": "VOIDED"}]})
    assert "has payments allocated" in xero.errors(r)[0]
    moved = xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"DueDate": "2026-05-01"}]})
    assert xero.ok(moved, "Invoices")[0]["DueDateString"].startswith("2026-05-01")
    # sending the current values is no edit
    same = xero.api(
        conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"InvoiceNumber": "INV-9", "Status": "AUTHORISED"}]}
    )
    assert same.status_code == 200, same.text
    assert xero.payment(conn, iid, 15).status_code == 200
    paid = xero.ok(xero.api(conn, "GET", f"Invoices/{iid}"), "Invoices")[0]
    assert paid["Status"] == "PAID" and paid["AmountDue"] == 0 and paid["FullyPaidOnDate"].startswith("/Date(")
    r = xero.api(conn, "POST", f"Invoices/{iid}", json={"Invoices": [{"Reference": "late"}]})
    assert xero.errors(r) == ["This document cannot be edited as it has a payment or credit note allocated to it."]


def test_payments_apply_to_authorised_invoices_up_to_the_amount_due(xero: XeroClient, conn: XeroConnection) -> None:
    inv = _invoice(xero, conn)
    iid = inv["InvoiceID"]
    over = xero.payment(conn, iid, 25.01)
    assert xero.errors(over) == ["Payment amount exceeds the amount outstanding on this document"]
    wrong_account = xero.payment(conn, iid, 5, Account={"Code": "200"})
    assert "does not accept payments" in xero.errors(wrong_account)[0]
    draft = _invoice(xero, conn, "DRAFT", "INV-10")
    assert xero.errors(xero.payment(conn, draft["InvoiceID"], 5)) == [
        "Payments can only be made against Authorised documents."
    ]
    made = xero.ok(xero.payment(conn, iid, 25, Reference="CHK-1"), "Payments")[0]
    assert made["Status"] == "AUTHORISED" and made["PaymentType"] == "ACCRECPAYMENT"
    assert made["Invoice"]["InvoiceID"] == iid and made["Account"]["Code"] == "090"
    listed = xero.ok(xero.api(conn, "GET", f"Invoices/{iid}"), "Invoices")[0]
    assert [p["PaymentID"] for p in listed["Payments"]] == [made["PaymentID"]] and listed["Status"] == "PAID"
    # deleting the payment reopens the invoice
    deleted = xero.api(conn, "POST", f"Payments/{made['PaymentID']}", json={"Status": "DELETED"})
    assert xero.ok(deleted, "Payments")[0]["Status"] == "DELETED"
    reopened = xero.ok(xero.api(conn, "GET", f"Invoices/{iid}"), "Invoices")[0]
    assert reopened["Status"] == "AUTHORISED" and reopened["AmountDue"] == 25.0 and reopened["Payments"] == []


def test_idempotency_key_replays_and_refuses_reuse_with_another_request(xero: XeroClient, conn: XeroConnection) -> None:
    body = {"Contacts": [{"Name": "Once Only"}]}
    first = xero.api(conn, "PUT", "Contacts", json=body, headers={"Idempotency-Key": "k-1"})
    again = xero.api(conn, "PUT", "Contacts", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 200 and first.content == again.content
    assert xero.tenant()["counts"]["Contacts"] == 1
    other = xero.api(conn, "PUT", "Contacts", json={"Contacts": [{"Name": "Else"}]}, headers={"Idempotency-Key": "k-1"})
    assert other.status_code == 400 and "already been used with a different request" in other.json()["Message"]
    # errors are replayed too; the key is forgotten after 6 minutes; keys are at most 128 characters
    dup = xero.api(conn, "PUT", "Contacts", json=body, headers={"Idempotency-Key": "k-2"})
    assert xero.errors(dup)
    xero.advance(361)
    fresh = xero.api(conn, "PUT", "Contacts", json=body, headers={"Idempotency-Key": "k-1"})
    assert "is already assigned" in xero.errors(fresh)[0]
    long = xero.api(conn, "PUT", "Contacts", json={"Contacts": [{"Name": "L"}]}, headers={"Idempotency-Key": "k" * 129})
    assert long.status_code == 400 and "128" in long.json()["Message"]


def test_if_modified_since_and_paging(xero: XeroClient, conn: XeroConnection) -> None:
    for n in range(5):
        xero.contact(conn, f"Contact {n}")
    xero.advance(600)
    cut = xero.http.get("/_sandbox/clock").json()["now"][:19]
    xero.advance(5)
    xero.contact(conn, "Late Comer")
    newer = xero.ok(xero.api(conn, "GET", "Contacts", headers={"If-Modified-Since": cut}), "Contacts")
    assert [c["Name"] for c in newer] == ["Late Comer"]
    page = xero.api(conn, "GET", "Contacts", params={"page": "2", "pageSize": "4", "order": "Name ASC"})
    body = page.json()
    assert body["pagination"] == {"page": 2, "pageSize": 4, "pageCount": 2, "itemCount": 6}
    assert [c["Name"] for c in body["Contacts"]] == ["Contact 4", "Late Comer"]
    too_big = xero.api(conn, "GET", "Contacts", params={"page": "1", "pageSize": "1001"})
    assert too_big.status_code == 400 and too_big.json()["Type"] == "QueryParseException"
    assert xero.api(conn, "GET", "Contacts", params={"page": "0"}).status_code == 400
    where = xero.api(conn, "GET", "Contacts", params={"where": 'Name.StartsWith("contact") AND Name!="Contact 0"'})
    assert len(xero.ok(where, "Contacts")) == 4
    broken = xero.api(conn, "GET", "Contacts", params={"where": 'Name=="x" AND'})
    assert broken.status_code == 400 and broken.json()["Type"] == "QueryParseException"


def test_tenant_header_accept_and_content_type_are_required(xero: XeroClient, conn: XeroConnection) -> None:
    missing = xero.api(conn, "GET", "Accounts", tenant="")
    assert missing.status_code == 403 and missing.json()["Detail"] == "AuthenticationUnsuccessful"
    stranger = xero.api(conn, "GET", "Accounts", tenant="11111111-2222-3333-4444-555555555555")
    assert stranger.status_code == 403
    xml = xero.api(conn, "GET", "Accounts", headers={"Accept": "application/xml"})
    assert xml.status_code == 406
    form = xero.http.put(
        "/xero/api.xro/2.0/Contacts",
        content=b"Name=x",
        headers={"Authorization": f"Bearer {conn.access_token}", "xero-tenant-id": conn.tenant_id,
                 "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert form.status_code == 415
    garbage = xero.http.put(
        "/xero/api.xro/2.0/Contacts",
        content=b"{not json",
        headers={"Authorization": f"Bearer {conn.access_token}", "xero-tenant-id": conn.tenant_id,
                 "Accept": "application/json", "Content-Type": "application/json"},
    )  # fmt: skip
    assert garbage.status_code == 400 and garbage.json()["Type"] == "PostDataInvalidException"
    ok = xero.api(conn, "GET", "Accounts", params={"where": 'Type=="BANK"'})
    assert {a["Code"] for a in xero.ok(ok, "Accounts")} == {"090", "091"}
    for header in ("X-MinLimit-Remaining", "X-DayLimit-Remaining", "X-AppMinLimit-Remaining"):
        assert ok.headers[header].isdigit()


def test_scopes_are_enforced(xero: XeroClient) -> None:
    reader = xero.connect(scope="offline_access accounting.contacts.read")
    assert xero.api(reader, "GET", "Contacts").status_code == 200
    assert xero.api(reader, "PUT", "Contacts", json={"Contacts": [{"Name": "x"}]}).status_code == 403
    assert xero.api(reader, "GET", "Invoices").status_code == 403


def test_a_new_bank_account_can_be_added(xero: XeroClient, conn: XeroConnection) -> None:
    made = xero.api(
        conn, "PUT", "Accounts", json={"Code": "095", "Name": "Petty Cash", "Type": "BANK", "BankAccountNumber": "1"}
    )
    (account,) = xero.ok(made, "Accounts")
    assert account["Class"] == "ASSET" and account["Status"] == "ACTIVE"
    dup = xero.api(conn, "PUT", "Accounts", json={"Code": "096", "Name": "petty cash", "Type": "BANK",
                                                  "BankAccountNumber": "2"})  # fmt: skip
    assert xero.errors(dup) == ["Please enter a unique Name."]


def test_contact_fields_sent_with_an_invoice_update_the_contact(xero: XeroClient, conn: XeroConnection) -> None:
    """X.md section 3: "Send only ContactID inside Contact - other fields update the contact". The sandbox applies
    them, so an adapter that sends more than the id edits the customer visibly, and a clashing name is refused."""
    acme = xero.contact(conn, "Acme Corp", EmailAddress="ap@acme.example")
    xero.contact(conn, "Globex")
    cid = acme["ContactID"]
    clash = xero.invoice(conn, cid, "INV-C1", Contact={"ContactID": cid, "Name": "globex"})
    assert xero.errors(clash) == [DUP_NAME.replace("Acme Corp", "globex")]
    renamed = xero.ok(xero.invoice(conn, cid, "INV-C2", Contact={"ContactID": cid, "Name": "Acme Renamed"}), "Invoices")
    assert renamed[0]["Contact"]["Name"] == "Acme Renamed"
    stored = xero.ok(xero.api(conn, "GET", f"Contacts/{cid}"), "Contacts")[0]
    assert (stored["Name"], stored["EmailAddress"]) == ("Acme Renamed", "ap@acme.example")  # partial, like POST
    # an update of the invoice that sends a changed contact field edits the contact too
    invoice_id = renamed[0]["InvoiceID"]
    body = {"Invoices": [{"InvoiceID": invoice_id, "Contact": {"ContactID": cid, "EmailAddress": "new@acme.example"}}]}
    assert xero.api(conn, "POST", f"Invoices/{invoice_id}", json=body).status_code == 200
    assert xero.ok(xero.api(conn, "GET", f"Contacts/{cid}"), "Contacts")[0]["EmailAddress"] == "new@acme.example"
    # the id alone changes nothing
    only_id = xero.ok(xero.invoice(conn, cid, "INV-C3"), "Invoices")[0]
    assert only_id["Contact"]["Name"] == "Acme Renamed"


def test_page_size_and_items_per_request_have_caps(xero: XeroClient, conn: XeroConnection) -> None:
    """X.md section 3: pageSize up to 1000 (over the cap: a 400 QueryParseException, sandbox choice since Xero's answer
    is undocumented); section 5: at most 500 Items per request (the whole request is refused, nothing is saved)."""
    for name in ("A", "B"):
        xero.contact(conn, name)
    at_cap = xero.api(conn, "GET", "Contacts", params={"page": "1", "pageSize": "1000"})
    assert xero.ok(at_cap, "Contacts") and at_cap.json()["pagination"]["pageSize"] == 1000
    over = xero.api(conn, "GET", "Contacts", params={"page": "1", "pageSize": "1001"})
    assert over.status_code == 400 and over.json()["Type"] == "QueryParseException", over.text
    items = [{"Code": f"C-{n}", "Name": f"C-{n}"} for n in range(501)]
    too_many = xero.api(conn, "PUT", "Items", json={"Items": items})
    assert too_many.status_code == 400 and too_many.json()["Type"] == "ValidationException", too_many.text
    assert xero.ok(xero.api(conn, "GET", "Items"), "Items") == []
    assert len(xero.ok(xero.api(conn, "PUT", "Items", json={"Items": items[:500]}), "Items")) == 500
