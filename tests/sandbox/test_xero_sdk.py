"""The official SDK (xero-python) against the Xero sandbox, for the calls BlueClerk makes: connections, contacts,
items, invoices (create, read, update), payments, accounts, token refresh and revoke, and the 429 it maps to
RateLimitException. Its strict model deserialisation is a second check of the sandbox's answers; every exchange
is also spec-checked at teardown."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from local.sandbox.server import SandboxServer
from tests.integration.xero_helpers import SCOPES, XeroClient, XeroConnection, assert_conformant

xero_python = pytest.importorskip("xero_python", reason="xero-python is not installed")

from xero_python.accounting import Account as XAccount  # noqa: E402
from xero_python.accounting import (  # noqa: E402
    AccountingApi,
    Contact,
    Contacts,
    Invoice,
    Invoices,
    Item,
    Items,
    LineAmountTypes,
    LineItem,
    Payment,
    Payments,
    Purchase,
)
from xero_python.api_client import ApiClient, Configuration  # noqa: E402
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi  # noqa: E402
from xero_python.exceptions import AccountingBadRequestException, RateLimitException  # noqa: E402
from xero_python.identity import IdentityApi  # noqa: E402


@pytest.fixture
def xero(http: httpx.Client, sandbox: SandboxServer) -> Iterator[XeroClient]:
    client = XeroClient(http, sandbox)
    client.configure(record_exchanges=True)
    yield client
    assert_conformant(sandbox)


@pytest.fixture
def sdk(xero: XeroClient, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    conn: XeroConnection = xero.connect()
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{sandbox.url}/xero/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{sandbox.url}/xero/connect/revocation")
    store: dict[str, Any] = {
        "token": {
            **conn.token_response,
            "scope": SCOPES.split(),
            "expires_at": time.time() + conn.token_response["expires_in"],
        }
    }
    client = ApiClient(
        Configuration(oauth2_token=OAuth2Token(client_id="local-xero-client", client_secret="local-xero-secret")),
        pool_threads=1,
    )
    client.oauth2_token_getter(lambda: store["token"])
    client.oauth2_token_saver(lambda token: store.update(token=token))
    return {
        "conn": conn,
        "store": store,
        "client": client,
        "api": AccountingApi(client, base_url=f"{sandbox.url}/xero/api.xro/2.0"),
        "identity": IdentityApi(client, base_url=f"{sandbox.url}/xero"),
    }


def test_sdk_drives_the_calls_we_use(sdk: dict[str, Any]) -> None:
    api: AccountingApi = sdk["api"]
    tenant = sdk["conn"].tenant_id
    (connection,) = sdk["identity"].get_connections()
    assert str(connection.tenant_id) == tenant and connection.tenant_type == "ORGANISATION"
    revenue = api.get_accounts(tenant, where='Status=="ACTIVE" AND Class=="REVENUE"').accounts
    assert {a.code for a in revenue} == {"200", "260", "270"}
    contact = api.create_contacts(
        tenant, Contacts(contacts=[Contact(name="Jane Doe", email_address="jane@example.com")]), summarize_errors=False
    ).contacts[0]
    assert contact.contact_status == "ACTIVE" and contact.has_validation_errors is False
    found = api.get_contacts(tenant, where='Name=="Jane Doe"', page=1).contacts
    assert [c.contact_id for c in found] == [contact.contact_id]
    item = api.create_items(
        tenant,
        Items(
            items=[
                Item(
                    code="WHF", name="Water heater flush", sales_details=Purchase(unit_price=175.0, account_code="200")
                )
            ]
        ),
        summarize_errors=False,
        unitdp=4,
        idempotency_key="sdk-item-1",
    ).items[0]
    assert item.sales_details.account_code == "200"
    assert [i.code for i in api.get_items(tenant, where='Code=="WHF"').items] == ["WHF"]
    invoice = Invoice(
        type="ACCREC",
        contact=Contact(contact_id=contact.contact_id),
        invoice_number="INV-1001",
        reference="BlueClerk invoice inv_1",
        date=dt.date(2026, 11, 24),
        due_date=dt.date(2026, 12, 24),
        line_amount_types=LineAmountTypes.NOTAX,
        status="AUTHORISED",
        line_items=[
            LineItem(description="Flush", quantity=2.0, unit_amount=175.0, item_code="WHF", account_code="200")
        ],
    )
    created = api.create_invoices(
        tenant, Invoices(invoices=[invoice]), summarize_errors=False, unitdp=4, idempotency_key="sdk-inv-1"
    ).invoices[0]
    assert created.status == "AUTHORISED" and Decimal(str(created.total)) == Decimal("350")
    assert created.date == dt.date(2026, 11, 24)
    replayed = api.create_invoices(
        tenant, Invoices(invoices=[invoice]), summarize_errors=False, unitdp=4, idempotency_key="sdk-inv-1"
    ).invoices[0]
    assert replayed.invoice_id == created.invoice_id
    duplicate = api.create_invoices(tenant, Invoices(invoices=[invoice]), summarize_errors=False).invoices[0]
    assert duplicate.has_errors is True and duplicate.validation_errors[0].message == "Invoice # must be unique."
    by_number = api.get_invoices(tenant, invoice_numbers=["INV-1001"], page=1).invoices
    assert [i.invoice_id for i in by_number] == [created.invoice_id]
    moved = api.update_invoice(
        tenant, created.invoice_id, Invoices(invoices=[Invoice(due_date=dt.date(2027, 1, 15))]), unitdp=4
    ).invoices[0]
    assert moved.due_date == dt.date(2027, 1, 15)
    payment = api.create_payments(
        tenant,
        Payments(
            payments=[
                Payment(
                    invoice=Invoice(invoice_id=created.invoice_id),
                    account=XAccount(code="090"),
                    date=dt.date(2026, 11, 25),
                    amount=350.0,
                    reference="CHK-1 | method: check | BlueClerk payment pay_1",
                )
            ]
        ),
        summarize_errors=False,
        idempotency_key="sdk-pay-1",
    ).payments[0]
    assert payment.status == "AUTHORISED" and payment.payment_type == "ACCRECPAYMENT"
    paid = api.get_invoice(tenant, created.invoice_id).invoices[0]
    assert paid.status == "PAID" and [p.payment_id for p in paid.payments] == [payment.payment_id]
    with pytest.raises(AccountingBadRequestException) as bad:
        api.update_invoice(tenant, created.invoice_id, Invoices(invoices=[Invoice(reference="late edit")]))
    assert "payment or credit note allocated" in str(bad.value.error_data)


def test_sdk_refreshes_with_rotation_and_revokes(sdk: dict[str, Any], xero: XeroClient) -> None:
    client: ApiClient = sdk["client"]
    first_refresh = sdk["store"]["token"]["refresh_token"]
    client.refresh_oauth2_token()
    rotated = sdk["store"]["token"]["refresh_token"]
    assert rotated != first_refresh
    assert sdk["api"].get_accounts(sdk["conn"].tenant_id).accounts
    client.revoke_oauth2_token()
    assert xero.refresh(rotated).json() == {"error": "invalid_grant"}


def test_sdk_sees_a_429_as_rate_limit_exception(sdk: dict[str, Any], xero: XeroClient) -> None:
    # (a 429 *with* Retry-After is slept through and retried by urllib3 inside xero-python, up to 3 times)
    xero.add_fault(method="GET", path="/Accounts$", mode="status", status=429, count=1)
    with pytest.raises(RateLimitException) as limited:
        sdk["api"].get_accounts(sdk["conn"].tenant_id)
    assert limited.value.rate_limit == "concurrent"
