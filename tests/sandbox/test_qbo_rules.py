"""QuickBooks sandbox business rules, each checked over HTTP against the documented Fault codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Connection, Qbo


def test_entities_carry_id_synctoken_and_metadata(qbo: Qbo, conn: Connection) -> None:
    response = qbo.api(conn, "POST", "customer", json={"DisplayName": "Acme"})
    body = response.json()
    assert set(body) == {"Customer", "time"}
    customer = body["Customer"]
    assert customer["SyncToken"] == "0"
    assert isinstance(customer["Id"], str)
    assert set(customer["MetaData"]) == {"CreateTime", "LastUpdatedTime"}
    assert response.headers["intuit_tid"]


def test_sync_token_increments_and_stale_token_is_5010(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    body = {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Notes": "one"}
    assert qbo.create(conn, "Customer", body)["SyncToken"] == "1"
    error = qbo.error(qbo.api(conn, "POST", "customer", json=body))
    assert error["code"] == "5010"
    assert error["Message"] == "Stale Object Error"
    missing = qbo.error(qbo.api(conn, "POST", "customer", json={"Id": customer["Id"], "sparse": True}))
    assert missing["code"] == "2020"


def test_sparse_update_keeps_omitted_fields_and_full_update_clears_them(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn, Notes="keep me", CompanyName="Acme Inc")
    sparse = qbo.create(
        conn, "Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "CompanyName": "Acme LLC"}
    )
    assert sparse["Notes"] == "keep me"
    assert sparse["CompanyName"] == "Acme LLC"
    full = qbo.create(conn, "Customer", {"Id": customer["Id"], "SyncToken": "1", "DisplayName": "Acme Corp"})
    assert "Notes" not in full
    assert "CompanyName" not in full


def test_customer_display_name_is_unique_case_insensitively_even_when_inactive(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn, "Acme Corp")
    error = qbo.error(qbo.api(conn, "POST", "customer", json={"DisplayName": "ACME CORP"}))
    assert error["code"] == "6240"
    assert error["Message"] == "Duplicate Name Exists Error"
    qbo.create(conn, "Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert qbo.error(qbo.api(conn, "POST", "customer", json={"DisplayName": "Acme Corp"}))["code"] == "6240"


def test_renaming_onto_another_name_is_6240_but_keeping_own_name_is_fine(qbo: Qbo, conn: Connection) -> None:
    qbo.customer(conn, "First")
    second = qbo.customer(conn, "Second")
    same = {"Id": second["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "Second", "Notes": "x"}
    assert qbo.create(conn, "Customer", same)["SyncToken"] == "1"
    clash = {"Id": second["Id"], "SyncToken": "1", "sparse": True, "DisplayName": "first"}
    assert qbo.error(qbo.api(conn, "POST", "customer", json=clash))["code"] == "6240"


def test_display_name_defaults_from_name_parts_and_some_name_is_required(qbo: Qbo, conn: Connection) -> None:
    assert qbo.create(conn, "Customer", {"GivenName": "Jane", "FamilyName": "Doe"})["DisplayName"] == "Jane Doe"
    assert qbo.error(qbo.api(conn, "POST", "customer", json={"CompanyName": "Nameless"}))["code"] == "6000"


@pytest.mark.parametrize(
    ("entity", "body"),
    [
        ("customer", {"DisplayName": "Acme: West"}),
        ("customer", {"GivenName": "Ja:ne"}),
        ("item", {"Name": "Flush: large", "Type": "Service"}),
    ],
)
def test_colons_are_not_allowed_in_names(qbo: Qbo, conn: Connection, entity: str, body: dict[str, Any]) -> None:
    if entity == "item":
        body["IncomeAccountRef"] = {"value": qbo.account_id(conn, "Services")}
    error = qbo.error(qbo.api(conn, "POST", entity, json=body))
    assert error["code"] == "6000"
    assert "colon" in error["Detail"]


def test_item_name_is_unique_and_at_most_100_chars(qbo: Qbo, conn: Connection) -> None:
    qbo.item(conn, "Widget")
    assert qbo.error(qbo.api(conn, "POST", "item", json=_item_body(qbo, conn, "widget")))["code"] == "6240"
    assert qbo.error(qbo.api(conn, "POST", "item", json=_item_body(qbo, conn, "x" * 101)))["code"] == "2050"
    assert qbo.create(conn, "Item", _item_body(qbo, conn, "y" * 100))["Name"] == "y" * 100


def _item_body(qbo: Qbo, conn: Connection, name: str, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Service",
        "IncomeAccountRef": {"value": qbo.account_id(conn, "Services")},
        **extra,
    }


@pytest.mark.parametrize("item_type", ["Service", "NonInventory", "Inventory"])
def test_item_income_account_is_required_2020(qbo: Qbo, conn: Connection, item_type: str) -> None:
    error = qbo.error(qbo.api(conn, "POST", "item", json={"Name": "Thing", "Type": item_type}))
    assert error["code"] == "2020"
    assert "IncomeAccountRef" in error["Detail"]


def test_inventory_item_needs_asset_expense_qty_and_start_date(qbo: Qbo, conn: Connection) -> None:
    body = _item_body(qbo, conn, "Boiler", Type="Inventory", TrackQtyOnHand=True)
    assert qbo.error(qbo.api(conn, "POST", "item", json=body))["code"] == "2020"
    body.update(
        AssetAccountRef={"value": qbo.account_id(conn, "Inventory Asset")},
        ExpenseAccountRef={"value": qbo.account_id(conn, "Cost of Goods Sold")},
        QtyOnHand=5,
        InvStartDate="2024-01-01",
    )
    assert qbo.create(conn, "Item", body)["TrackQtyOnHand"] is True


def test_item_type_must_be_a_known_enum_value(qbo: Qbo, conn: Connection) -> None:
    error = qbo.error(qbo.api(conn, "POST", "item", json=_item_body(qbo, conn, "Odd", Type="Widget")))
    assert error["code"] == "2010"


def test_missing_reference_is_2500_and_inactive_reference_is_610(qbo: Qbo, conn: Connection) -> None:
    item = qbo.item(conn)
    missing = qbo.api(
        conn, "POST", "invoice", json={"CustomerRef": {"value": "4040"}, "Line": [qbo.line(item["Id"], "1", "12.50")]}
    )
    error = qbo.error(missing)
    assert error["code"] == "2500"
    assert error["Message"] == "Invalid Reference Id"
    customer = qbo.customer(conn)
    qbo.create(conn, "Item", {**_item_body(qbo, conn, "Widget"), "Id": item["Id"], "SyncToken": "0", "Active": False})
    inactive = qbo.api(
        conn,
        "POST",
        "invoice",
        json={"CustomerRef": {"value": customer["Id"]}, "Line": [qbo.line(item["Id"], "1", "1")]},
    )
    assert qbo.error(inactive)["code"] == "610"


def test_reference_to_an_object_of_another_type_is_2500(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    line = qbo.line(customer["Id"], "1", "5")  # a customer id used as an item id
    error = qbo.error(qbo.api(conn, "POST", "invoice", json={"CustomerRef": {"value": customer["Id"]}, "Line": [line]}))
    assert error["code"] == "2500"


def test_refs_to_objects_the_sandbox_does_not_have_are_2500(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    body = {
        "CustomerRef": {"value": customer["Id"]},
        "SalesTermRef": {"value": "3"},
        "Line": [qbo.line(item["Id"], "1", "1")],
    }
    assert qbo.error(qbo.api(conn, "POST", "invoice", json=body))["code"] == "2500"


def test_invoice_totals_are_computed(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    widget = qbo.item(conn, "Widget", "12.50")
    flush = qbo.item(conn, "Flush", "150")
    invoice = qbo.invoice(
        conn,
        customer["Id"],
        [qbo.line(widget["Id"], "2", "12.50"), qbo.line(flush["Id"], "1.5", "150")],
        DocNumber="INV-1",
        TxnDate="2024-03-01",
    )
    assert invoice["TotalAmt"] == 250.0
    assert invoice["Balance"] == 250.0
    assert invoice["DueDate"] == "2024-03-31"
    assert [line["LineNum"] for line in invoice["Line"][:2]] == [1, 2]
    assert invoice["Line"][2] == {"Amount": 250.0, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    assert invoice["Line"][0]["SalesItemLineDetail"]["ItemAccountRef"]["value"] == qbo.account_id(
        conn, "Sales of Product Income"
    )
    assert qbo.read(conn, "Customer", customer["Id"])["Balance"] == 250.0


def test_read_only_totals_sent_by_the_client_are_ignored(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    invoice = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "1", "12.50")], TotalAmt=999, Balance=999)
    assert invoice["TotalAmt"] == 12.5
    assert invoice["Balance"] == 12.5


def test_line_amount_must_equal_qty_times_unit_price_6070(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    bad = qbo.line(item["Id"], "3", "12.50", amount="40.00")
    error = qbo.error(qbo.api(conn, "POST", "invoice", json={"CustomerRef": {"value": customer["Id"]}, "Line": [bad]}))
    assert error["code"] == "6070"
    half_cent = qbo.line(item["Id"], "128.35", "14.50", amount="1861.08")  # 1861.075 rounds half-up
    assert qbo.invoice(conn, customer["Id"], [half_cent])["TotalAmt"] == 1861.08


def test_line_needs_amount_and_item(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    no_amount = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}}}
    no_item = {"DetailType": "SalesItemLineDetail", "Amount": 5, "SalesItemLineDetail": {"Qty": 1, "UnitPrice": 5}}
    for line, element in ((no_amount, "Line[0].Amount"), (no_item, "ItemRef")):
        body = {"CustomerRef": {"value": customer["Id"]}, "Line": [line]}
        error = qbo.error(qbo.api(conn, "POST", "invoice", json=body))
        assert error["code"] == "2020"
        assert error["element"] == element
    empty = {"CustomerRef": {"value": customer["Id"]}, "Line": []}
    assert qbo.error(qbo.api(conn, "POST", "invoice", json=empty))["code"] == "6000"
    no_customer = {"Line": [qbo.line(item["Id"], "1", "12.50")]}
    assert qbo.error(qbo.api(conn, "POST", "invoice", json=no_customer))["code"] == "2020"


def test_docnumber_max_21_chars(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    lines = [qbo.line(item["Id"], "1", "12.50")]
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": lines, "DocNumber": "X" * 22}
    assert qbo.error(qbo.api(conn, "POST", "invoice", json=body))["code"] == "2050"
    assert qbo.invoice(conn, customer["Id"], lines, DocNumber="X" * 21)["DocNumber"] == "X" * 21


def test_duplicate_docnumber_is_6140_when_the_realm_warns(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    lines = [qbo.line(item["Id"], "1", "12.50")]
    qbo.invoice(conn, customer["Id"], lines, DocNumber="INV-7")
    duplicate = {"CustomerRef": {"value": customer["Id"]}, "Line": lines, "DocNumber": "INV-7"}
    error = qbo.error(qbo.api(conn, "POST", "invoice", json=duplicate))
    assert error["code"] == "6140"
    assert error["Message"] == "Duplicate Document Number Error"
    allowed = qbo.api(conn, "POST", "invoice", json=duplicate, params={"include": "allowduplicatedocnum"})
    assert allowed.status_code == 200
    qbo.configure(realms={conn.realm_id: {"duplicate_docnumber_warning": False}})
    assert qbo.api(conn, "POST", "invoice", json=duplicate).status_code == 200


def test_invoice_without_docnumber_is_auto_numbered(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    lines = [qbo.line(item["Id"], "1", "12.50")]
    first = qbo.invoice(conn, customer["Id"], lines)
    second = qbo.invoice(conn, customer["Id"], lines)
    assert first["DocNumber"] == "1001"
    assert second["DocNumber"] == "1002"


def test_invoice_sparse_update_replaces_lines_and_keeps_ids(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    invoice = qbo.invoice(
        conn, customer["Id"], [qbo.line(item["Id"], "1", "12.50"), qbo.line(item["Id"], "2", "12.50")]
    )
    kept = {**invoice["Line"][1], "Amount": "37.50"}
    kept["SalesItemLineDetail"] = {**kept["SalesItemLineDetail"], "Qty": 3}
    updated = qbo.create(conn, "Invoice", {"Id": invoice["Id"], "SyncToken": "0", "sparse": True, "Line": [kept]})
    assert updated["TotalAmt"] == 37.5
    assert [line.get("Id") for line in updated["Line"]] == [invoice["Line"][1]["Id"], None]


def test_payment_reduces_invoice_balance_and_bumps_its_sync_token(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    invoice = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "4", "25")])
    response = qbo.payment(conn, customer["Id"], "40", {invoice["Id"]: "40"})
    assert response.status_code == 200, response.text
    payment = response.json()["Payment"]
    assert payment["UnappliedAmt"] == 0.0
    assert payment["Line"][0]["LinkedTxn"] == [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]
    after = qbo.read(conn, "Invoice", invoice["Id"])
    assert after["Balance"] == 60.0
    assert after["SyncToken"] == "1"
    assert after["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]


def test_payment_over_the_invoice_balance_is_rejected(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    invoice = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "4", "25")])
    assert qbo.payment(conn, customer["Id"], "60", {invoice["Id"]: "60"}).status_code == 200
    error = qbo.error(qbo.payment(conn, customer["Id"], "50", {invoice["Id"]: "50"}))
    assert error["code"] == "6000"
    assert "open balance" in error["Detail"]
    assert qbo.read(conn, "Invoice", invoice["Id"])["Balance"] == 40.0


def test_payment_applied_amount_cannot_exceed_its_total(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    invoice = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "4", "25")])
    assert qbo.error(qbo.payment(conn, customer["Id"], "10", {invoice["Id"]: "20"}))["code"] == "6000"


def test_payment_cannot_pay_another_customers_invoice(qbo: Qbo, conn: Connection) -> None:
    alice = qbo.customer(conn, "Alice")
    bob = qbo.customer(conn, "Bob")
    item = qbo.item(conn)
    invoice = qbo.invoice(conn, alice["Id"], [qbo.line(item["Id"], "1", "12.50")])
    assert qbo.error(qbo.payment(conn, bob["Id"], "5", {invoice["Id"]: "5"}))["code"] == "6000"
    assert qbo.error(qbo.payment(conn, bob["Id"], "5", {"9999": "5"}))["code"] == "2500"


def test_unapplied_payment_is_a_credit_on_the_customer(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    payment = qbo.payment(conn, customer["Id"], "30").json()["Payment"]
    assert payment["UnappliedAmt"] == 30.0
    assert qbo.read(conn, "Customer", customer["Id"])["Balance"] == -30.0
    assert payment["DepositToAccountRef"]["name"] == "Undeposited Funds"


def test_payment_update_reapplies_and_delete_restores_the_balance(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    invoice = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "4", "25")])
    payment = qbo.payment(conn, customer["Id"], "100", {invoice["Id"]: "100"}).json()["Payment"]
    assert qbo.read(conn, "Invoice", invoice["Id"])["Balance"] == 0.0
    smaller = {
        **payment,
        "TotalAmt": 30,
        "Line": [{"Amount": 30, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
    }
    for read_only in ("MetaData", "UnappliedAmt", "domain"):
        smaller.pop(read_only)
    assert qbo.create(conn, "Payment", smaller)["SyncToken"] == "1"
    assert qbo.read(conn, "Invoice", invoice["Id"])["Balance"] == 70.0
    deleted = qbo.api(
        conn, "POST", "payment", params={"operation": "delete"}, json={"Id": payment["Id"], "SyncToken": "1"}
    )
    assert deleted.json()["Payment"] == {"domain": "QBO", "status": "Deleted", "Id": payment["Id"]}
    assert qbo.read(conn, "Invoice", invoice["Id"])["Balance"] == 100.0


def test_invoice_with_payments_cannot_be_deleted_or_cut_below_paid(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    invoice = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "4", "25")])
    qbo.payment(conn, customer["Id"], "50", {invoice["Id"]: "50"})
    delete = qbo.api(
        conn, "POST", "invoice", params={"operation": "delete"}, json={"Id": invoice["Id"], "SyncToken": "1"}
    )
    assert qbo.error(delete)["code"] == "6000"
    shrink = {"Id": invoice["Id"], "SyncToken": "1", "sparse": True, "Line": [qbo.line(item["Id"], "1", "25")]}
    assert qbo.error(qbo.api(conn, "POST", "invoice", json=shrink))["code"] == "6000"


def test_invoice_void_and_delete(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    invoice = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "2", "12.50")], DocNumber="V-1")
    voided = qbo.api(
        conn, "POST", "invoice", params={"operation": "void"}, json={"Id": invoice["Id"], "SyncToken": "0"}
    )
    body = voided.json()["Invoice"]
    assert body["TotalAmt"] == 0.0
    assert body["Balance"] == 0.0
    assert body["PrivateNote"].startswith("Voided")
    stale = qbo.api(
        conn, "POST", "invoice", params={"operation": "delete"}, json={"Id": invoice["Id"], "SyncToken": "0"}
    )
    assert qbo.error(stale)["code"] == "5010"
    qbo.api(conn, "POST", "invoice", params={"operation": "delete"}, json={"Id": invoice["Id"], "SyncToken": "1"})
    assert qbo.error(qbo.api(conn, "GET", f"invoice/{invoice['Id']}"))["code"] == "610"


def test_name_list_objects_cannot_be_deleted_only_deactivated(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    delete = qbo.api(
        conn, "POST", "customer", params={"operation": "delete"}, json={"Id": customer["Id"], "SyncToken": "0"}
    )
    assert qbo.error(delete)["code"] == "500"
    qbo.create(conn, "Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Active": False})
    assert qbo.query(conn, "select * from Customer") == {}
    inactive = qbo.query(conn, "select * from Customer where Active = false")["Customer"]
    assert [c["Id"] for c in inactive] == [customer["Id"]]
    assert qbo.read(conn, "Customer", customer["Id"])["Active"] is False


def test_unknown_properties_and_wrong_types_are_2010(qbo: Qbo, conn: Connection) -> None:
    assert (
        qbo.error(qbo.api(conn, "POST", "customer", json={"DisplayName": "A", "DisplayNmae": "typo"}))["code"] == "2010"
    )
    assert qbo.error(qbo.api(conn, "POST", "customer", json={"DisplayName": "A", "Active": "yes"}))["code"] == "2010"
    assert (
        qbo.error(qbo.api(conn, "POST", "customer", json={"DisplayName": "A", "BillAddr": "1 Main"}))["code"] == "2010"
    )
    body = {"DisplayName": "A", "PrimaryEmailAddr": {"Adress": "x@example.com"}}
    assert qbo.api(conn, "POST", "customer", json=body).status_code == 200  # nested objects are not key-checked


def test_payment_type_must_be_a_payment_type_enum_value(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    assert qbo.payment(conn, customer["Id"], "5", PaymentType="CreditCard").status_code == 200
    assert qbo.error(qbo.payment(conn, customer["Id"], "5", PaymentType="Card"))["code"] == "2010"


def test_non_home_currency_is_rejected(qbo: Qbo, conn: Connection) -> None:
    error = qbo.error(qbo.api(conn, "POST", "customer", json={"DisplayName": "Euro", "CurrencyRef": {"value": "EUR"}}))
    assert error["code"] == "6000"


def test_invalid_json_and_content_type(qbo: Qbo, conn: Connection) -> None:
    bad = qbo.api(conn, "POST", "customer", content="{", headers={"Content-Type": "application/json"})
    assert qbo.error(bad)["code"] == "2010"
    text = qbo.api(conn, "POST", "customer", content="{}", headers={"Content-Type": "text/plain"})
    assert qbo.error(text, 415)["code"] == "415"


def test_accept_json_is_required_unless_switched_off(qbo: Qbo, conn: Connection) -> None:
    response = qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}", headers={"Accept": "*/*"})
    assert response.status_code == 406
    qbo.configure(require_accept_json=False)
    assert qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}", headers={"Accept": "*/*"}).status_code == 200


def test_minorversion_below_75_is_ignored_like_intuit_does(qbo: Qbo, conn: Connection) -> None:
    assert qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}", params={"minorversion": "4"}).status_code == 200
    assert qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}", params={"minorversion": "abc"}).status_code == 400


def test_unsupported_entities_and_operations_are_rejected(qbo: Qbo, conn: Connection) -> None:
    assert qbo.error(qbo.api(conn, "POST", "vendor", json={"DisplayName": "V"}))["code"] == "500"
    assert qbo.error(qbo.api(conn, "POST", "companyinfo", json={"CompanyName": "X"}))["code"] == "500"


def test_company_info_sparse_update(qbo: Qbo, conn: Connection) -> None:
    info = qbo.read(conn, "CompanyInfo", conn.realm_id)
    updated = qbo.create(
        conn, "CompanyInfo", {"Id": info["Id"], "SyncToken": info["SyncToken"], "sparse": True, "LegalName": "Legal"}
    )
    assert updated["LegalName"] == "Legal"
    assert updated["SyncToken"] == "1"


def test_account_and_payment_method_create_and_uniqueness(qbo: Qbo, conn: Connection) -> None:
    account = qbo.create(conn, "Account", {"Name": "Repairs Income", "AccountType": "Income"})
    assert account["Classification"] == "Revenue"
    assert account["AccountSubType"] == "SalesOfProductIncome"
    assert (
        qbo.error(qbo.api(conn, "POST", "account", json={"Name": "repairs income", "AccountType": "Income"}))["code"]
        == "6240"
    )
    method = qbo.create(conn, "PaymentMethod", {"Name": "ACH", "Type": "NON_CREDIT_CARD"})
    assert method["Type"] == "NON_CREDIT_CARD"
    assert qbo.error(qbo.api(conn, "POST", "paymentmethod", json={"Name": "ach"}))["code"] == "6240"


def test_payment_void_operation_unapplies_it(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    invoice = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "4", "25")])
    payment = qbo.payment(conn, customer["Id"], "100", {invoice["Id"]: "100"}).json()["Payment"]
    voided = qbo.api(
        conn, "POST", "payment", params={"operation": "void"}, json={"Id": payment["Id"], "SyncToken": "0"}
    ).json()["Payment"]
    assert voided["TotalAmt"] == 0.0
    assert voided["SyncToken"] == "1"
    assert qbo.read(conn, "Invoice", invoice["Id"])["Balance"] == 100.0


def test_unknown_tenant_dump_is_404(qbo: Qbo) -> None:
    assert qbo.http.get("/_sandbox/quickbooks/tenants/0000").status_code == 404


def test_config_rejects_unknown_or_invalid_knobs(qbo: Qbo) -> None:
    invalid: list[dict[str, Any]] = [
        {"nope": 1},
        {"rotation_policy": "sometimes"},
        {"refresh_grace_seconds": -1},
        {"rate_limit_per_minute": 0},
        {"realms": {"abc": {}}},
    ]
    for knobs in invalid:
        assert qbo.http.post("/_sandbox/quickbooks/config", json=knobs).status_code == 400, knobs
    assert qbo.http.get("/_sandbox/quickbooks/config").json()["rotation_policy"] == "every"
