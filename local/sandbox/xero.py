"""A strict local stand-in for Xero (identity OAuth 2.0, connections, Accounting API 2.0), mounted at ``/xero``.

Paths below the prefix mirror the real hosts (providers/xero.md, cited X.md §n; the official OpenAPI files in
``shared/specs``): ``/identity/connect/authorize`` (login.xero.com), ``/connect/token`` and ``/connect/revocation``
(identity.xero.com), ``/connections`` (api.xero.com; also ``/Connections`` as in xero-identity.yaml) and
``/api.xro/2.0/...`` (the Accounting API). ``env()`` gives XERO_API_URL = ``<sandbox>/xero`` and the other URLs.

OAuth (X.md §1): consent auto-approves and redirects with ``code``, ``scope``, ``state``; the consent connects the
sandbox user to one or more organisations (tenants), which ``GET /connections`` lists with ``id``, ``tenantId``,
``tenantName``, ``authEventId``. Access tokens live 30 min; refresh tokens rotate on **every** refresh, the previous
one still refreshes for a **30-minute grace** (answering with the current refresh token, no second rotation), and
expire after 60 days unused. ``offline_access`` is needed for a refresh token. Revocation (form ``token=<refresh>``)
kills the grant and removes the user's connections; ``DELETE /connections/{id}`` removes one connection (204).

Accounting API rules: ``Authorization: Bearer`` (else 401 problem+json, as observed by pyxero); ``xero-tenant-id`` of
a connected organisation (else 403 ``AuthenticationUnsuccessful``, X.md §7); ``Accept: application/json`` (406
otherwise, sandbox choice: Xero answers XML); per-tenant limits 60/minute, 5,000/day (sliding 24 h; fixed vs
rolling is UNCONFIRMED), 5 concurrent: 429 with ``Retry-After`` (minute/day) and ``X-Rate-Limit-Problem``
(``minute`` / ``day`` / ``concurrent``), empty body; every answer carries ``X-DayLimit-Remaining``,
``X-MinLimit-Remaining``, ``X-AppMinLimit-Remaining`` (X.md §6): true counts after the request (the tenant's
sliding minute and day, the calling app's minute across tenants), on handler answers, injected faults and 429s alike.
Knob ``tenant_daily_limits`` ``{tenant id: calls/day or null}`` gives one organisation its own day allowance (Starter
tier: 1,000) over ``daily_limit``. ``Idempotency-Key`` (≤ 128 chars) on PUT/POST
replays the first answer for 6 minutes (knob), errors included; the same key with another request is a 400 (X.md
§4). ``summarizeErrors=false`` answers 200 with every element and its ``ValidationErrors``; otherwise one bad
element makes a 400 ``ValidationException`` while the good ones are still saved (X.md §5). ``If-Modified-Since``
filters by ``UpdatedDateUTC``. Paged lists (Contacts, Invoices, Payments): ``page`` ≥ 1, ``pageSize`` 1..1000
(else 400, sandbox choice), ``pagination`` in the answer; without ``page`` every row is returned (Invoices then
without ``LineItems``). Items and Accounts are not paged. Rules and messages: see ``xero_books.py``; messages the
spec or X.md quote are verbatim (duplicate contact name, ``Invoice # must be unique.``, ``Price List Item with Code
''abc'' already exists``, ``Payment amount exceeds the amount outstanding on this document``, unknown account code,
unknown document id); the rest are sandbox wording. Fields sent next to ``ContactID`` in an invoice's ``Contact``
update that contact (X.md §3), with the contact rules. Not modelled: tax (every rate 0 %), multicurrency, credit notes,
attachments, webhooks, refusing at the app-wide 10,000/minute limit (only counted), GET /Organisation.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import math
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse, RedirectResponse, Response

from local.sandbox.framework import ConfigError, ProviderRoute, ProviderSandbox, SandboxCore, SandboxRequest
from local.sandbox.limits import SlidingWindow, TenantLimits
from local.sandbox.oauth import OAuthApp, OAuthError, OAuthPolicy, OAuthServer
from local.sandbox.xero_books import Books, Invalid, NotFoundError, Org
from local.sandbox.xero_query import QueryError, compile_where, ms_date, parse_if_modified_since, sort_rows

ITEMS_PER_REQUEST_MAX = 500  # X.md §5

DEFAULT_CLIENT_ID = "local-xero-client"
DEFAULT_CLIENT_SECRET = "local-xero-secret"
DEFAULT_TENANT_ID = "6e9c2b2e-0c7d-4f0e-9a55-1b1e5e0d0a01"
DEFAULT_ORG_NAME = "BlueClerk Xero Demo Company"
DEFAULT_USER = "sandbox-user"
APP_NAME = "BlueClerk (local sandbox app)"
ACCESS_TOKEN_TTL = 1800  # X.md §1
REFRESH_TOKEN_TTL = 60 * 86_400  # expires if unused for 60 days
REFRESH_GRACE = 1800  # the previous refresh token still works for 30 minutes
AUTH_CODE_TTL = 300  # UNCONFIRMED
IDEMPOTENCY_TTL = 360  # 6 minutes [secondary]
IDEMPOTENCY_KEY_MAX = 128
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
API_PREFIX = "/api.xro/2.0"
KNOWN_SCOPES = {
    "openid",
    "profile",
    "email",
    "offline_access",
    "accounting.contacts",
    "accounting.contacts.read",
    "accounting.transactions",
    "accounting.transactions.read",
    "accounting.settings",
    "accounting.settings.read",
    "accounting.attachments",
    "accounting.attachments.read",
    "accounting.reports.read",
    "accounting.journals.read",
}
# resource -> (write scope, read scope)
SCOPES = {
    "contacts": ("accounting.contacts", "accounting.contacts.read"),
    "invoices": ("accounting.transactions", "accounting.transactions.read"),
    "payments": ("accounting.transactions", "accounting.transactions.read"),
    "items": ("accounting.settings", "accounting.settings.read"),
    "accounts": ("accounting.settings", "accounting.settings.read"),
}
RESOURCE_NAMES = {"contacts": "Contacts", "invoices": "Invoices", "payments": "Payments", "items": "Items",
                  "accounts": "Accounts"}  # fmt: skip
ID_KEYS = {"Contacts": "ContactID", "Invoices": "InvoiceID", "Payments": "PaymentID", "Items": "ItemID",
           "Accounts": "AccountID"}  # fmt: skip
PAGED = {"Contacts", "Invoices", "Payments"}


class ApiError(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass
class Connection:
    id: str
    client_id: str
    user: str
    tenant_id: str
    auth_event_id: str
    created_at: float
    updated_at: float


@dataclass
class Consent:
    user: str
    tenants: list[str]
    auth_event_id: str


@dataclass
class XeroConfig:
    rate_limit_per_minute: int | None = 60
    daily_limit: int | None = 5000
    tenant_daily_limits: dict[str, int | None] = field(default_factory=dict)  # per organisation, over daily_limit
    concurrency_limit: int | None = 5
    idempotency_ttl_seconds: float = IDEMPOTENCY_TTL
    max_page_size: int = MAX_PAGE_SIZE
    require_accept_json: bool = True
    default_tenant_id: str = DEFAULT_TENANT_ID
    default_org_name: str = DEFAULT_ORG_NAME
    next_connect: dict[str, Any] = field(default_factory=dict)
    record_exchanges: bool = False


@dataclass
class Exchange:
    """One request the sandbox received and the answer it gave (recorded when ``record_exchanges`` is on)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    source: str = "handler"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class XeroSandbox(ProviderSandbox):
    name = "xero"

    def __init__(self, core: SandboxCore) -> None:
        super().__init__(core)
        self.books = Books(self.clock.timestamp)
        self.reset()

    # -- lifecycle / control plane ------------------------------------------------------------------------------
    def reset(self) -> None:
        self.config = XeroConfig()
        self.oauth = OAuthServer(
            clock=self.clock,
            policy=OAuthPolicy(
                access_token_ttl=ACCESS_TOKEN_TTL,
                refresh_token_ttl=REFRESH_TOKEN_TTL,
                refresh_token_max_lifetime=None,
                code_ttl=AUTH_CODE_TTL,
                rotation="every",
                refresh_grace=float(REFRESH_GRACE),
            ),
            token_prefix="xero-",
        )
        self.oauth.register_app(OAuthApp(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        self.orgs: dict[str, Org] = {}
        self.connections: dict[str, Connection] = {}
        self.consents: dict[str, Consent] = {}  # authorization code -> what the user approved
        self.grant_users: dict[str, str] = {}
        self.exchanges: list[Exchange] = []
        self.app_minutes: dict[str, SlidingWindow] = {}  # client id -> its calls in the last 60 s, every tenant
        self._app_lock = threading.Lock()

    def daily_limit_for(self, tenant: str) -> int | None:
        return self.config.tenant_daily_limits.get(tenant.lower(), self.config.daily_limit)

    def limits_for(self, tenant: str) -> TenantLimits:
        return TenantLimits(
            per_minute=self.config.rate_limit_per_minute,
            concurrency=self.config.concurrency_limit,
            per_day=self.daily_limit_for(tenant),
        )

    def env(self, base_url: str) -> dict[str, str]:
        prefix = f"{base_url}/{self.name}"
        return {
            "XERO_API_URL": prefix,
            "XERO_AUTHORIZE_URL": f"{prefix}/identity/connect/authorize",
            "XERO_TOKEN_URL": f"{prefix}/connect/token",
            "XERO_REVOKE_URL": f"{prefix}/connect/revocation",
            "XERO_CONNECTIONS_URL": f"{prefix}/connections",
            "XERO_CLIENT_ID": DEFAULT_CLIENT_ID,
            "XERO_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        }

    def get_config(self) -> dict[str, Any]:
        policy = self.oauth.policy
        return {
            "access_token_ttl_seconds": policy.access_token_ttl,
            "refresh_token_ttl_seconds": policy.refresh_token_ttl,
            "refresh_grace_seconds": policy.refresh_grace,
            "auth_code_ttl_seconds": policy.code_ttl,
            "rate_limit_per_minute": self.config.rate_limit_per_minute,
            "daily_limit": self.config.daily_limit,
            "tenant_daily_limits": dict(self.config.tenant_daily_limits),
            "concurrency_limit": self.config.concurrency_limit,
            "idempotency_ttl_seconds": self.config.idempotency_ttl_seconds,
            "max_page_size": self.config.max_page_size,
            "require_accept_json": self.config.require_accept_json,
            "default_tenant_id": self.config.default_tenant_id,
            "default_org_name": self.config.default_org_name,
            "next_connect": copy.deepcopy(self.config.next_connect),
            "record_exchanges": self.config.record_exchanges,
            "orgs": {tid: {"name": org.name} for tid, org in self.orgs.items()},
            "apps": [{"client_id": a.client_id} for a in self.oauth.apps.values()],
        }

    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        policy = copy.copy(self.oauth.policy)
        config = copy.deepcopy(self.config)
        orgs: dict[str, str] = {}
        apps: list[OAuthApp] = []
        for key, value in knobs.items():
            if key in ("access_token_ttl_seconds", "auth_code_ttl_seconds"):
                setattr(policy, key.replace("_seconds", "").replace("auth_code", "code"), _positive_int(key, value))
            elif key == "refresh_token_ttl_seconds":
                policy.refresh_token_ttl = _positive_int_or_none(key, value)
            elif key == "refresh_grace_seconds":
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ConfigError("refresh_grace_seconds must be a number >= 0")
                policy.refresh_grace = float(value)
            elif key in ("rate_limit_per_minute", "daily_limit", "concurrency_limit"):
                setattr(config, key, _positive_int_or_none(key, value))
            elif key == "tenant_daily_limits":
                if not isinstance(value, dict):
                    raise ConfigError("tenant_daily_limits maps a tenant id to calls per day (or null: no limit)")
                for tid, limit in value.items():
                    config.tenant_daily_limits[_tenant_id(tid)] = _positive_int_or_none(key, limit)
            elif key == "idempotency_ttl_seconds":
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise ConfigError("idempotency_ttl_seconds must be a positive number")
                config.idempotency_ttl_seconds = float(value)
            elif key == "max_page_size":
                config.max_page_size = _positive_int(key, value)
            elif key in ("require_accept_json", "record_exchanges"):
                if not isinstance(value, bool):
                    raise ConfigError(f"{key} must be a boolean")
                setattr(config, key, value)
            elif key == "default_tenant_id":
                config.default_tenant_id = _tenant_id(value)
            elif key == "default_org_name":
                if not isinstance(value, str) or not value.strip():
                    raise ConfigError("default_org_name must be a non-empty string")
                config.default_org_name = value
            elif key == "next_connect":
                if not isinstance(value, dict) or set(value) - {"tenants", "user", "deny"}:
                    raise ConfigError("next_connect is an object with tenants (list of ids), user and/or deny")
                for tid in value.get("tenants") or []:
                    _tenant_id(tid)
                config.next_connect = dict(value)
            elif key == "orgs":
                if not isinstance(value, dict):
                    raise ConfigError("orgs maps a tenant id to {name}")
                for tid, spec in value.items():
                    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
                        raise ConfigError("each org needs a name")
                    orgs[_tenant_id(tid)] = spec["name"]
            elif key == "apps":
                if not isinstance(value, list) or not all(
                    isinstance(a, dict) and a.get("client_id") and a.get("client_secret") for a in value
                ):
                    raise ConfigError("apps is a list of {client_id, client_secret, redirect_uris?}")
                for spec in value:
                    uris = spec.get("redirect_uris")
                    allowed = frozenset(uris or []) or None
                    apps.append(OAuthApp(str(spec["client_id"]), str(spec["client_secret"]), allowed))
            else:
                raise ConfigError(f"unknown xero knob {key!r}")
        try:
            policy.validate()
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        self.oauth.policy = policy
        self.config = config
        for tid, name in orgs.items():
            self.ensure_org(tid, name)
        for app in apps:
            self.oauth.register_app(app)
        return self.get_config()

    def tenants(self) -> list[str]:
        return sorted(self.orgs)

    def tenant_dump(self, tenant: str) -> dict[str, Any] | None:
        org = self.orgs.get(tenant)
        if org is None:
            return None
        b = self.books
        entities = {
            "Accounts": [b.render_account(a) for a in org.accounts.values()],
            "Contacts": [b.render_contact(c) for c in org.contacts.values()],
            "Items": [b.render_item(i) for i in org.items.values()],
            "Invoices": [b.render_invoice(org, i) for i in org.invoices.values()],
            "Payments": [b.render_payment(org, p) for p in org.payments.values()],
        }
        return json.loads(
            json.dumps(
                {
                    "tenant_id": org.tenant_id,
                    "name": org.name,
                    "counts": org.counts(),
                    "entities": entities,
                    "connections": [
                        {"id": c.id, "user": c.user, "client_id": c.client_id, "auth_event_id": c.auth_event_id}
                        for c in self.connections.values()
                        if c.tenant_id == tenant
                    ],
                    "tokens": self.oauth.tenant_summary(tenant),
                    "idempotency_keys": len(org.idempotency),
                },
                default=_json_default,
            )
        )

    def ensure_org(self, tenant_id: str, name: str | None = None) -> Org:
        org = self.orgs.get(tenant_id)
        if org is None:
            org = self.books.new_org(tenant_id, name or f"Organisation {tenant_id[:8]}")
            self.orgs[tenant_id] = org
        elif name:
            org.name = name
        return org

    # -- routes ---------------------------------------------------------------------------------------------------
    def routes(self) -> list[ProviderRoute]:
        api = self._tapped(self.api)
        return [
            ProviderRoute("/identity/connect/authorize", self._tapped(self.authorize), ("GET",)),
            ProviderRoute("/connect/token", self._tapped(self.token), ("POST",)),
            ProviderRoute("/connect/revocation", self._tapped(self.revoke), ("POST",)),
            ProviderRoute("/connections", self._tapped(self.list_connections), ("GET",)),
            ProviderRoute("/Connections", self._tapped(self.list_connections), ("GET",)),
            ProviderRoute("/connections/{id}", self._tapped(self.delete_connection), ("DELETE",)),
            ProviderRoute("/Connections/{id}", self._tapped(self.delete_connection), ("DELETE",)),
            ProviderRoute(
                API_PREFIX + "/{rest:path}", api, ("GET", "PUT", "POST", "DELETE"), tenant_header="xero-tenant-id"
            ),
        ]

    # -- exchange recording ---------------------------------------------------------------------------------------
    def _tapped(self, handler: Any) -> Any:
        def run(req: SandboxRequest) -> Response:
            response = handler(req)
            self._record(req, response, "handler")
            return response

        return run

    def _record(self, req: SandboxRequest, response: Response, source: str) -> None:
        if not self.config.record_exchanges:
            return
        exchange = Exchange(
            method=req.method,
            path=req.path,
            query=str(req.query),
            headers={k.lower(): v for k, v in req.headers.items()},
            body=req.body,
            status=response.status_code,
            response_headers={k.lower(): v for k, v in response.headers.items()},
            response_body=bytes(response.body),
            source=source,
        )
        slot = getattr(req, "_xero_exchange", None)
        if slot is not None and slot < len(self.exchanges):
            self.exchanges[slot] = exchange  # commit_then_500: the client saw the fault, not the handler's answer
        else:
            req._xero_exchange = len(self.exchanges)  # type: ignore[attr-defined]
            self.exchanges.append(exchange)

    # -- error envelopes for the framework ------------------------------------------------------------------------
    def _is_api(self, req: SandboxRequest) -> bool:
        return req.path.startswith(f"/{self.name}{API_PREFIX}/")

    def fault_response(
        self, req: SandboxRequest, status: int, retry_after: int | None = None, message: str | None = None
    ) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        app = self._count_app(req) if self._is_api(req) else None  # the limiter admitted it: the app's call too
        if not self._is_api(req) and "/connections" not in req.path.lower():
            error = {400: "invalid_request", 401: "invalid_client", 503: "temporarily_unavailable"}.get(
                status, "server_error"
            )
            response: Response = JSONResponse({"error": error}, status_code=status, headers=headers)
        elif status in (401, 403):
            detail = message or ("Unauthorized" if status == 401 else "AuthenticationUnsuccessful")
            response = self._problem(status, detail)
            response.headers.update(headers)
        elif status == 429:
            # with retry_after: a minute limit; without: a concurrency refusal, which carries no Retry-After
            response = self._throttled(req, "minute" if retry_after is not None else "concurrent", retry_after, app)
        else:
            kind = "ServiceUnavailableException" if status == 503 else "InternalServerException"
            payload = {"ErrorNumber": status, "Type": kind, "Message": message or "An error occurred in Xero."}
            response = self._json(payload, status, headers)
        if self._is_api(req) and status != 429:  # every answer says what is left
            response.headers.update(self._limit_headers(self._known(req), app))
        self._record(req, response, "fault")
        return response

    def throttle_response(self, req: SandboxRequest, reason: str) -> Response:
        problem = {"rate": "minute", "day": "day", "concurrency": "concurrent"}[reason]
        wait: int | None = None
        if reason in ("rate", "day") and req.tenant:
            wait = max(1, math.ceil(self.core.limiter.seconds_until_free(self.name, req.tenant, reason,
                                                                          self.clock.timestamp())))  # fmt: skip
        response = self._throttled(req, problem, wait)
        self._record(req, response, "throttle")
        return response

    def _throttled(
        self, req: SandboxRequest, problem: str, retry_after: int | None, app: str | None = None
    ) -> Response:
        headers = {"X-Rate-Limit-Problem": problem, **self._limit_headers(self._known(req), app or self._app_of(req))}
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return Response(b"", status_code=429, headers=headers)

    def _known(self, req: SandboxRequest) -> str | None:
        """The request's organisation as the limiter counts it (the header as sent), if it is one of ours."""
        return req.tenant if req.tenant and req.tenant.lower() in self.orgs else None

    def _app_of(self, req: SandboxRequest) -> str | None:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        grant = self.oauth.validate_access_token(token.strip())
        return str(grant.client_id) if grant is not None else None

    def _count_app(self, req: SandboxRequest) -> str | None:
        """Count an admitted API call against its app's minute (every tenant); returns the app's client id."""
        app = self._app_of(req)
        if app is not None and not getattr(req, "_xero_app_counted", False):  # commit_then_500: once
            req._xero_app_counted = True  # type: ignore[attr-defined]
            with self._app_lock:
                self.app_minutes.setdefault(app, SlidingWindow()).try_add(self.clock.timestamp(), None)
        return app

    def _limit_headers(self, tenant: str | None, app: str | None = None) -> dict[str, str]:
        now = self.clock.timestamp()
        snap = self.core.limiter.snapshot(self.name, tenant, now) if tenant else {}
        if app is None:  # no valid token: the calls of every app
            app_minute = sum(self.core.limiter.snapshot(self.name, t, now)["requests_last_minute"] for t in self.orgs)
        else:
            with self._app_lock:
                window = self.app_minutes.get(app)
                app_minute = window.count(now) if window is not None else 0
        minute = self.config.rate_limit_per_minute
        day = self.daily_limit_for(tenant) if tenant else self.config.daily_limit
        return {
            "X-MinLimit-Remaining": str(max(0, minute - snap.get("requests_last_minute", 0)) if minute else 60),
            "X-DayLimit-Remaining": str(max(0, day - snap.get("requests_last_day", 0)) if day else 5000),
            "X-AppMinLimit-Remaining": str(max(0, 10_000 - app_minute)),
        }

    # -- responses --------------------------------------------------------------------------------------------------
    def _json(self, payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, default=_json_default, separators=(",", ":"))
        out = {"Xero-Correlation-Id": str(uuid.uuid4())}
        out.update(headers or {})
        return Response(body, status_code=status, media_type="application/json; charset=utf-8", headers=out)

    def _problem(self, status: int, detail: str) -> Response:
        title = {401: "Unauthorized", 403: "Forbidden"}.get(status, "Error")
        payload = {"Type": None, "Title": title, "Status": status, "Detail": detail, "Instance": str(uuid.uuid4()),
                   "Extensions": {}}  # fmt: skip
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else {}
        body = json.dumps(payload, separators=(",", ":"))
        return Response(body, status_code=status, media_type="application/problem+json", headers=headers)

    def _error(self, number: int, kind: str, message: str, status: int = 400, elements: Any = None) -> ApiError:
        payload: dict[str, Any] = {"ErrorNumber": number, "Type": kind, "Message": message}
        if elements is not None:
            payload["Elements"] = elements
        return ApiError(self._json(payload, status))

    def _envelope(self, resource: str, rows: list[Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": APP_NAME,
            "DateTimeUTC": ms_date(self.clock.timestamp(), offset=False),
            **(extra or {}),
            resource: rows,
        }

    # -- OAuth ------------------------------------------------------------------------------------------------------
    def authorize(self, req: SandboxRequest) -> Response:
        q = req.query
        app = self.oauth.apps.get(q.get("client_id", ""))
        if app is None:
            return JSONResponse({"error": "invalid_client", "error_description": "Unknown client_id"}, status_code=400)
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri or not app.allows_redirect(redirect_uri):
            return JSONResponse(
                {"error": "invalid_request", "error_description": "redirect_uri is missing or not registered"},
                status_code=400,
            )
        state = q.get("state", "")
        if not state:
            return JSONResponse({"error": "invalid_request", "error_description": "state is required"}, status_code=400)

        def back(params: dict[str, str]) -> Response:
            separator = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302)

        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type", "state": state})
        scopes = q.get("scope", "").split()
        if not scopes or set(scopes) - KNOWN_SCOPES:
            return back({"error": "invalid_scope", "state": state})
        plan = self.config.next_connect
        self.config.next_connect = {}
        if q.get("sandbox_decision") == "deny" or plan.get("deny"):
            return back({"error": "access_denied", "state": state})
        tenants = (
            [t for t in q.get("sandbox_tenants", "").split(",") if t]
            or plan.get("tenants")
            or [self.config.default_tenant_id]
        )
        if not all(_uuid(t) for t in tenants):
            return JSONResponse({"error": "invalid_request", "error_description": "tenants are UUIDs"}, status_code=400)
        user = q.get("sandbox_user") or plan.get("user") or DEFAULT_USER
        now = self.clock.timestamp()
        auth_event = str(uuid.uuid4())
        for tid in tenants:
            self.ensure_org(tid, self.config.default_org_name if tid == self.config.default_tenant_id else None)
            key = (app.client_id, user, tid)
            conn = next((c for c in self.connections.values() if (c.client_id, c.user, c.tenant_id) == key), None)
            if conn is None:
                conn = Connection(str(uuid.uuid4()), app.client_id, user, tid, auth_event, now, now)
                self.connections[conn.id] = conn
            conn.auth_event_id, conn.updated_at = auth_event, now
        req.tenant = tenants[0]
        code = self.oauth.issue_code(app, redirect_uri, tenants[0], " ".join(scopes))
        self.consents[code] = Consent(user, list(tenants), auth_event)
        return back({"code": code, "scope": " ".join(scopes), "state": state, "session_state": secrets.token_hex(8)})

    def _client_credentials(self, req: SandboxRequest, form: dict[str, str]) -> tuple[str | None, str | None]:
        scheme, _, value = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic" and value:
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None, None
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        return form.get("client_id"), form.get("client_secret")  # client_secret_post (xero-python)

    def token(self, req: SandboxRequest) -> Response:
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if req.content_type != "application/x-www-form-urlencoded":
            return JSONResponse({"error": "invalid_request"}, status_code=400, headers=no_store)
        form = req.form()
        grant_type = form.get("grant_type")
        req.token_refresh = grant_type == "refresh_token"
        try:
            try:
                app = self.oauth.authenticate_client(*self._client_credentials(req, form))
            except OAuthError as exc:
                raise OAuthError("invalid_client", exc.description, status=400) from None
            if grant_type == "authorization_code":
                consent = self.consents.get(form.get("code") or "")
                result = self.oauth.exchange_code(app, form.get("code"), form.get("redirect_uri"))
                self.grant_users[result.grant.id] = consent.user if consent else DEFAULT_USER
            elif grant_type == "refresh_token":
                result = self.oauth.refresh(app, form.get("refresh_token"))
            else:
                raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        except OAuthError as exc:
            req.tenant = exc.tenant
            return JSONResponse({"error": exc.error}, status_code=exc.status, headers=no_store)
        req.tenant = result.grant.tenant
        scopes = result.grant.scope.split()
        payload: dict[str, Any] = {}
        if "openid" in scopes:
            payload["id_token"] = "xero-id-" + secrets.token_urlsafe(24)
        payload |= {"access_token": result.access_token, "expires_in": result.expires_in, "token_type": "Bearer"}
        if "offline_access" in scopes:
            payload["refresh_token"] = result.refresh_token
        payload["scope"] = result.grant.scope
        return JSONResponse(payload, headers=no_store)

    def revoke(self, req: SandboxRequest) -> Response:
        if req.content_type != "application/x-www-form-urlencoded":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        form = req.form()
        try:
            app = self.oauth.authenticate_client(*self._client_credentials(req, form))
        except OAuthError:
            return JSONResponse({"error": "invalid_client"}, status_code=400)
        token = form.get("token") or ""
        if not token:
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if token in self.oauth._access:  # Xero revokes refresh tokens only
            return JSONResponse({"error": "unsupported_token_type"}, status_code=400)
        try:
            grant = self.oauth.revoke(app, token)
        except OAuthError as exc:
            return JSONResponse({"error": exc.error}, status_code=400)
        if grant is not None:
            req.tenant = grant.tenant
            user = self.grant_users.get(grant.id, DEFAULT_USER)
            for conn_id in [c.id for c in self.connections.values() if (c.client_id, c.user) == (app.client_id, user)]:
                del self.connections[conn_id]
        return Response(status_code=200)

    def _bearer(self, req: SandboxRequest) -> tuple[Any, str]:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(self._problem(401, "Unauthorized: no bearer token"))
        grant = self.oauth.validate_access_token(token.strip())
        if grant is None:
            when = datetime.fromtimestamp(self.clock.timestamp(), UTC).strftime("%m/%d/%Y %H:%M:%S")
            raise ApiError(self._problem(401, f"TokenExpired: token expired at {when}"))
        return grant, self.grant_users.get(grant.id, DEFAULT_USER)

    def list_connections(self, req: SandboxRequest) -> Response:
        try:
            grant, user = self._bearer(req)
        except ApiError as exc:
            return exc.response
        event = req.query.get("authEventId")
        rows = [
            {
                "id": c.id,
                "authEventId": c.auth_event_id,
                "tenantId": c.tenant_id,
                "tenantType": "ORGANISATION",
                "tenantName": self.orgs[c.tenant_id].name,
                "createdDateUtc": _utc(c.created_at),
                "updatedDateUtc": _utc(c.updated_at),
            }
            for c in sorted(self.connections.values(), key=lambda c: c.created_at)
            if (c.client_id, c.user) == (grant.client_id, user) and (not event or c.auth_event_id == event)
        ]
        return self._json(rows)

    def delete_connection(self, req: SandboxRequest) -> Response:
        try:
            grant, user = self._bearer(req)
        except ApiError as exc:
            return exc.response
        conn = self.connections.get(req.path_params["id"].lower())
        if conn is None or (conn.client_id, conn.user) != (grant.client_id, user):
            return Response(status_code=404)
        req.tenant = conn.tenant_id
        del self.connections[conn.id]
        return Response(status_code=204)

    # -- Accounting API -------------------------------------------------------------------------------------------
    def api(self, req: SandboxRequest) -> Response:
        app = self._count_app(req)
        try:
            org = self._authorise_api(req)
            response = self._dispatch(req, org)
        except ApiError as exc:
            response = exc.response
        response.headers.update(self._limit_headers(self._known(req), app))
        return response

    def _authorise_api(self, req: SandboxRequest) -> Org:
        grant, user = self._bearer(req)
        tenant = req.headers.get("xero-tenant-id", "")
        conn = next(
            (
                c
                for c in self.connections.values()
                if (c.client_id, c.user, c.tenant_id) == (grant.client_id, user, tenant.lower())
            ),
            None,
        )
        if not tenant or conn is None or tenant.lower() not in self.orgs:
            raise ApiError(self._problem(403, "AuthenticationUnsuccessful"))
        resource = req.path_params.get("rest", "").split("/")[0].lower()
        write_scope, read_scope = SCOPES.get(resource, ("", ""))
        scopes = set(grant.scope.split())
        allowed = {write_scope} if req.method != "GET" else {write_scope, read_scope}
        if write_scope and not scopes & allowed:
            raise ApiError(self._problem(403, "AuthenticationUnsuccessful"))
        if self.config.require_accept_json and "application/json" not in req.headers.get("accept", "").lower():
            raise self._error(
                406, "NotAcceptableException", "Sandbox: send 'Accept: application/json' (Xero answers XML otherwise)",
                status=406,
            )  # fmt: skip
        return self.orgs[tenant.lower()]

    def _dispatch(self, req: SandboxRequest, org: Org) -> Response:
        parts = [p for p in req.path_params.get("rest", "").split("/") if p]
        resource = RESOURCE_NAMES.get(parts[0].lower()) if parts else None
        if resource is None or len(parts) > 2:
            raise self._error(20, "NotImplementedException", f"{req.method} {req.path} is not available here", 404)
        ident = parts[1] if len(parts) == 2 else None
        if req.method == "GET":
            return self._get(req, org, resource, ident)
        if req.method == "DELETE" and resource == "Items" and ident:
            item = org.items.get(ident.lower())
            if item is None:
                raise ApiError(_not_found())
            del org.items[item["ItemID"]]
            return Response(status_code=204)
        if req.method in ("PUT", "POST") and not (req.method == "PUT" and ident):
            return self._idempotent(req, org, lambda: self._write(req, org, resource, ident))
        raise self._error(20, "MethodNotAllowedException", f"{req.method} is not allowed on {req.path}", 405)

    # -- idempotency --------------------------------------------------------------------------------------------
    def _idempotent(self, req: SandboxRequest, org: Org, action: Any) -> Response:
        key = req.headers.get("idempotency-key")
        if key is None:
            return action()  # type: ignore[no-any-return]
        if not key or len(key) > IDEMPOTENCY_KEY_MAX:
            message = f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} characters"
            raise self._error(10, "ValidationException", message)
        fingerprint = hashlib.sha256(
            b"\n".join([req.method.encode(), req.path.lower().encode(), str(req.query).encode(), req.body])
        ).hexdigest()
        now = self.clock.timestamp()
        stored = org.idempotency.get(key)
        if stored is not None and now - stored["at"] < self.config.idempotency_ttl_seconds:
            if stored["fingerprint"] != fingerprint:
                raise self._error(
                    10, "ValidationException",
                    f"The Idempotency-Key '{key}' has already been used with a different request.",
                )  # fmt: skip
            return Response(stored["body"], status_code=stored["status"], media_type=stored["media_type"],
                            headers={"Xero-Correlation-Id": str(uuid.uuid4())})  # fmt: skip
        try:
            response = action()
        except ApiError as exc:
            response = exc.response
        org.idempotency[key] = {
            "fingerprint": fingerprint,
            "status": response.status_code,
            "body": bytes(response.body),
            "media_type": response.media_type or "application/json; charset=utf-8",
            "at": now,
        }
        return response  # type: ignore[no-any-return]

    # -- reads ----------------------------------------------------------------------------------------------------
    def _getter(self, org: Org, resource: str) -> Any:
        def get(row: dict[str, Any], path: str) -> Any:
            value: Any = row
            for part in path.split("."):
                if not isinstance(value, dict):
                    return None
                if part.lower() == "updateddateutc" and "_updated" in value:
                    return datetime.fromtimestamp(value["_updated"], UTC)
                if part.lower() == "contact" and "_contact" in value:
                    value = org.contacts.get(value["_contact"], {})
                    continue
                if part.lower() == "invoice" and "_invoice" in value:
                    value = org.invoices.get(value["_invoice"], {})
                    continue
                if part.lower() == "account" and "_account" in value:
                    value = org.accounts.get(value["_account"], {})
                    continue
                match = next((k for k in value if k.lower() == part.lower()), None)
                if match is None:
                    if resource == "Invoices" and part.lower() in ("amountdue", "amountpaid", "total", "subtotal"):
                        totals = self.books.totals(org, value)
                        return totals[next(k for k in totals if k.lower() == part.lower())]
                    raise QueryError(f"unknown field {path!r}")
                value = value[match]
            return value

        return get

    def _get(self, req: SandboxRequest, org: Org, resource: str, ident: str | None) -> Response:
        b = self.books
        store: dict[str, dict[str, Any]] = getattr(org, resource.lower())
        if ident is not None:
            row = store.get(ident.lower())
            if row is None and resource == "Invoices":
                row = b.find_invoice(org, ident)
            if row is None and resource == "Contacts":
                row = next((c for c in store.values() if c.get("ContactNumber") == ident), None)
            if row is None and resource == "Items":
                row = b.item_by_code(org, ident)
            if row is None:
                raise ApiError(_not_found())
            return self._json(self._envelope(resource, [self._render(org, resource, row)]))
        q = req.query
        rows = list(store.values())
        since = req.headers.get("if-modified-since")
        if since:
            ts = parse_if_modified_since(since)
            if ts is None:
                raise self._error(16, "QueryParseException", f"If-Modified-Since {since!r} is not a valid date")
            rows = [r for r in rows if r.get("_updated", 0) > ts]
        getter = self._getter(org, resource)
        try:
            if q.get("IDs") or q.get("ids"):
                wanted = {v.strip().lower() for v in (q.get("IDs") or q.get("ids") or "").split(",")}
                rows = [r for r in rows if r[ID_KEYS[resource]] in wanted]
            if resource == "Invoices":
                rows = self._invoice_filters(org, req, rows)
            if resource == "Contacts" and q.get("includeArchived", "").lower() != "true":
                rows = [r for r in rows if r["ContactStatus"] != "ARCHIVED"]
            if q.get("searchTerm"):
                term = q["searchTerm"].casefold()
                keys = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress", "InvoiceNumber", "Reference")
                rows = [r for r in rows if any(term in str(r.get(k, "")).casefold() for k in keys)]
            if q.get("where"):
                test = compile_where(q["where"], getter)
                rows = [r for r in rows if test(r)]
            order = q.get("order")
            rows = sort_rows(rows, order, getter) if order else sorted(rows, key=lambda r: r.get("_created", 0))
        except QueryError as exc:
            raise self._error(16, "QueryParseException", str(exc)) from None
        extra: dict[str, Any] = {}
        page = q.get("page")
        paged = resource in PAGED and page is not None
        if resource in PAGED and (page is not None or q.get("pageSize") is not None):
            number = _int_param(self, "page", page or "1", 1)
            size = _int_param(self, "pageSize", q.get("pageSize") or str(DEFAULT_PAGE_SIZE), 1)
            if size > self.config.max_page_size:
                raise self._error(
                    16, "QueryParseException", f"pageSize must be between 1 and {self.config.max_page_size}"
                )
            total = len(rows)
            rows = rows[(number - 1) * size : number * size]
            extra["pagination"] = {"page": number, "pageSize": size, "pageCount": math.ceil(total / size),
                                   "itemCount": total}  # fmt: skip
            paged = True
        summary = q.get("summaryOnly", "").lower() == "true"
        rendered = [self._render(org, resource, r, lines=paged and not summary, summary=summary) for r in rows]
        return self._json(self._envelope(resource, rendered, extra))

    def _invoice_filters(self, org: Org, req: SandboxRequest, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        q = req.query
        if q.get("InvoiceNumbers"):
            wanted = {v.strip().casefold() for v in q["InvoiceNumbers"].split(",")}
            rows = [r for r in rows if r["InvoiceNumber"].casefold() in wanted]
        if q.get("ContactIDs"):
            wanted = {v.strip().lower() for v in q["ContactIDs"].split(",")}
            rows = [r for r in rows if r["_contact"] in wanted]
        if q.get("Statuses"):
            wanted = {v.strip().upper() for v in q["Statuses"].split(",")}
            rows = [r for r in rows if r["Status"] in wanted]
        return rows

    def _render(
        self, org: Org, resource: str, row: dict[str, Any], lines: bool = True, summary: bool = False
    ) -> dict[str, Any]:
        b = self.books
        if resource == "Contacts":
            return b.render_contact(row, summary=summary)
        if resource == "Items":
            return b.render_item(row)
        if resource == "Invoices":
            return b.render_invoice(org, row, lines=lines)
        if resource == "Payments":
            return b.render_payment(org, row)
        return b.render_account(row)

    # -- writes ---------------------------------------------------------------------------------------------------
    def _write(self, req: SandboxRequest, org: Org, resource: str, ident: str | None) -> Response:
        if req.content_type != "application/json":
            raise self._error(21, "UnsupportedMediaTypeException", "Content-Type must be application/json", 415)
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._error(14, "PostDataInvalidException", f"JSON for post data was invalid: {exc}") from None
        summarize = req.query.get("summarizeErrors", "true").lower() != "false"
        unitdp = 4 if req.query.get("unitdp") == "4" else 2
        b = self.books
        if resource == "Payments" and ident:
            element = body["Payments"][0] if isinstance(body, dict) and isinstance(body.get("Payments"), list) and \
                body["Payments"] else body  # fmt: skip
            try:
                payment = b.delete_payment(org, ident, element)
            except NotFoundError:
                raise ApiError(_not_found()) from None
            except Invalid as exc:
                raise self._validation([self._echo(element, exc.messages)]) from None
            return self._json(self._envelope("Payments", [b.render_payment(org, payment)]))
        elements = self._elements(body, resource, req.method)
        mode = "update" if ident else ("create" if req.method == "PUT" else "upsert")
        results: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for element in elements:
            try:
                if resource == "Contacts":
                    saved = b.write_contact(org, element, mode, ident)
                elif resource == "Items":
                    saved = b.write_item(org, element, mode, ident, unitdp)
                elif resource == "Invoices":
                    saved = b.write_invoice(org, element, mode, ident, unitdp)
                elif resource == "Payments":
                    saved = b.create_payment(org, element)
                else:
                    saved = b.create_account(org, element)
                rendered = self._render(org, resource, saved)
                if not summarize:
                    rendered["StatusAttributeString"] = "OK"
                results.append(rendered)
            except Invalid as exc:
                echo = self._echo(element, exc.messages, resource)
                failed.append(echo)
                results.append(echo)
        if failed and summarize:
            raise self._validation(failed)
        return self._json(self._envelope(resource, results))

    def _elements(self, body: Any, resource: str, method: str) -> list[Any]:
        if isinstance(body, dict) and isinstance(body.get(resource), list):
            if resource == "Items" and len(body[resource]) > ITEMS_PER_REQUEST_MAX:
                # X.md §5: Items take at most 500 per request (exact answer UNCONFIRMED: a validation error)
                raise self._error(
                    10,
                    "ValidationException",
                    f"A maximum of {ITEMS_PER_REQUEST_MAX} items can be created or updated per request",
                )
            return list(body[resource])
        if resource in ("Payments", "Accounts") and isinstance(body, dict) and resource not in body:
            return [body]  # POST /Payments and PUT /Accounts take one bare object (spec requestBody)
        raise self._error(14, "PostDataInvalidException", f'The request body must be {{"{resource}": [...]}}')

    @staticmethod
    def _echo(element: Any, messages: list[str], resource: str = "") -> dict[str, Any]:
        echo = dict(element) if isinstance(element, dict) else {}
        echo["ValidationErrors"] = [{"Message": m} for m in messages]
        echo["StatusAttributeString"] = "ERROR"
        if resource == "Invoices":
            echo["HasErrors"] = True
        elif resource in ("Contacts", "Payments"):
            echo["HasValidationErrors"] = True
        return echo

    def _validation(self, elements: list[dict[str, Any]]) -> ApiError:
        for e in elements:
            e.pop("StatusAttributeString", None)
        return self._error(10, "ValidationException", "A validation exception occurred", 400, elements)


def _not_found() -> Response:
    """404 for an unknown id (body shape UNCONFIRMED, X.md §7; xero-python only reads the status)."""
    return Response("The resource you're looking for cannot be found", 404, media_type="text/plain")


def _int_param(sandbox: XeroSandbox, name: str, value: str, minimum: int) -> int:
    if not value.isdigit() or int(value) < minimum:
        raise sandbox._error(16, "QueryParseException", f"{name} must be an integer >= {minimum}")
    return int(value)


def _utc(ts: float) -> str:
    """RFC 3339 in UTC, as the identity spec's ``format: date-time`` requires (its example omits the offset)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _tenant_id(value: Any) -> str:
    if not isinstance(value, str) or not _uuid(value):
        raise ConfigError("tenant ids are UUIDs")
    return value.lower()


def _positive_int_or_none(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer or null")
    return int(value)


def _positive_int(name: str, value: Any) -> int:
    result = _positive_int_or_none(name, value)
    if result is None:
        raise ConfigError(f"{name} must be a positive integer")
    return result
