"""The README walk-through over real HTTP on the local stack: connect QuickBooks, map accounts, create a customer,
an item and an invoice, send it, record two payments, Resync — and check the books."""

from __future__ import annotations

import threading
from decimal import Decimal
from urllib.parse import urlparse

import httpx
import pytest

from local.stack import LocalStack

pytestmark = pytest.mark.stack


def _client(stack: LocalStack, company: str) -> httpx.Client:
    return httpx.Client(
        base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.token(company_id=company)}"}, timeout=30
    )


def _connect(stack: LocalStack, api: httpx.Client) -> str:
    r = api.post("/integrations/quickbooks/connect")
    assert r.status_code == 200, r.text
    consent = httpx.get(r.json()["authorizeUrl"], follow_redirects=False)  # the user clicks "Connect" at Intuit
    assert consent.status_code == 302
    callback = consent.headers["location"]
    assert callback.startswith(f"{stack.api_url}/integrations/quickbooks/callback?")
    done = httpx.get(callback, follow_redirects=False)  # the browser follows Intuit's redirect: no JWT
    assert done.status_code == 302 and done.headers["location"].endswith("?connected=quickbooks")
    return dict(p.split("=", 1) for p in urlparse(callback).query.split("&"))["realmId"]


def test_readme_flow_over_http(stack: LocalStack) -> None:
    api = _client(stack, "co_readme")
    realm = _connect(stack, api)
    accounts = api.get("/integrations/quickbooks/accounts").json()["data"]
    assert api.put("/account-mappings", json={"quickbooks": {"defaultAccountId": accounts[0]["id"]}}).status_code == 200
    customer = api.post("/customers", json={"name": "Jane Doe", "email": "jane@example.com"}).json()
    item = api.post("/items", json={"name": "Water heater flush", "price": "175.00"}).json()
    invoice = api.post(
        "/invoices",
        json={
            "number": "INV-1001",
            "customerId": customer["id"],
            "lines": [{"itemId": item["id"], "quantity": "2", "unitPrice": "175.00"}],
        },
    )
    assert invoice.status_code == 201, invoice.text
    inv = invoice.json()
    assert api.post(f"/invoices/{inv['id']}/send").json()["status"] == "SENT"
    for amount, method in (("300.00", "check"), ("50.00", "cash")):
        r = api.post(f"/invoices/{inv['id']}/payments", json={"amount": amount, "method": method})
        assert r.status_code == 201, r.text
    assert stack.drain_queues(timeout=60)  # the pollers pushed the invoice and both payments
    detail = api.get(f"/invoices/{inv['id']}").json()
    assert Decimal(detail["amountPaid"]) == Decimal("350.00") and detail["status"] == "PAID"
    assert detail["syncButton"]["label"] == "Resync to QuickBooks"
    resync = api.post(f"/invoices/{inv['id']}/sync")
    assert resync.status_code == 200, resync.text
    assert [p["status"] for p in resync.json()["payments"]] == ["synced", "synced"]
    books = httpx.get(f"{stack.sandbox_url}/_sandbox/quickbooks/tenants/{realm}").json()
    assert (books["counts"]["Invoice"], books["counts"]["Payment"], books["counts"]["Customer"]) == (1, 2, 1)
    assert api.get("/invoices").json()["showSyncStatus"] is True
    health = next(p for p in api.get("/integrations").json()["data"] if p["provider"] == "quickbooks")
    assert health["status"] == "connected" and health["health"]["lastSuccessAt"]


def test_api_gateway_behaviour(stack: LocalStack) -> None:
    assert httpx.get(f"{stack.api_url}/customers").status_code == 401  # no token
    bad = httpx.get(f"{stack.api_url}/customers", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401
    api = _client(stack, "co_gw")
    assert api.get("/nope").status_code == 404
    spec = httpx.get(f"{stack.api_url}/openapi.json").json()
    assert "/invoices/{invoice_id}/sync" in spec["paths"]
    page = httpx.get(f"{stack.api_url}/swagger").text
    assert "/swagger-ui/swagger-ui-bundle.js" in page and "cdn." not in page  # served locally: works offline
    asset = httpx.get(f"{stack.api_url}/swagger-ui/swagger-ui-bundle.js")
    assert asset.status_code == 200 and asset.headers["content-type"] == "application/javascript"
    assert httpx.get(f"{stack.api_url}/swagger-ui/../../../etc/passwd").status_code == 404


def test_concurrent_requests_from_two_companies_never_mix(stack: LocalStack) -> None:
    a, b = _client(stack, "co_mix_a"), _client(stack, "co_mix_b")
    assert a.post("/customers", json={"name": "Only A"}).status_code == 201
    assert b.post("/customers", json={"name": "Only B"}).status_code == 201
    seen: list[tuple[str, list[str]]] = []
    lock = threading.Lock()

    def worker(company: str, client: httpx.Client) -> None:
        for _ in range(25):
            names = [c["name"] for c in client.get("/customers").json()["data"]]
            with lock:
                seen.append((company, names))

    threads = [threading.Thread(target=worker, args=(c, cl)) for c, cl in (("a", a), ("b", b)) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 200
    assert all(names == (["Only A"] if company == "a" else ["Only B"]) for company, names in seen)
