"""The community SDK (python-quickbooks) against the sandbox: create / read / update / query / void / delete."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from quickbooks import QuickBooks
from quickbooks.exceptions import (
    AuthorizationException,
    ObjectNotFoundException,
    QuickbooksException,
    ValidationException,
)
from quickbooks.objects.account import Account
from quickbooks.objects.base import CustomerMemo, EmailAddress, Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.paymentmethod import PaymentMethod
from requests_oauthlib import OAuth2Session

from local.sandbox.quickbooks import DEFAULT_CLIENT_ID

if TYPE_CHECKING:
    from conftest import Connection, Qbo


@pytest.fixture
def client(qbo: Qbo, conn: Connection, monkeypatch: pytest.MonkeyPatch) -> QuickBooks:
    # requests-oauthlib refuses plain http unless told otherwise; the sandbox is http on 127.0.0.1.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    qb = QuickBooks(company_id=conn.realm_id, minorversion=75)
    qb.api_url_v3 = f"{qbo.sandbox.url}/quickbooks/v3"
    qb.sandbox_api_url_v3 = qb.api_url_v3
    qb.session = OAuth2Session(DEFAULT_CLIENT_ID, token={"access_token": conn.access_token, "token_type": "Bearer"})
    return qb


def make_item(client: QuickBooks, name: str = "Water heater flush", price: float = 150.0) -> Item:
    income = Account.where("AccountType = 'Income'", qb=client)[0]
    item = Item()
    item.Name = name
    item.Type = "Service"
    item.UnitPrice = price
    item.IncomeAccountRef = income.to_ref()
    return item.save(qb=client)


def make_customer(client: QuickBooks, name: str = "Jane Doe Plumbing") -> Customer:
    customer = Customer()
    customer.DisplayName = name
    customer.GivenName = "Jane"
    customer.FamilyName = "Doe"
    customer.PrimaryEmailAddr = EmailAddress()
    customer.PrimaryEmailAddr.Address = "jane@example.com"
    return customer.save(qb=client)


def make_invoice(client: QuickBooks, customer: Customer, item: Item, qty: int = 2, doc: str = "BC-1001") -> Invoice:
    line = SalesItemLine()
    line.Amount = qty * float(item.UnitPrice)
    line.Description = "Flush"
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = qty
    line.SalesItemLineDetail.UnitPrice = item.UnitPrice
    invoice = Invoice()
    invoice.DocNumber = doc
    invoice.CustomerRef = customer.to_ref()
    invoice.CustomerMemo = CustomerMemo()
    invoice.CustomerMemo.value = "Thanks"
    invoice.Line.append(line)
    return invoice.save(qb=client)


def test_customer_create_read_update_query(client: QuickBooks) -> None:
    created = make_customer(client)
    assert created.Id
    assert created.SyncToken == "0"
    fetched = Customer.get(created.Id, qb=client)
    assert fetched.DisplayName == "Jane Doe Plumbing"
    assert fetched.PrimaryEmailAddr.Address == "jane@example.com"
    fetched.CompanyName = "Doe Plumbing LLC"
    updated = fetched.save(qb=client)  # the SDK sends a full update with the current SyncToken
    assert updated.SyncToken == "1"
    assert updated.CompanyName == "Doe Plumbing LLC"
    assert [c.Id for c in Customer.filter(DisplayName="Jane Doe Plumbing", qb=client)] == [created.Id]
    assert Customer.count(qb=client) == 1


def test_sdk_update_with_a_stale_object_raises_5010(client: QuickBooks) -> None:
    created = make_customer(client)
    first = Customer.get(created.Id, qb=client)
    second = Customer.get(created.Id, qb=client)
    first.Notes = "first"
    first.save(qb=client)
    second.Notes = "second"
    with pytest.raises(QuickbooksException) as caught:  # the SDK has no bucket for 5010
        second.save(qb=client)
    assert caught.value.error_code == 5010


def test_item_create_read_update_and_all(client: QuickBooks) -> None:
    item = make_item(client)
    assert item.Type == "Service"
    assert item.IncomeAccountRef.name
    fetched = Item.get(item.Id, qb=client)
    fetched.UnitPrice = 175.0
    assert fetched.save(qb=client).UnitPrice == 175.0
    assert [i.Name for i in Item.all(qb=client)] == ["Water heater flush"]  # SDK sends "SELECT *, Sku FROM Item"


def test_item_without_income_account_is_rejected_with_2020(client: QuickBooks) -> None:
    item = Item()
    item.Name = "No account"
    item.Type = "Service"
    with pytest.raises(ValidationException) as caught:
        item.save(qb=client)
    assert caught.value.error_code == 2020


def test_invoice_and_payment_flow(client: QuickBooks) -> None:
    customer = make_customer(client)
    item = make_item(client)
    invoice = make_invoice(client, customer, item)
    assert invoice.TotalAmt == 300.0
    assert invoice.Balance == 300.0
    assert invoice.Line[0].SalesItemLineDetail.ItemRef.value == item.Id
    assert invoice.Line[-1].DetailType == "SubTotalLineDetail"

    payment = Payment()
    payment.TotalAmt = 100.0
    payment.CustomerRef = customer.to_ref()
    method = PaymentMethod.filter(Name="Check", qb=client)[0]
    payment.PaymentMethodRef = method.to_ref()
    payment_line = PaymentLine()
    payment_line.Amount = 100.0
    payment_line.LinkedTxn.append(invoice.to_linked_txn())
    payment.Line.append(payment_line)
    saved = payment.save(qb=client)
    assert saved.UnappliedAmt == 0.0

    refreshed = Invoice.get(invoice.Id, qb=client)
    assert refreshed.Balance == 200.0
    assert refreshed.LinkedTxn[0].TxnType == "Payment"
    assert Customer.get(customer.Id, qb=client).Balance == 200.0
    assert [p.Id for p in Payment.filter(CustomerRef=customer.Id, qb=client)] == [saved.Id]


def test_payment_void_and_invoice_delete(client: QuickBooks) -> None:
    customer = make_customer(client)
    item = make_item(client)
    invoice = make_invoice(client, customer, item, qty=1)
    payment = Payment()
    payment.TotalAmt = 150.0
    payment.CustomerRef = customer.to_ref()
    line = PaymentLine()
    line.Amount = 150.0
    line.LinkedTxn.append(invoice.to_linked_txn())
    payment.Line.append(line)
    payment = payment.save(qb=client)
    assert Invoice.get(invoice.Id, qb=client).Balance == 0.0

    payment.void(qb=client)  # POST /payment?operation=update&include=void with a sparse body
    voided = Payment.get(payment.Id, qb=client)
    assert voided.TotalAmt == 0.0
    assert "Voided" in voided.PrivateNote
    current = Invoice.get(invoice.Id, qb=client)
    assert current.Balance == 150.0

    current.delete(qb=client)
    assert Invoice.filter(Id=invoice.Id, qb=client) == []
    with pytest.raises(ObjectNotFoundException):
        Invoice.get(invoice.Id, qb=client)


def test_invoice_void_through_the_sdk(client: QuickBooks) -> None:
    invoice = make_invoice(client, make_customer(client), make_item(client))
    invoice.void(qb=client)
    voided = Invoice.get(invoice.Id, qb=client)
    assert voided.TotalAmt == 0.0
    assert voided.Balance == 0.0
    assert voided.DocNumber == "BC-1001"


def test_sdk_line_without_qty_and_price_is_accepted(client: QuickBooks) -> None:
    # python-quickbooks sends Qty=0 and UnitPrice=0 when they are not set (its own integration test does this).
    customer = make_customer(client)
    item = make_item(client)
    line = SalesItemLine()
    line.Amount = 100
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line.append(line)
    saved = invoice.save(qb=client)
    assert saved.TotalAmt == 100.0
    assert saved.DocNumber  # auto-numbered


def test_sdk_duplicate_customer_name_raises_6240(client: QuickBooks) -> None:
    make_customer(client)
    with pytest.raises(QuickbooksException) as caught:  # 6240 is outside the SDK's buckets too
        make_customer(client, name="jane doe plumbing")
    assert caught.value.error_code == 6240


def test_sdk_reference_to_missing_customer_is_2500(client: QuickBooks) -> None:
    item = make_item(client)
    ghost = Customer()
    ghost.Id = "999"
    ghost.DisplayName = "Ghost"
    with pytest.raises(ValidationException) as caught:
        make_invoice(client, ghost, item)
    assert caught.value.error_code == 2500


def test_sdk_sees_401_as_authorization_exception(client: QuickBooks, qbo: Qbo) -> None:
    qbo.advance(3601)
    with pytest.raises(AuthorizationException):
        Customer.all(qb=client)


def test_sdk_ref_names_are_filled_by_the_service(client: QuickBooks) -> None:
    customer = make_customer(client)
    item = make_item(client)
    stale = Ref()
    stale.value = customer.Id
    stale.name = "a stale name"
    invoice = make_invoice(client, customer, item)
    invoice.CustomerRef = stale
    assert invoice.save(qb=client).SyncToken == "1"  # full update round-tripping the lines the service returned
    fetched = Invoice.get(invoice.Id, qb=client)
    assert fetched.CustomerRef.name == "Jane Doe Plumbing"
    assert fetched.Line[0].SalesItemLineDetail.ItemAccountRef.value == item.IncomeAccountRef.value
