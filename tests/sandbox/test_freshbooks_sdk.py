"""FreshBooks' official Python SDK (freshbooks-sdk, pinned) drives the sandbox for the calls the sync uses.

The SDK reads FRESHBOOKS_API_URL for its API base (and builds its token URL from it), FRESHBOOKS_AUTH_URL for the
authorize page.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from freshbooks import Client, FilterBuilder, IncludesBuilder, PaginateBuilder
from freshbooks.errors import FreshBooksError

from local.sandbox.freshbooks import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from local.sandbox.server import SandboxServer

REDIRECT_URI = "https://app.test/integrations/freshbooks/callback"
SCOPES = [
    "user:profile:read",
    "user:clients:read",
    "user:clients:write",
    "user:invoices:read",
    "user:invoices:write",
    "user:payments:read",
    "user:payments:write",
    "user:billable_items:read",
    "user:billable_items:write",
]


@pytest.fixture
def sdk(http: httpx.Client, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for key, value in sandbox.env("freshbooks").items():
        monkeypatch.setenv(key, value)
    client = Client(
        client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, redirect_uri=REDIRECT_URI, auto_retry=False
    )
    consent = httpx.get(client.get_auth_request_url(SCOPES), follow_redirects=False)
    assert consent.status_code == 302, consent.text
    code = parse_qs(urlparse(consent.headers["location"]).query)["code"][0]
    client.get_access_token(code)
    account_id = client.current_user().business_memberships[0].business.account_id
    return {"client": client, "account_id": account_id, "http": http}


def test_sdk_authorises_and_reads_the_identity(sdk: dict[str, Any]) -> None:
    client: Client = sdk["client"]
    assert client.access_token and client.refresh_token
    assert client.access_token_expires_at is not None
    identity = client.current_user()
    (membership,) = identity.business_memberships
    assert membership.role == "owner" and membership.business.account_id == sdk["account_id"]


def test_sdk_refresh_rotates_and_the_old_refresh_token_is_refused(sdk: dict[str, Any]) -> None:
    client: Client = sdk["client"]
    old = client.refresh_token
    client.refresh_access_token()
    assert client.refresh_token != old
    with pytest.raises(FreshBooksError):
        client.refresh_access_token(old)
    assert client.current_user().business_memberships  # the new access token works


def test_sdk_clients_items_invoices_payments_round_trip(sdk: dict[str, Any]) -> None:
    client: Client = sdk["client"]
    account = sdk["account_id"]
    made = client.clients.create(account, {"organization": "Acme Corp", "email": "ap@acme.example"})
    assert made.organization == "Acme Corp" and made.userid == made.id
    assert client.clients.get(account, made.id).email == "ap@acme.example"
    updated = client.clients.update(account, made.id, {"email": "billing@acme.example"})
    assert (updated.email, updated.organization) == ("billing@acme.example", "Acme Corp")  # partial update
    found = client.clients.list(account, builders=[FilterBuilder().like("organization_like", "acme")])
    assert [c.id for c in found] == [made.id]
    item = client.items.create(account, {"name": "Widget", "unit_cost": {"amount": "12.50", "code": "USD"}})
    assert Decimal(item.unit_cost.amount) == Decimal("12.50")
    invoice = client.invoices.create(
        account,
        {
            "customerid": made.id,
            "create_date": "2026-11-01",
            "invoice_number": "INV-1001",
            "notes": "BlueClerk invoice inv_1",
            "lines": [{"type": 0, "name": "Widget", "qty": "2", "unit_cost": {"amount": "12.50", "code": "USD"}}],
        },
    )
    assert Decimal(invoice.amount.amount) == Decimal("25.00") and invoice.invoice_number == "INV-1001"
    listed = client.invoices.list(
        account, builders=[FilterBuilder().equals("invoice_number", "INV-1001"), IncludesBuilder().include("lines")]
    )
    (row,) = list(listed)
    assert row.lines[0].unit_cost.amount == "12.50"
    payment = client.payments.create(
        account,
        {"invoiceid": invoice.id, "amount": {"amount": "25.00"}, "date": "2026-11-02", "type": "Check", "note": "m"},
    )
    assert payment.amount.amount == "25.00"
    by_invoice = client.payments.list(account, builders=[FilterBuilder().equals("invoiceid", invoice.id)])
    assert [p.id for p in by_invoice] == [payment.id]
    assert client.invoices.get(account, invoice.id).payment_status == "paid"


def test_sdk_pages_and_reads_errors(sdk: dict[str, Any]) -> None:
    client: Client = sdk["client"]
    account = sdk["account_id"]
    for n in range(5):
        client.items.create(account, {"name": f"Item {n}", "unit_cost": {"amount": "1.00", "code": "USD"}})
    second = client.items.list(account, builders=[PaginateBuilder(2, 2)])
    assert (second.pages.page, second.pages.pages, second.pages.total, len(list(second))) == (2, 3, 5, 2)
    with pytest.raises(FreshBooksError) as err:
        client.clients.get(account, 424242)
    assert (err.value.status_code, err.value.error_code, str(err.value)) == (404, 1012, "Client not found.")
    with pytest.raises(FreshBooksError) as bad:
        client.invoices.create(account, {"customerid": 1})
    assert bad.value.status_code == 400 and bad.value.error_code in (1001, 1012)
