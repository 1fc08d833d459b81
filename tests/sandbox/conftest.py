"""Fixtures for the sandbox suite: one real uvicorn server on 127.0.0.1 (port 0), reset before every test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from local.sandbox.quickbooks import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from local.sandbox.server import SandboxServer

REDIRECT_URI = "http://127.0.0.1:9/integrations/quickbooks/callback"
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer() as server:
        yield server


@pytest.fixture(scope="session")
def _session_client(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=10) as client:
        yield client


@pytest.fixture
def http(_session_client: httpx.Client) -> httpx.Client:
    """An HTTP client on the sandbox, which is reset (state, faults, log, clock) before each test."""
    _session_client.post("/_sandbox/reset").raise_for_status()
    return _session_client


@dataclass
class Connection:
    realm_id: str
    access_token: str
    refresh_token: str
    token_response: dict[str, Any]


class Qbo:
    """Drives the QuickBooks sandbox over HTTP the way a client would, plus control-plane shortcuts."""

    def __init__(self, http: httpx.Client, sandbox: SandboxServer) -> None:
        self.http = http
        self.sandbox = sandbox

    # -- OAuth ----------------------------------------------------------------------------------------------------
    def authorize(self, **params: str) -> httpx.Response:
        query = {
            "client_id": DEFAULT_CLIENT_ID,
            "response_type": "code",
            "scope": ACCOUNTING_SCOPE,
            "redirect_uri": REDIRECT_URI,
            "state": "state-123",
        }
        query.update(params)
        return self.http.get("/quickbooks/connect/oauth2", params=query)

    @staticmethod
    def redirect_params(response: httpx.Response) -> dict[str, str]:
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT_URI)
        return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}

    def token(self, data: dict[str, str], auth: tuple[str, str] | None = None) -> httpx.Response:
        return self.http.post(
            "/quickbooks/oauth2/v1/tokens/bearer",
            data=data,
            auth=auth or (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            headers={"Accept": "application/json"},
        )

    def connect(self, **params: str) -> Connection:
        callback = self.redirect_params(self.authorize(**params))
        response = self.token(
            {"grant_type": "authorization_code", "code": callback["code"], "redirect_uri": REDIRECT_URI}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return Connection(callback["realmId"], body["access_token"], body["refresh_token"], body)

    def refresh(self, refresh_token: str) -> httpx.Response:
        return self.token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    # -- API ------------------------------------------------------------------------------------------------------
    def api(
        self,
        conn: Connection,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        all_params = {"minorversion": "75", **(params or {})}
        all_headers = {"Authorization": f"Bearer {token or conn.access_token}", "Accept": "application/json"}
        all_headers.update(headers or {})
        return self.http.request(
            method,
            f"/quickbooks/v3/company/{conn.realm_id}/{path.lstrip('/')}",
            params=all_params,
            json=json,
            content=content,
            headers=all_headers,
        )

    def create(self, conn: Connection, entity: str, body: dict[str, Any], **params: Any) -> dict[str, Any]:
        response = self.api(conn, "POST", entity.lower(), json=body, params=params)
        assert response.status_code == 200, response.text
        return response.json()[entity]

    def read(self, conn: Connection, entity: str, entity_id: str) -> dict[str, Any]:
        response = self.api(conn, "GET", f"{entity.lower()}/{entity_id}")
        assert response.status_code == 200, response.text
        return response.json()[entity]

    def query(self, conn: Connection, statement: str) -> dict[str, Any]:
        response = self.api(conn, "GET", "query", params={"query": statement})
        assert response.status_code == 200, response.text
        return response.json()["QueryResponse"]

    @staticmethod
    def error(response: httpx.Response, status: int = 400) -> dict[str, Any]:
        assert response.status_code == status, response.text
        body = response.json()
        assert "Fault" in body, body
        assert "time" in body, body
        errors = body["Fault"]["Error"]
        assert len(errors) == 1
        return {**errors[0], "type": body["Fault"]["type"]}

    def account_id(self, conn: Connection, name: str) -> str:
        rows = self.query(conn, f"select * from Account where Name = '{name}'")["Account"]
        return str(rows[0]["Id"])

    def payment_method_id(self, conn: Connection, name: str) -> str:
        return str(self.query(conn, f"select * from PaymentMethod where Name = '{name}'")["PaymentMethod"][0]["Id"])

    def customer(self, conn: Connection, name: str = "Acme Corp", **extra: Any) -> dict[str, Any]:
        return self.create(conn, "Customer", {"DisplayName": name, **extra})

    def item(self, conn: Connection, name: str = "Widget", price: str = "12.50", **extra: Any) -> dict[str, Any]:
        body = {
            "Name": name,
            "Type": "Service",
            "UnitPrice": price,
            "IncomeAccountRef": {"value": self.account_id(conn, "Sales of Product Income")},
            **extra,
        }
        return self.create(conn, "Item", body)

    @staticmethod
    def line(item_id: str, qty: str, price: str, amount: str | None = None) -> dict[str, Any]:
        amount = amount if amount is not None else str(round(float(qty) * float(price), 2))
        return {
            "DetailType": "SalesItemLineDetail",
            "Amount": amount,
            "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": qty, "UnitPrice": price},
        }

    def invoice(self, conn: Connection, customer_id: str, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        return self.create(conn, "Invoice", {"CustomerRef": {"value": customer_id}, "Line": lines, **extra})

    def payment(
        self, conn: Connection, customer_id: str, total: str, applied: dict[str, str] | None = None, **extra: Any
    ) -> httpx.Response:
        body: dict[str, Any] = {
            "CustomerRef": {"value": customer_id},
            "TotalAmt": total,
            "PaymentMethodRef": {"value": self.payment_method_id(conn, "Check")},
            **extra,
        }
        if applied:
            body["Line"] = [
                {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
                for invoice_id, amount in applied.items()
            ]
        return self.api(conn, "POST", "payment", json=body)

    # -- control plane --------------------------------------------------------------------------------------------
    def add_fault(self, **spec: Any) -> dict[str, Any]:
        response = self.http.post("/_sandbox/faults", json={"provider": "quickbooks", **spec})
        assert response.status_code == 201, response.text
        return response.json()

    def configure(self, **knobs: Any) -> dict[str, Any]:
        response = self.http.post("/_sandbox/quickbooks/config", json=knobs)
        assert response.status_code == 200, response.text
        return response.json()

    def advance(self, seconds: float) -> None:
        self.http.post("/_sandbox/clock", json={"advance": seconds}).raise_for_status()

    def tenant(self, realm_id: str) -> dict[str, Any]:
        response = self.http.get(f"/_sandbox/quickbooks/tenants/{realm_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def requests(self, since: int | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"provider": "quickbooks"}
        if since is not None:
            params["since"] = since
        return self.http.get("/_sandbox/requests", params=params).json()["requests"]


@pytest.fixture
def qbo(http: httpx.Client, sandbox: SandboxServer) -> Qbo:
    return Qbo(http, sandbox)


@pytest.fixture
def conn(qbo: Qbo) -> Connection:
    return qbo.connect()
