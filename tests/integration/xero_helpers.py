"""Shared set-up for tests that talk to the Xero sandbox over HTTP, plus the spec check of every exchange.

``xero_world()`` mirrors ``qbo_world()`` (moto server + sandbox + env) and, on a clean exit, checks every request
our code sent and every answer the sandbox gave against Xero's official OpenAPI files (``XeroSpec``), failing the
test on any violation. ``XeroClient`` drives the sandbox directly for the sandbox suite.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlparse

import httpx

from booksync.providers.xero.oauth import choose_connection
from local.sandbox.server import SandboxServer
from local.sandbox.xero import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID, Exchange
from tests.helpers import ROOT, http_event, invoke, pace_on_sandbox_clock
from tests.integration.conftest import load_function
from tests.moto_server import moto_server

REDIRECT_URI = "http://127.0.0.1:9/integrations/xero/callback"
SCOPES = "openid profile email offline_access accounting.contacts accounting.transactions accounting.settings"
OUR_AGENTS = ("BlueClerk-AccountingSync", "xero-python")  # requests from these must conform to the spec
# Fields the spec's own examples show but its schemas do not declare (envelope of every answer; invoice dates).
ENVELOPE = {"Id", "Status", "ProviderName", "DateTimeUTC"}
UNDECLARED_OK = {"Invoice": {"DateString", "DueDateString"}, "LineItem": {"ValidationErrors"}}
PROBLEM_KEYS = {"Type", "Title", "Status", "Detail", "Instance", "Extensions"}
RESOURCES = {"contacts": "Contacts", "invoices": "Invoices", "payments": "Payments", "items": "Items",
             "accounts": "Accounts"}  # fmt: skip


def specs_dir() -> Path:
    return Path(os.environ.get("BOOKSYNC_SPECS_DIR") or (ROOT / ".." / "shared" / "specs")).resolve()


def specs_missing_reason() -> str | None:
    path = specs_dir() / "xero_accounting.yaml"
    return None if path.is_file() else f"Xero specs not found at {path} (set BOOKSYNC_SPECS_DIR)"


# ---- the spec check ----------------------------------------------------------------------------------------------
@dataclass
class SpecReport:
    checked_requests: int = 0
    checked_responses: int = 0
    outside_spec: int = 0  # statuses the spec does not list, checked against xero.md's documented shapes
    sdk_read_only_fields: int = 0  # xero-python requests that send read-only fields (tolerated for the SDK only)
    violations: list[str] = field(default_factory=list)


class XeroSpec:
    """Validates exchanges against xero_accounting.yaml / xero-identity.yaml with openapi-core (+ a strict pass
    that flags response fields the schema does not declare, beyond what the spec's own examples show)."""

    def __init__(self, root: Path) -> None:
        import yaml
        from openapi_core import Config, OpenAPI

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        self.accounting_raw = yaml.load((root / "xero_accounting.yaml").read_text(), Loader=loader)
        self.identity_raw = yaml.load((root / "xero-identity.yaml").read_text(), Loader=loader)
        config = Config(spec_validator_cls=None)  # the official file fails strict meta-validation ('default': 'false')
        self.accounting = OpenAPI.from_dict(self.accounting_raw, config=config)
        self.identity = OpenAPI.from_dict(self.identity_raw, config=config)

    # -- public ---------------------------------------------------------------------------------------------------
    def check(self, exchanges: list[Exchange], report: SpecReport | None = None) -> SpecReport:
        report = report or SpecReport()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Unsupported scheme type")  # oauth2 security is not checked
            self._check_all(exchanges, report)
        return report

    def _check_all(self, exchanges: list[Exchange], report: SpecReport) -> None:
        for ex in exchanges:
            where = f"{ex.method} {ex.path}?{ex.query} -> {ex.status}"
            try:
                for problem in self._check_one(ex, report):
                    report.violations.append(f"{where}: {problem}")
            except Exception as exc:  # a crash of the checker is a violation too, never a silent pass
                report.violations.append(f"{where}: checker error {exc!r}")

    # -- one exchange -----------------------------------------------------------------------------------------------
    def _check_one(self, ex: Exchange, report: SpecReport) -> list[str]:
        path = ex.path.split("/xero", 1)[1]
        if path.startswith("/api.xro/2.0/"):
            return self._api(ex, path, report)
        if path.lower().startswith("/connections"):
            return self._connections(ex, path, report)
        if path == "/connect/token":
            return self._token(ex, report)
        if path == "/connect/revocation":
            report.checked_responses += 1
            return [] if ex.status == 200 and not ex.response_body else self._oauth_error(ex)
        if path == "/identity/connect/authorize":
            report.checked_responses += 1
            if ex.status == 302:
                query = parse_qs(urlparse(ex.response_headers.get("location", "")).query)
                ok = ("code" in query or "error" in query) and "state" in query
                return [] if ok else ["authorize redirect without code/error and state"]
            return self._oauth_error(ex)
        return [f"unknown Xero path {path}"]

    def _api(self, ex: Exchange, path: str, report: SpecReport) -> list[str]:
        from openapi_core.testing import MockRequest, MockResponse

        rest = path[len("/api.xro/2.0/") :].split("/")
        rest[0] = RESOURCES.get(rest[0].lower(), rest[0])
        spec_path = "/api.xro/2.0/" + "/".join(rest)
        request = MockRequest(
            "https://api.xero.com",
            ex.method,
            spec_path,
            args=dict(parse_qsl(ex.query, keep_blank_values=True)),
            headers=ex.headers,
            data=ex.body or None,
            content_type=ex.headers.get("content-type", "application/json"),
        )
        problems: list[str] = []
        agent = ex.headers.get("user-agent", "")
        ours = any(name in agent for name in OUR_AGENTS)
        request_errors = [f"request: {_explain(e)}" for e in self.accounting.iter_request_errors(request)]
        if "xero-python" in agent:
            # the official SDK serialises model defaults of read-only fields (HasAttachments=False, ...): its quirk,
            # counted but not held against the sandbox; our adapter gets no such allowance
            tolerated = [e for e in request_errors if "read-only property" in e and "Tried to write" in e]
            report.sdk_read_only_fields += len(tolerated)
            request_errors = [e for e in request_errors if e not in tolerated]
        if ours:
            report.checked_requests += 1
            problems += request_errors
        if ex.source == "handler":
            for header in ("x-minlimit-remaining", "x-daylimit-remaining", "x-appminlimit-remaining"):
                if header not in ex.response_headers:
                    problems.append(f"response lacks {header}")
        operation = self._operation(self.accounting_raw, spec_path[len("/api.xro/2.0") :], ex.method)
        declared = operation is not None and str(ex.status) in operation.get("responses", {})
        if ex.status == 429:
            report.outside_spec += 1
            return problems + _check_429(ex)
        if not declared:
            report.outside_spec += 1
            return problems + self._outside(ex)
        report.checked_responses += 1
        content_type = ex.response_headers.get("content-type", "")
        response = MockResponse(ex.response_body, status_code=ex.status, headers=ex.response_headers,
                                content_type=content_type.split(";")[0])  # fmt: skip
        if ours or not request_errors:  # a deliberately malformed test request may be echoed back as sent
            problems += [f"response: {_explain(e)}" for e in self.accounting.iter_response_errors(request, response)]
            if ex.response_body:
                schema = operation["responses"][str(ex.status)]  # type: ignore[index]
                schema = self._resolve(self.accounting_raw, schema)
                body_schema = (schema.get("content") or {}).get("application/json", {}).get("schema")
                if body_schema:
                    problems += self._undeclared(json.loads(ex.response_body), body_schema, "$", top=True)
        return problems

    def _connections(self, ex: Exchange, path: str, report: SpecReport) -> list[str]:
        from openapi_core.testing import MockRequest, MockResponse

        parts = path.strip("/").split("/")
        spec_path = "/Connections" + (f"/{parts[1]}" if len(parts) > 1 else "")
        request = MockRequest("https://api.xero.com", ex.method, spec_path, args=dict(parse_qsl(ex.query)),
                              headers=ex.headers)  # fmt: skip
        problems: list[str] = []
        if any(agent in ex.headers.get("user-agent", "") for agent in OUR_AGENTS):
            report.checked_requests += 1
            problems += [f"request: {_explain(e)}" for e in self.identity.iter_request_errors(request)]
        if ex.status == 401:
            report.outside_spec += 1
            return problems + _check_problem(ex)
        report.checked_responses += 1
        response = MockResponse(ex.response_body, status_code=ex.status, headers=ex.response_headers,
                                content_type=ex.response_headers.get("content-type", "").split(";")[0])  # fmt: skip
        problems += [f"response: {_explain(e)}" for e in self.identity.iter_response_errors(request, response)]
        return problems

    def _token(self, ex: Exchange, report: SpecReport) -> list[str]:
        from openapi_schema_validator import OAS30Validator

        report.checked_responses += 1
        if ex.status != 200:
            return self._oauth_error(ex)
        body = json.loads(ex.response_body)
        schema = self.identity_raw["components"]["schemas"]["AccessToken"]
        problems = [f"token: {e.message}" for e in OAS30Validator(schema).iter_errors(body)]
        problems += [f"token: missing {k}" for k in ("access_token", "expires_in", "token_type") if k not in body]
        problems += [f"token: undeclared {k}" for k in body if k not in schema["properties"] and k != "scope"]
        return problems

    @staticmethod
    def _oauth_error(ex: Exchange) -> list[str]:
        try:
            body = json.loads(ex.response_body)
        except ValueError:
            return ["OAuth error answer is not JSON"]
        return [] if isinstance(body, dict) and isinstance(body.get("error"), str) else ["OAuth error without error"]

    def _outside(self, ex: Exchange) -> list[str]:
        """Statuses the spec does not list: the shapes providers/xero.md documents (or the spec's Error schema)."""
        if ex.status in (401, 403):
            return _check_problem(ex)
        if ex.status == 404:
            return []  # body shape UNCONFIRMED (xero.md §7); only the status matters
        if ex.status == 204:
            return [] if not ex.response_body else ["204 with a body"]
        from openapi_schema_validator import OAS30Validator

        try:
            body = json.loads(ex.response_body)
        except ValueError:
            return [f"{ex.status} answer is not JSON"]
        schema = dict(self.accounting_raw["components"]["schemas"]["Error"])
        schema["required"] = ["Type", "Message"]
        validator = OAS30Validator(schema)
        return [f"{ex.status} error: {e.message}" for e in validator.iter_errors(body)]

    # -- helpers --------------------------------------------------------------------------------------------------
    def _operation(self, raw: dict[str, Any], path: str, method: str) -> dict[str, Any] | None:
        parts = path.split("/")
        for template, item in raw["paths"].items():
            tparts = template.split("/")
            if len(tparts) == len(parts) and all(
                t == p or (t.startswith("{") and t.endswith("}")) for t, p in zip(tparts, parts, strict=True)
            ):
                op = item.get(method.lower())
                if op is not None:
                    return dict(op)
        return None

    def _resolve(self, raw: dict[str, Any], node: Any) -> Any:
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 20:
            target: Any = raw
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
            seen += 1
        return node

    def _undeclared(self, value: Any, schema: Any, where: str, top: bool = False, name: str = "") -> list[str]:
        if isinstance(schema, dict) and "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
        schema = self._resolve(self.accounting_raw, schema)
        if not isinstance(schema, dict):
            return []
        out: list[str] = []
        props = schema.get("properties")
        if isinstance(value, dict) and isinstance(props, dict):
            if name == "Element":
                return []  # error elements echo the whole element (spec examples do)
            allowed = set(props) | (ENVELOPE if top else set()) | UNDECLARED_OK.get(name, set())
            for key, sub in value.items():
                if key not in allowed:
                    out.append(f"undeclared field {where}.{key} (schema {name or '?'})")
                elif key in props:
                    out += self._undeclared(sub, props[key], f"{where}.{key}")
        elif isinstance(value, list) and schema.get("type") == "array":
            for i, sub in enumerate(value):
                out += self._undeclared(sub, schema.get("items", {}), f"{where}[{i}]")
        return out


def _explain(error: Exception) -> str:
    cause = error.__cause__
    details = [f"{e.message} at {list(e.path)}" for e in getattr(cause, "schema_errors", [])]
    return f"{type(error).__name__}: {'; '.join(details) or cause or error}"


def _check_problem(ex: Exchange) -> list[str]:
    try:
        body = json.loads(ex.response_body)
    except ValueError:
        return [f"{ex.status} answer is not problem+json"]
    problems = [] if set(body) == PROBLEM_KEYS else [f"problem keys {sorted(body)}"]
    if body.get("Status") != ex.status:
        problems.append("problem Status differs from the HTTP status")
    return problems


def _check_429(ex: Exchange) -> list[str]:
    problem = ex.response_headers.get("x-rate-limit-problem")
    out = [] if problem in ("minute", "day", "concurrent") else [f"429 X-Rate-Limit-Problem {problem!r}"]
    if problem in ("minute", "day") and not ex.response_headers.get("retry-after", "").isdigit():
        out.append("429 without Retry-After seconds")
    return out


@lru_cache(maxsize=1)
def xero_spec() -> XeroSpec | None:
    return None if specs_missing_reason() else XeroSpec(specs_dir())


def assert_conformant(sandbox: SandboxServer, totals: SpecReport | None = None) -> SpecReport:
    """Check (and forget) every exchange the Xero sandbox recorded; fail on any violation."""
    provider = sandbox.core.providers["xero"]
    exchanges = list(provider.exchanges)  # type: ignore[attr-defined]
    provider.exchanges.clear()  # type: ignore[attr-defined]
    spec = xero_spec()
    if spec is None:
        return totals or SpecReport()
    report = spec.check(exchanges, totals)
    sink = os.environ.get("XERO_SPEC_REPORT")  # measurement: append this test's counts as a JSON line
    if sink:
        with open(sink, "a") as out:
            names = ("checked_requests", "checked_responses", "outside_spec", "sdk_read_only_fields")
            counts = {k: getattr(report, k) for k in names}
            out.write(json.dumps({**counts, "violations": len(report.violations)}) + "\n")
    assert report.violations == [], "\n".join(report.violations[:20])
    return report


def record(sandbox_url: str, on: bool = True) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/xero/config", json={"record_exchanges": on}).raise_for_status()


# ---- the integration world ---------------------------------------------------------------------------------------
@contextmanager
def xero_world() -> Iterator[dict[str, Any]]:
    """moto server + the provider sandbox, with the process environment pointed at both; spec-checked on exit."""
    from booksync import wiring

    with moto_server() as aws, SandboxServer() as sandbox:
        env = sandbox.env("xero")
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        wiring.reset()
        pace_on_sandbox_clock(sandbox)
        record(sandbox.url)
        try:
            yield {"aws": aws, "sandbox": sandbox, "url": sandbox.url}
            assert_conformant(sandbox)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            wiring.reset()


def connect_xero(company: str, tenants: list[str] | None = None, user: str | None = None) -> str:
    """Walk the real flow: connect → sandbox consent (302 with code, state) → our callback. Returns the tenant id."""
    api = load_function("api").lambda_handler
    r = invoke(
        api, http_event("api/list_integrations.json", method="POST", path="/integrations/xero/connect", company=company)
    )
    assert r.status == 200, r.body
    url = r.body["authorizeUrl"]
    extra = {}
    if tenants:
        extra["sandbox_tenants"] = ",".join(tenants)
    if user:
        extra["sandbox_user"] = user
    consent = httpx.get(url, params=extra, follow_redirects=False) if extra else httpx.get(url, follow_redirects=False)
    assert consent.status_code == 302, consent.text
    params = {k: v[0] for k, v in parse_qs(urlparse(consent.headers["location"]).query).items()}
    callback = load_function("oauth_callback").lambda_handler
    event = http_event(
        "oauth_callback/quickbooks_callback.json", path="/integrations/xero/callback", query=params, company=None
    )
    event["pathParameters"] = {"provider": "xero"}
    done = invoke(callback, event)
    assert done.status == 302
    assert done.headers["location"].endswith("?connected=xero"), done.headers["location"]
    listed = invoke(api, http_event("api/list_integrations.json", company=company)).body["data"]
    return str(next(p for p in listed if p["provider"] == "xero")["tenantId"])


def map_default_income_account(company: str, code: str = "200") -> str:
    api = load_function("api").lambda_handler
    accounts = invoke(
        api, http_event("api/list_integrations.json", path="/integrations/xero/accounts", company=company)
    )
    assert accounts.status == 200, accounts.body
    ids = [a["id"] for a in accounts.body["data"]]
    assert code in ids, ids
    body = {"xero": {"defaultAccountId": code, "items": {}}}
    assert invoke(api, http_event("api/put_account_mappings.json", body=body, company=company)).status == 200
    return code


def tenant(sandbox_url: str, tenant_id: str) -> dict[str, Any]:
    r = httpx.get(f"{sandbox_url}/_sandbox/xero/tenants/{tenant_id}")
    r.raise_for_status()
    return dict(r.json())


def fault(sandbox_url: str, **spec: Any) -> None:
    httpx.post(f"{sandbox_url}/_sandbox/faults", json={"provider": "xero", **spec}).raise_for_status()


def requests_log(sandbox_url: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{sandbox_url}/_sandbox/requests", params={"provider": "xero"}).json()["requests"])


# ---- a raw client for the sandbox suite ------------------------------------------------------------------------
@dataclass
class XeroConnection:
    tenant_id: str
    access_token: str
    refresh_token: str
    token_response: dict[str, Any]


class XeroClient:
    """Drives the Xero sandbox over HTTP the way a client would, plus control-plane shortcuts."""

    def __init__(self, http: httpx.Client, sandbox: SandboxServer) -> None:
        self.http = http
        self.sandbox = sandbox

    def authorize(self, **params: str) -> httpx.Response:
        query = {
            "response_type": "code",
            "client_id": DEFAULT_CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": SCOPES,
            "state": "state-123",
        }
        query.update(params)
        return self.http.get("/xero/identity/connect/authorize", params=query)

    @staticmethod
    def redirect_params(response: httpx.Response) -> dict[str, str]:
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT_URI)
        return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}

    def token(self, data: dict[str, str], auth: tuple[str, str] | None = None) -> httpx.Response:
        return self.http.post("/xero/connect/token", data=data, auth=auth or (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))

    def connect(self, **params: str) -> XeroConnection:
        callback = self.redirect_params(self.authorize(**params))
        response = self.token(
            {"grant_type": "authorization_code", "code": callback["code"], "redirect_uri": REDIRECT_URI}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        conns = self.http.get("/xero/connections", headers={"Authorization": f"Bearer {body['access_token']}"}).json()
        chosen = choose_connection(conns)
        assert chosen is not None
        tenant_id = params.get("sandbox_tenants", "").split(",")[0] or chosen["tenantId"]
        return XeroConnection(tenant_id, body["access_token"], body.get("refresh_token", ""), body)

    def refresh(self, refresh_token: str) -> httpx.Response:
        return self.token({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def api(
        self,
        conn: XeroConnection,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        tenant: str | None = None,
    ) -> httpx.Response:
        all_headers = {
            "Authorization": f"Bearer {token or conn.access_token}",
            "xero-tenant-id": tenant if tenant is not None else conn.tenant_id,
            "Accept": "application/json",
        }
        all_headers.update(headers or {})
        return self.http.request(
            method, f"/xero/api.xro/2.0/{path.lstrip('/')}", params=params, json=json, headers=all_headers
        )

    def ok(self, response: httpx.Response, key: str) -> list[dict[str, Any]]:
        assert response.status_code == 200, response.text
        return list(response.json()[key])

    def contact(self, conn: XeroConnection, name: str = "Acme Corp", **extra: Any) -> dict[str, Any]:
        return self.ok(self.api(conn, "PUT", "Contacts", json={"Contacts": [{"Name": name, **extra}]}), "Contacts")[0]

    def item(self, conn: XeroConnection, code: str = "W-10", price: float = 12.5, **extra: Any) -> dict[str, Any]:
        body = {"Items": [{"Code": code, "Name": code, "SalesDetails": {"UnitPrice": price, "AccountCode": "200"},
                           **extra}]}  # fmt: skip
        return self.ok(self.api(conn, "PUT", "Items", json=body), "Items")[0]

    def invoice(
        self,
        conn: XeroConnection,
        contact_id: str,
        number: str | None = "INV-1",
        status: str = "AUTHORISED",
        **extra: Any,
    ) -> httpx.Response:
        element: dict[str, Any] = {
            "Type": "ACCREC",
            "Contact": {"ContactID": contact_id},
            "Date": "2026-03-01",
            "DueDate": "2026-03-31",
            "Status": status,
            "LineItems": [{"Description": "Widget", "Quantity": 2, "UnitAmount": 12.5, "AccountCode": "200"}],
            **extra,
        }
        if number is not None:
            element["InvoiceNumber"] = number
        return self.api(conn, "PUT", "Invoices", json={"Invoices": [element]})

    def payment(self, conn: XeroConnection, invoice_id: str, amount: float, **extra: Any) -> httpx.Response:
        element = {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"}, "Date": "2026-03-15",
                   "Amount": amount, **extra}  # fmt: skip
        return self.api(conn, "PUT", "Payments", json={"Payments": [element]})

    @staticmethod
    def errors(response: httpx.Response, status: int = 400) -> list[str]:
        assert response.status_code == status, response.text
        body = response.json()
        assert body["Type"] == "ValidationException" and body["ErrorNumber"] == 10, body
        return [m["Message"] for el in body["Elements"] for m in el["ValidationErrors"]]

    def configure(self, **knobs: Any) -> dict[str, Any]:
        response = self.http.post("/_sandbox/xero/config", json=knobs)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def add_fault(self, **spec: Any) -> dict[str, Any]:
        response = self.http.post("/_sandbox/faults", json={"provider": "xero", **spec})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def advance(self, seconds: float) -> None:
        self.http.post("/_sandbox/clock", json={"advance": seconds}).raise_for_status()

    def tenant(self, tenant_id: str = DEFAULT_TENANT_ID) -> dict[str, Any]:
        response = self.http.get(f"/_sandbox/xero/tenants/{tenant_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())


# ---- imports (issue 7): calls counted from the sandbox's request log -----------------------------------------------
def xero_last_seq(sandbox_url: str) -> int:
    return int(httpx.get(f"{sandbox_url}/_sandbox/requests", params={"provider": "xero"}).json()["last_seq"])


def xero_api_calls(sandbox_url: str, since: int) -> list[dict[str, Any]]:
    """Accounting API requests received after ``since`` (token refreshes, connections and control calls excluded)."""
    rows = httpx.get(f"{sandbox_url}/_sandbox/requests", params={"provider": "xero", "since": since}).json()
    return [r for r in rows["requests"] if "/api.xro/2.0/" in r["path"]]
