"""A strict local stand-in for FreshBooks (OAuth 2.0 + the accounting REST API), mounted at ``/freshbooks``.

Real paths below the prefix: ``/oauth/authorize`` (auth.freshbooks.com in production), ``/auth/oauth/token``,
``/auth/oauth/revoke``, ``/auth/api/v1/users/me``, ``/accounting/account/{account_id}/...`` (clients, items, invoices,
payments) and ``/accounting/businesses/{business_uuid}/ledger_accounts/accounts``. Sources, rules and deliberate
deviations: ``docs/providers/freshbooks.md`` (section "Sandbox").
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse, RedirectResponse, Response

from local.sandbox.framework import ConfigError, ProviderRoute, ProviderSandbox, SandboxCore, SandboxRequest
from local.sandbox.limits import TenantLimits
from local.sandbox.oauth import ROTATION_POLICIES, OAuthApp, OAuthError, OAuthPolicy, OAuthServer

DEFAULT_CLIENT_ID = "local-freshbooks-client"
DEFAULT_CLIENT_SECRET = "local-freshbooks-secret"
DEFAULT_ACCOUNT_ID = "bc7Kq"
DEFAULT_BUSINESS_NAME = "BlueClerk Sandbox Business"
ACCESS_TOKEN_TTL = 43_200  # "a token that lasts for 12 hours" (FB.md section 1)
AUTH_CODE_TTL = 300  # "valid for 5 minutes" (FB.md section 1)
MAX_PER_PAGE = 100  # silently capped (FB.md section 3)
DEFAULT_PER_PAGE = 15  # the fixture list_clients_response.json answers per_page 15 when none is asked
RATE_LIMIT_PER_MINUTE = 300  # 432,000 requests/day quoted by a third party = 300/min (UNCONFIRMED)
CONCURRENCY_LIMIT = 10  # not published (sandbox choice)
INVOICE_NUMBER_MAX = 50  # not published (sandbox choice)
CURRENCIES = ("USD", "CAD", "EUR", "GBP", "AUD", "NZD")  # sandbox subset
# Payment `type`: the Classic API's documented list (FB.md section 3) plus "Cash" and "Other", which the FreshBooks
# web app offers (UNCONFIRMED for the API).
PAYMENT_TYPES = (
    "Check",
    "Credit",
    "Credit Card",
    "Bank Transfer",
    "Debit",
    "PayPal",
    "2Checkout",
    "VISA",
    "MASTERCARD",
    "DISCOVER",
    "NOVA",
    "AMEX",
    "DINERS",
    "EUROCARD",
    "JCB",
    "ACH",
    "Cash",
    "Other",
)
# The scopes the accounting routes need (FB.md section 1); a grant without `scope` gets every registered scope.
REGISTERED_SCOPES = (
    "user:profile:read",
    "user:clients:read",
    "user:clients:write",
    "user:invoices:read",
    "user:invoices:write",
    "user:payments:read",
    "user:payments:write",
    "user:billable_items:read",
    "user:billable_items:write",
    "user:taxes:read",
    "user:business:read",
)
RESOURCES = {
    ("users", "clients"): ("client", "clients", "user:clients"),
    ("items", "items"): ("item", "items", "user:billable_items"),
    ("invoices", "invoices"): ("invoice", "invoices", "user:invoices"),
    ("payments", "payments"): ("payment", "payments", "user:payments"),
}
SEED_LEDGER = (
    ("Cash", "1000", "asset", "Cash & Bank"),
    ("Accounts Receivable", "1200", "asset", "Accounts Receivable"),
    ("Sales", "4000", "income", "Sales"),
    ("Service Income", "4100", "income", "Sales"),
    ("Other Income", "4900", "income", "Other Income"),
    ("Cost of Goods Sold", "5000", "cost_of_goods_sold", "Cost of Goods Sold"),
)

# Writable fields per object; READONLY ones are accepted and ignored (clients send objects back), others -> 1004.
CLIENT_FIELDS = {
    "organization",
    "fname",
    "lname",
    "email",
    "currency_code",
    "language",
    "note",
    "p_street",
    "p_street2",
    "p_city",
    "p_province",
    "p_code",
    "p_country",
    "s_street",
    "s_street2",
    "s_city",
    "s_province",
    "s_code",
    "s_country",
    "bus_phone",
    "home_phone",
    "mob_phone",
    "fax",
    "vat_name",
    "vat_number",
    "vis_state",
    "pref_email",
    "pref_gmail",
    "allow_late_fees",
    "allow_late_notifications",
}
ITEM_FIELDS = {"name", "description", "qty", "inventory", "sku", "tax1", "tax2", "unit_cost", "vis_state"}
INVOICE_FIELDS = {
    "customerid",
    "create_date",
    "due_offset_days",
    "invoice_number",
    "currency_code",
    "po_number",
    "notes",
    "terms",
    "lines",
    "language",
    "fname",
    "lname",
    "organization",
    "address",
    "street",
    "street2",
    "city",
    "province",
    "code",
    "country",
    "vis_state",
    "action_mark_as_sent",
}
LINE_FIELDS = {
    "type",
    "name",
    "description",
    "qty",
    "unit_cost",
    "taxName1",
    "taxAmount1",
    "taxName2",
    "taxAmount2",
    "lineid",
    "amount",
    "invoiceid",
    "updated",
}
PAYMENT_FIELDS = {"invoiceid", "amount", "date", "type", "note", "send_client_notification", "vis_state"}
READONLY = {
    "id",
    "userid",
    "itemid",
    "invoiceid",
    "logid",
    "accountid",
    "accounting_systemid",
    "updated",
    "created_at",
    "signup_date",
    "uuid",
    "amount",
    "outstanding",
    "paid",
    "status",
    "v3_status",
    "payment_status",
    "due_date",
    "clientid",
    "overpaymentid",
}


def _eastern() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("America/New_York")
    except Exception:  # no tz database on this machine
        return timezone(timedelta(hours=-5))


EASTERN = _eastern()
CENT = Decimal("0.01")


def fmt_eastern(ts: float) -> str:
    """FreshBooks' accounting times: US/Eastern, no offset, whole seconds (FB.md section 2)."""
    return datetime.fromtimestamp(int(ts), EASTERN).strftime("%Y-%m-%d %H:%M:%S")


def eastern_date(ts: float) -> date:
    return datetime.fromtimestamp(ts, EASTERN).date()


def money_str(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------------
class FbError(Exception):
    """An accounting error: ``{"response": {"errors": [{errno, field, message, object, value}]}}``."""

    def __init__(
        self,
        errno: int,
        message: str,
        *,
        field_name: str | None = None,
        obj: str | None = None,
        value: Any = None,
        status: int = 400,
    ) -> None:
        super().__init__(f"{errno} {message}")
        self.errno = errno
        self.message = message
        self.field = field_name
        self.obj = obj
        self.value = value
        self.status = status

    def body(self) -> dict[str, Any]:
        return {
            "response": {
                "errors": [
                    {
                        "errno": self.errno,
                        "field": self.field,
                        "message": self.message,
                        "object": self.obj,
                        "value": None if self.value is None else str(self.value),
                    }
                ]
            }
        }


def required(obj: str, name: str) -> FbError:
    return FbError(1001, f"Field {name} is required.", field_name=name, obj=obj)


def invalid(obj: str, name: str, value: Any, why: str) -> FbError:
    return FbError(1004, why, field_name=name, obj=obj, value=value)


def not_found(obj: str, name: str, value: Any) -> FbError:
    # get_client_response__not_found.json: errno 1012, field "userid", "Client not found.", object "client"
    return FbError(1012, f"{obj.title()} not found.", field_name=name, obj=obj, value=value, status=404)


class AuthFailure(Exception):
    """401 on an authenticated route."""


# ---------------------------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Business:
    account_id: str
    business_id: int
    business_uuid: str
    name: str
    created_at: float
    currency: str = "USD"
    unique_invoice_numbers: bool = False
    objects: dict[str, dict[int, dict[str, Any]]] = field(
        default_factory=lambda: {"client": {}, "item": {}, "invoice": {}, "payment": {}}
    )
    ledger: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 10_001
    next_number: int = 1

    def new_id(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value


@dataclass
class Identity:
    id: int
    email: str
    first_name: str
    last_name: str
    memberships: list[tuple[str, str]]  # (role, account_id)


@dataclass
class FbConfig:
    rate_limit_per_minute: int | None = RATE_LIMIT_PER_MINUTE
    concurrency_limit: int | None = CONCURRENCY_LIMIT
    retry_after_on_429: int | None = None  # whether FreshBooks sends Retry-After is UNCONFIRMED: none by default
    max_per_page: int = MAX_PER_PAGE  # the silent per_page cap; tests lower it to page small lists
    unique_invoice_numbers: bool = False
    default_account_id: str = DEFAULT_ACCOUNT_ID
    default_business_name: str = DEFAULT_BUSINESS_NAME
    next_connect: dict[str, Any] = field(default_factory=dict)


def _positive_int_or_none(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer or null")
    return int(value)


def _account_id(value: Any) -> str:
    if not isinstance(value, str) or not value.isalnum() or not 3 <= len(value) <= 12:
        raise ConfigError("account ids are 3-12 letters/digits, e.g. '6BApk'")
    return value


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def _valid_date(text: Any) -> bool:
    if not isinstance(text, str) or len(text) != 10:
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# The provider
# ---------------------------------------------------------------------------------------------------------------
class FreshBooksSandbox(ProviderSandbox):
    name = "freshbooks"

    def __init__(self, core: SandboxCore) -> None:
        super().__init__(core)
        self.reset()

    # -- lifecycle / control plane ------------------------------------------------------------------------------
    def reset(self) -> None:
        self.config = FbConfig()
        self.oauth = OAuthServer(
            clock=self.clock,
            policy=OAuthPolicy(
                access_token_ttl=ACCESS_TOKEN_TTL,
                refresh_token_ttl=None,  # "never expires but can only be used once"
                refresh_token_max_lifetime=None,
                code_ttl=AUTH_CODE_TTL,
                rotation="every",
                refresh_grace=0.0,  # no grace documented
            ),
            token_prefix="fb-",
        )
        self.oauth.register_app(OAuthApp(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        self.businesses: dict[str, Business] = {}
        self.identities: dict[int, Identity] = {}
        self._code_identity: dict[str, int] = {}
        self._grant_identity: dict[str, int] = {}
        self._next_identity = 12_345

    def limits_for(self, tenant: str) -> TenantLimits:
        return TenantLimits(self.config.rate_limit_per_minute, self.config.concurrency_limit)

    def env(self, base_url: str) -> dict[str, str]:
        prefix = f"{base_url}/{self.name}"
        return {
            "FRESHBOOKS_API_URL": prefix,  # the official SDK reads this too (and builds its token URL from it)
            "FRESHBOOKS_AUTH_URL": prefix,  # the SDK's authorize base (it appends /oauth/authorize)
            "FRESHBOOKS_AUTHORIZE_URL": f"{prefix}/oauth/authorize",
            "FRESHBOOKS_TOKEN_URL": f"{prefix}/auth/oauth/token",
            "FRESHBOOKS_REVOKE_URL": f"{prefix}/auth/oauth/revoke",
            "FRESHBOOKS_CLIENT_ID": DEFAULT_CLIENT_ID,
            "FRESHBOOKS_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        }

    def get_config(self) -> dict[str, Any]:
        policy = self.oauth.policy
        return {
            "access_token_ttl_seconds": policy.access_token_ttl,
            "refresh_grace_seconds": policy.refresh_grace,
            "rotation_policy": policy.rotation,
            "auth_code_ttl_seconds": policy.code_ttl,
            "rate_limit_per_minute": self.config.rate_limit_per_minute,
            "concurrency_limit": self.config.concurrency_limit,
            "retry_after_on_429": self.config.retry_after_on_429,
            "max_per_page": self.config.max_per_page,
            "unique_invoice_numbers": self.config.unique_invoice_numbers,
            "default_account_id": self.config.default_account_id,
            "default_business_name": self.config.default_business_name,
            "next_connect": copy.deepcopy(self.config.next_connect),
            "apps": [
                {"client_id": a.client_id, "redirect_uris": sorted(a.redirect_uris) if a.redirect_uris else None}
                for a in self.oauth.apps.values()
            ],
            "accounts": {
                b.account_id: {"business_name": b.name, "unique_invoice_numbers": b.unique_invoice_numbers}
                for b in self.businesses.values()
            },
        }

    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        policy = copy.copy(self.oauth.policy)
        config = copy.deepcopy(self.config)
        apps: list[OAuthApp] = []
        accounts: dict[str, dict[str, Any]] = {}
        for key, value in knobs.items():
            if key == "access_token_ttl_seconds":
                policy.access_token_ttl = _positive_int_or_none(key, value) or ACCESS_TOKEN_TTL
            elif key == "auth_code_ttl_seconds":
                policy.code_ttl = _positive_int_or_none(key, value) or AUTH_CODE_TTL
            elif key == "refresh_grace_seconds":
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ConfigError("refresh_grace_seconds must be a number >= 0")
                policy.refresh_grace = float(value)
            elif key == "rotation_policy":
                if value not in ROTATION_POLICIES:
                    raise ConfigError(f"rotation_policy must be one of {list(ROTATION_POLICIES)}")
                policy.rotation = value
            elif key in ("rate_limit_per_minute", "concurrency_limit", "retry_after_on_429"):
                setattr(config, key, _positive_int_or_none(key, value))
            elif key == "max_per_page":
                config.max_per_page = _positive_int_or_none(key, value) or MAX_PER_PAGE
                if config.max_per_page > MAX_PER_PAGE:
                    raise ConfigError(f"max_per_page cannot exceed FreshBooks' cap of {MAX_PER_PAGE}")
            elif key == "unique_invoice_numbers":
                if not isinstance(value, bool):
                    raise ConfigError("unique_invoice_numbers must be a boolean")
                config.unique_invoice_numbers = value
            elif key == "default_account_id":
                config.default_account_id = _account_id(value)
            elif key == "default_business_name":
                if not isinstance(value, str) or not value.strip():
                    raise ConfigError("default_business_name must be a non-empty string")
                config.default_business_name = value
            elif key == "next_connect":
                allowed = {"account_id", "business_name", "deny", "extra_businesses"}
                if not isinstance(value, dict) or set(value) - allowed:
                    raise ConfigError(f"next_connect is an object with {sorted(allowed)}")
                if "account_id" in value:
                    _account_id(value["account_id"])
                for extra in value.get("extra_businesses", []):
                    if not isinstance(extra, dict) or "account_id" not in extra:
                        raise ConfigError("extra_businesses is a list of {account_id, business_name?, role?}")
                    _account_id(extra["account_id"])
                config.next_connect = copy.deepcopy(value)
            elif key == "apps":
                if not isinstance(value, list):
                    raise ConfigError("apps is a list of {client_id, client_secret, redirect_uris?}")
                for spec in value:
                    if not isinstance(spec, dict) or not spec.get("client_id") or not spec.get("client_secret"):
                        raise ConfigError("each app needs client_id and client_secret")
                    uris = spec.get("redirect_uris")
                    if uris is not None and (not isinstance(uris, list) or not all(isinstance(u, str) for u in uris)):
                        raise ConfigError("redirect_uris must be a list of strings or null")
                    apps.append(
                        OAuthApp(str(spec["client_id"]), str(spec["client_secret"]), frozenset(uris) if uris else None)
                    )
            elif key == "accounts":
                if not isinstance(value, dict):
                    raise ConfigError("accounts maps an account id to {business_name?, unique_invoice_numbers?}")
                for account_id, settings in value.items():
                    _account_id(account_id)
                    if not isinstance(settings, dict) or set(settings) - {"business_name", "unique_invoice_numbers"}:
                        raise ConfigError("account settings: business_name (str), unique_invoice_numbers (bool)")
                    accounts[account_id] = settings
            else:
                raise ConfigError(f"unknown freshbooks knob {key!r}")
        try:
            policy.validate()
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        self.oauth.policy = policy
        self.config = config
        for app in apps:
            self.oauth.register_app(app)
        for account_id, settings in accounts.items():
            business = self.ensure_business(account_id, settings.get("business_name"))
            if "unique_invoice_numbers" in settings:
                business.unique_invoice_numbers = bool(settings["unique_invoice_numbers"])
        return self.get_config()

    def tenants(self) -> list[str]:
        return sorted(self.businesses)

    def tenant_dump(self, tenant: str) -> dict[str, Any] | None:
        business = self.businesses.get(tenant)
        if business is None:
            return None
        entities = {
            kind: [self.render(business, kind, obj, lines=True) for _, obj in sorted(objs.items())]
            for kind, objs in business.objects.items()
        }
        return {
            "account_id": business.account_id,
            "business_id": business.business_id,
            "business_uuid": business.business_uuid,
            "name": business.name,
            "settings": {"unique_invoice_numbers": business.unique_invoice_numbers},
            "counts": {kind: sum(1 for o in objs if o["vis_state"] != 1) for kind, objs in entities.items()},
            "entities": entities,
            "tokens": self.oauth.tenant_summary(tenant),
        }

    def ensure_business(self, account_id: str, name: str | None = None) -> Business:
        business = self.businesses.get(account_id)
        if business is None:
            now = self.clock.timestamp()
            business = Business(
                account_id=account_id,
                business_id=400_000 + len(self.businesses) + 1,
                business_uuid=secrets.token_hex(16),
                name=name or self.config.default_business_name,
                created_at=now,
                unique_invoice_numbers=self.config.unique_invoice_numbers,
            )
            for ledger_name, number, kind, sub_type in SEED_LEDGER:
                business.ledger.append(
                    {
                        "uuid": secrets.token_hex(16),
                        "name": ledger_name,
                        "number": number,
                        "description": "",
                        "type": kind,
                        "sub_type": sub_type,
                        "system_account_name": ledger_name,
                        "parent_account": None,
                        "sub_accounts": [],
                        "auto_created": True,
                        "state": "active",
                        "updated_at": datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z"),
                    }
                )
            self.businesses[account_id] = business
        elif name:
            business.name = name
        return business

    # -- routes ---------------------------------------------------------------------------------------------------
    def routes(self) -> list[ProviderRoute]:
        return [
            ProviderRoute("/oauth/authorize", self.authorize, ("GET",)),
            ProviderRoute("/auth/oauth/token", self.token, ("POST",)),
            ProviderRoute("/auth/oauth/revoke", self.revoke, ("POST",)),
            ProviderRoute("/auth/api/v1/users/me", self.me, ("GET",)),
            ProviderRoute(
                "/accounting/account/{account_id}/{rest:path}",
                self.accounting,
                ("GET", "POST", "PUT", "DELETE"),
                tenant_param="account_id",
            ),
            ProviderRoute(
                "/accounting/businesses/{business_uuid}/ledger_accounts/accounts",
                self.ledger_accounts,
                ("GET",),
                tenant_param="business_uuid",
            ),
        ]

    # -- error envelopes for the framework ------------------------------------------------------------------------
    def _family(self, req: SandboxRequest) -> str:
        path = req.path[len(self.name) + 1 :]
        if path.startswith("/accounting/account/"):
            return "accounting"
        if path.startswith("/accounting/businesses/"):
            return "business"
        if path.startswith(("/auth/oauth/", "/oauth/")):
            return "oauth"
        return "identity"

    def _error_response(
        self, req: SandboxRequest, status: int, message: str, headers: dict[str, str] | None = None
    ) -> Response:
        family = self._family(req)
        payload: dict[str, Any]
        if family == "accounting":
            payload = FbError(status, message, status=status).body()
        elif family == "business":
            payload = {
                "errors": {
                    "message": f"Request failed with status code {status}",
                    "status": status,
                    "details": [{"reason": message, "metadata": {"message": message, "field": None}}],
                }
            }
        elif family == "oauth":
            error = {400: "invalid_request", 401: "invalid_client", 503: "temporarily_unavailable"}.get(
                status, "server_error"
            )
            payload = {"error": error, "error_description": message}
        else:
            payload = {"errno": status, "message": message}
        return JSONResponse(payload, status_code=status, headers=headers or {})

    def fault_response(
        self, req: SandboxRequest, status: int, retry_after: int | None = None, message: str | None = None
    ) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return self._error_response(req, status, message or "injected fault", headers)

    def throttle_response(self, req: SandboxRequest, reason: str) -> Response:
        headers = {}
        if self.config.retry_after_on_429 is not None:
            headers["Retry-After"] = str(self.config.retry_after_on_429)
        what = "concurrent requests" if reason == "concurrency" else "requests per minute"
        return self._error_response(req, 429, f"Too many requests: slow down ({what} per account).", headers)

    # -- OAuth ----------------------------------------------------------------------------------------------------
    def authorize(self, req: SandboxRequest) -> Response:
        q = req.query
        app = self.oauth.apps.get(q.get("client_id", ""))
        if app is None:
            return JSONResponse({"error": "invalid_client", "error_description": "Unknown client_id."}, 400)
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri or "?" in redirect_uri or not app.allows_redirect(redirect_uri):
            # FB.md section 1: redirect URIs are registered and cannot contain query strings
            return JSONResponse(
                {
                    "error": "invalid_redirect_uri",
                    "error_description": "redirect_uri is missing, has a query string or is not registered.",
                },
                400,
            )
        state = q.get("state")

        def back(params: dict[str, str]) -> Response:
            if state is not None:
                params["state"] = state
            return RedirectResponse(redirect_uri + "?" + urlencode(params), status_code=302)

        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        scopes = q.get("scope", "").split() or list(REGISTERED_SCOPES)
        unknown = [s for s in scopes if s not in REGISTERED_SCOPES]
        if unknown:
            return back({"error": "invalid_scope"})
        next_connect = self.config.next_connect
        self.config.next_connect = {}
        if q.get("sandbox_decision") == "deny" or next_connect.get("deny"):
            return back({"error": "access_denied"})
        account_id = q.get("sandbox_account_id") or next_connect.get("account_id") or self.config.default_account_id
        if not account_id.isalnum():
            return JSONResponse({"error": "invalid_request", "error_description": "bad sandbox_account_id"}, 400)
        business = self.ensure_business(account_id, next_connect.get("business_name"))
        memberships = [("owner", business.account_id)]
        for extra in next_connect.get("extra_businesses", []):
            other = self.ensure_business(extra["account_id"], extra.get("business_name"))
            memberships.append((str(extra.get("role", "business_employee")), other.account_id))
        identity = Identity(self._next_identity, "owner@sandbox.example", "Sam", "Owner", memberships)
        self._next_identity += 1
        self.identities[identity.id] = identity
        req.tenant = business.account_id
        code = self.oauth.issue_code(app, redirect_uri, business.account_id, " ".join(scopes))
        self._code_identity[code] = identity.id
        return back({"code": code})

    def _token_params(self, req: SandboxRequest) -> dict[str, str] | None:
        if req.content_type == "application/json":
            try:
                body = req.json()
            except (ValueError, UnicodeDecodeError):
                return None
            return {k: str(v) for k, v in body.items() if v is not None} if isinstance(body, dict) else None
        if req.content_type == "application/x-www-form-urlencoded":
            return req.form()
        return None

    @staticmethod
    def _basic(req: SandboxRequest) -> tuple[str | None, str | None]:
        scheme, _, value = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not value:
            return None, None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret

    def token(self, req: SandboxRequest) -> Response:
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        params = self._token_params(req)
        if params is None:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Send a JSON or form-encoded body."},
                status_code=400,
                headers=no_store,
            )
        grant_type = params.get("grant_type")
        req.token_refresh = grant_type == "refresh_token"
        client_id, secret = params.get("client_id"), params.get("client_secret")
        if client_id is None:
            client_id, secret = self._basic(req)
        try:
            app = self.oauth.authenticate_client(client_id, secret)
            if grant_type == "authorization_code":
                code = params.get("code")
                result = self.oauth.exchange_code(app, code, params.get("redirect_uri"))
                identity = self._code_identity.pop(code or "", None)
                if identity is not None:
                    self._grant_identity[result.grant.id] = identity
            elif grant_type == "refresh_token":
                redirect_uri = params.get("redirect_uri")
                if not redirect_uri or not app.allows_redirect(redirect_uri):
                    raise OAuthError("invalid_request", "redirect_uri is required and must be registered")
                result = self.oauth.refresh(app, params.get("refresh_token"))
            else:
                raise OAuthError("unsupported_grant_type", "The authorization grant type is not supported.")
        except OAuthError as exc:
            req.tenant = exc.tenant
            description = exc.description
            if exc.error == "invalid_grant":
                description = (
                    "The provided authorization grant is invalid, expired, revoked, does not match the redirection "
                    "URI used in the authorization request, or was issued to another client."
                )
            return JSONResponse(
                {"error": exc.error, "error_description": description}, status_code=exc.status, headers=no_store
            )
        req.tenant = result.grant.tenant
        payload = {
            "access_token": result.access_token,
            "token_type": "Bearer",
            "expires_in": result.expires_in,
            "refresh_token": result.refresh_token,
            "scope": result.grant.scope,
            "created_at": int(self.clock.timestamp()),
        }
        return JSONResponse(payload, headers=no_store)

    def revoke(self, req: SandboxRequest) -> Response:
        # FB.md section 1: JSON {"client_id", "client_secret", "token"}. Strict: no form body and no Basic auth, so a
        # revoke our adapter would send wrongly is refused here (it ignores 4xx answers, so nothing else would tell).
        params = self._token_params(req) if req.content_type == "application/json" else None
        if params is None:
            description = 'Send a JSON body {"client_id", "client_secret", "token"}.'
            return JSONResponse({"error": "invalid_request", "error_description": description}, 400)
        client_id, secret = params.get("client_id"), params.get("client_secret")
        try:
            app = self.oauth.authenticate_client(client_id, secret)
            token = params.get("token")
            if not token:
                raise OAuthError("invalid_request", "token is required")
            grant = self.oauth.revoke(app, token)
        except OAuthError as exc:
            return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status)
        req.tenant = grant.tenant if grant else None
        return JSONResponse({})

    def _identity_for(self, req: SandboxRequest) -> tuple[Identity, set[str]] | None:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        grant = self.oauth.validate_access_token(token.strip())
        if grant is None:
            return None
        identity = self.identities.get(self._grant_identity.get(grant.id, -1))
        if identity is None:
            return None
        return identity, set(grant.scope.split())

    def me(self, req: SandboxRequest) -> Response:
        found = self._identity_for(req)
        if found is None:
            # FB-PY tests/fixtures/auth_me_response__no_auth.json
            return JSONResponse(
                {"error": "unauthenticated", "error_description": "This action requires authentication to continue."},
                status_code=401,
            )
        identity, _ = found
        memberships = []
        for n, (role, account_id) in enumerate(identity.memberships):
            business = self.businesses[account_id]
            memberships.append(
                {
                    "id": 140_000 + identity.id + n,
                    "role": role,
                    "unacknowledged_change": False,
                    "business": {
                        "id": business.business_id,
                        "business_uuid": business.business_uuid,
                        "name": business.name,
                        "account_id": business.account_id,
                        "date_format": "mm/dd/yyyy",
                    },
                }
            )
        req.tenant = identity.memberships[0][1]
        return JSONResponse(
            {
                "response": {
                    "id": identity.id,
                    "identity_id": identity.id,
                    "identity_uuid": f"identity-{identity.id}",
                    "first_name": identity.first_name,
                    "last_name": identity.last_name,
                    "email": identity.email,
                    "language": "en",
                    "setup_complete": True,
                    "permissions": {acct: {} for _, acct in identity.memberships},
                    "business_memberships": memberships,
                    "roles": [
                        {"id": 60_000 + n, "role": "admin" if role == "owner" else role, "accountid": acct}
                        for n, (role, acct) in enumerate(identity.memberships)
                    ],
                }
            }
        )

    # -- the accounting API -----------------------------------------------------------------------------------------
    def _authorize(self, req: SandboxRequest, account_id: str, scope: str | None) -> Business:
        found = self._identity_for(req)
        if found is None or account_id not in {a for _, a in found[0].memberships}:
            raise AuthFailure()
        if scope is not None and scope not in found[1]:
            raise FbError(1003, f"Access denied: the token lacks the scope {scope}.", status=403)
        return self.businesses[account_id]

    def accounting(self, req: SandboxRequest) -> Response:
        account_id = req.path_params["account_id"]
        segments = [s for s in req.path_params.get("rest", "").split("/") if s]
        try:
            resource = RESOURCES.get(tuple(segments[:2])) if len(segments) >= 2 else None  # type: ignore[arg-type]
            if resource is None or len(segments) > 3:
                self._authorize(req, account_id, None)
                raise FbError(1012, "Unknown resource.", status=404)
            kind, plural, scope_base = resource
            write = req.method in ("POST", "PUT", "DELETE")
            business = self._authorize(req, account_id, f"{scope_base}:{'write' if write else 'read'}")
            if len(segments) == 2:
                if req.method == "GET":
                    return self._ok(self._list(req, business, kind, plural))
                if req.method == "POST":
                    body = self._body(req, kind)
                    obj = getattr(self, f"_create_{kind}")(business, body)
                    return self._ok({kind: self.render(business, kind, obj, lines=True)})
                raise FbError(1012, "Unknown resource.", status=404)
            obj = self._get(business, kind, segments[2])
            if req.method == "GET":
                return self._ok({kind: self.render(business, kind, obj, lines=self._includes_lines(req))})
            if req.method == "PUT":
                body = self._body(req, kind)
                obj = getattr(self, f"_update_{kind}")(business, obj, body)
                return self._ok({kind: self.render(business, kind, obj, lines=True)})
            if req.method == "DELETE" and kind == "invoice":
                self._delete_invoice(business, obj)
                return self._ok({})
            raise FbError(1012, "Unknown resource.", status=404)
        except AuthFailure:
            # the shape FreshBooks documents for an invalid token (get_callback_response__no_auth.json)
            return JSONResponse(
                {"errno": 401, "message": "invalid_token: The request token failed to authenticate or validate."},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        except FbError as err:
            return JSONResponse(err.body(), status_code=err.status)

    def ledger_accounts(self, req: SandboxRequest) -> Response:
        business_uuid = req.path_params["business_uuid"]
        business = next((b for b in self.businesses.values() if b.business_uuid == business_uuid), None)
        found = self._identity_for(req)
        if found is None:
            return JSONResponse(
                {"errno": 401, "message": "invalid_token: The request token failed to authenticate or validate."},
                status_code=401,
            )
        if business is None or business.account_id not in {a for _, a in found[0].memberships}:
            # get_ledger_account_response__not_found.json
            return JSONResponse(
                {
                    "errors": {
                        "message": "Request failed with status code 404",
                        "status": 404,
                        "details": [{"reason": "Not found.", "metadata": {"message": "Not found.", "field": None}}],
                    }
                },
                status_code=404,
            )
        return JSONResponse({"data": copy.deepcopy(business.ledger)})

    @staticmethod
    def _ok(result: dict[str, Any]) -> Response:
        return JSONResponse({"response": {"result": result}})

    @staticmethod
    def _includes_lines(req: SandboxRequest) -> bool:
        return "lines" in req.query.getlist("include[]")

    @staticmethod
    def _body(req: SandboxRequest, kind: str) -> dict[str, Any]:
        if req.content_type != "application/json":
            raise FbError(1005, "Request body must be JSON (Content-Type: application/json).", obj=kind)
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise FbError(1005, f"Could not parse the request body: {exc}", obj=kind) from exc
        if not isinstance(body, dict) or not isinstance(body.get(kind), dict) or len(body) != 1:
            raise FbError(1005, f'The body must wrap the object in its name: {{"{kind}": {{...}}}}.', obj=kind)
        return dict(body[kind])

    def _get(self, business: Business, kind: str, raw_id: str) -> dict[str, Any]:
        id_field = "userid" if kind == "client" else "id"
        if not raw_id.isdigit() or int(raw_id) not in business.objects[kind]:
            raise not_found(kind, id_field, raw_id)
        return business.objects[kind][int(raw_id)]

    def _now(self) -> float:
        return self.clock.timestamp()

    # -- lists, search, paging ------------------------------------------------------------------------------------
    def _list(self, req: SandboxRequest, business: Business, kind: str, plural: str) -> dict[str, Any]:
        search: dict[str, list[str]] = {}
        for key, value in req.query.multi_items():
            if key.startswith("search[") and "]" in key:
                name = key[len("search[") : key.index("]")]
                search.setdefault(name, []).append(value)
        rows = [obj for _, obj in sorted(business.objects[kind].items())]
        vis = search.pop("vis_state", None)
        if vis is not None:
            wanted = {int(v) for v in vis if v.lstrip("-").isdigit()}
            rows = [r for r in rows if r["vis_state"] in wanted]
        else:
            rows = [r for r in rows if r["vis_state"] != 1]  # deleted objects only on request
        for name, values in search.items():
            rows = [r for r in rows if self._matches(kind, r, name, values)]
        try:
            page = max(1, int(req.query.get("page", "1")))
        except ValueError:
            raise FbError(1014, "Invalid page.", field_name="page") from None
        try:
            per_page = min(self.config.max_per_page, max(1, int(req.query.get("per_page", str(DEFAULT_PER_PAGE)))))
        except ValueError:
            raise FbError(1013, "Invalid per_page.", field_name="per_page") from None
        total = len(rows)
        pages = max(1, -(-total // per_page))
        chunk = rows[(page - 1) * per_page : page * per_page]
        lines = self._includes_lines(req)
        return {
            plural: [self.render(business, kind, r, lines=lines) for r in chunk],
            "page": page,
            "pages": pages,
            "per_page": per_page,
            "total": total,
        }

    def _matches(self, kind: str, row: dict[str, Any], name: str, values: list[str]) -> bool:
        """Equals ``search[f]``, In ``search[fs][]``, Like ``search[f_like]``, Between ``search[f_min|_max]``.

        Filters the sandbox does not know are ignored (as a lenient API would): clients must check what they get.
        """
        value = values[-1]
        if name in ("updated_min", "updated_max"):
            # day granularity on the US/Eastern date (FB.md section 3)
            try:
                bound = date.fromisoformat(value[:10])
            except ValueError:
                raise FbError(1004, f"Invalid date {value!r}.", field_name=name) from None
            day = eastern_date(row["_updated"])
            return day >= bound if name.endswith("_min") else day <= bound
        if name.endswith("_like"):
            base = name[: -len("_like")]
            return value.casefold() in str(row.get(base) or "").casefold()
        in_list = {
            "client": {"userids": "id", "clientids": "id"},
            "item": {"itemids": "id"},
            "invoice": {"invoiceids": "id", "customerids": "customerid", "clientids": "customerid"},
            "payment": {"invoiceids": "invoiceid", "clientids": "clientid"},
        }[kind]
        if name in in_list:
            return str(row.get(in_list[name])) in values
        equals = {
            "client": {"email", "organization", "fname", "lname", "userid"},
            "item": {"name", "sku"},
            "invoice": {"invoice_number", "customerid", "status", "currency_code"},
            "payment": {"invoiceid", "clientid", "type"},
        }[kind]
        if name in equals:
            key = "id" if name == "userid" else name
            return str(row.get(key)) == value
        return True

    # -- clients ----------------------------------------------------------------------------------------------------
    @staticmethod
    def _check_keys(kind: str, body: dict[str, Any], allowed: set[str]) -> None:
        for key in body:
            if key not in allowed and key not in READONLY:
                raise invalid(kind, key, None, f"Unknown field {key}.")

    @staticmethod
    def _strings(kind: str, body: dict[str, Any], names: set[str]) -> None:
        for key in names & set(body):
            value = body[key]
            if value is not None and not isinstance(value, str):
                raise invalid(kind, key, value, f"Field {key} must be a string.")

    def _client_values(self, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        self._check_keys("client", body, CLIENT_FIELDS)
        self._strings("client", body, CLIENT_FIELDS - {"vis_state", "pref_email", "pref_gmail"} - {"allow_late_fees"})
        values = {k: v for k, v in body.items() if k in CLIENT_FIELDS}
        merged = {**(current or {}), **values}
        email = merged.get("email")
        if email and ("@" not in email or " " in email.strip()):
            raise invalid("client", "email", email, "Invalid email address.")
        if merged.get("currency_code") and merged["currency_code"] not in CURRENCIES:
            raise invalid("client", "currency_code", merged["currency_code"], "Invalid currency code.")
        if merged.get("vis_state", 0) not in (0, 1, 2):
            raise invalid("client", "vis_state", merged.get("vis_state"), "vis_state must be 0, 1 or 2.")
        if not any(merged.get(k) for k in ("organization", "fname", "lname", "email")):
            raise required("client", "organization")
        return values

    def _create_client(self, business: Business, body: dict[str, Any]) -> dict[str, Any]:
        values = self._client_values(body, None)
        now = self._now()
        client_id = business.new_id()
        obj = {
            "id": client_id,
            "organization": "",
            "fname": "",
            "lname": "",
            "email": "",
            "currency_code": business.currency,
            "language": "en",
            "note": None,
            "vis_state": 0,
            "_created": now,
            "_updated": now,
            **values,
        }
        business.objects["client"][client_id] = obj
        return obj

    def _update_client(self, business: Business, obj: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        values = self._client_values(body, obj)
        obj.update(values)
        obj["_updated"] = self._now()
        return obj

    # -- items ------------------------------------------------------------------------------------------------------
    def _money(self, kind: str, name: str, value: Any, currency: str | None) -> tuple[Decimal, str]:
        """``{"amount": "12.50", "code": "USD"}``: the amount is a decimal string with at most 2 places."""
        if not isinstance(value, dict) or set(value) - {"amount", "code"}:
            raise invalid(kind, name, value, f'{name} must be {{"amount": "12.50", "code": "USD"}}.')
        raw = value.get("amount")
        amount = _decimal(raw) if isinstance(raw, str) else None
        if amount is None:
            raise invalid(kind, name, raw, f'{name}.amount must be a decimal string such as "12.50".')
        if amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise invalid(kind, name, raw, f"{name}.amount has more than 2 decimal places.")
        code = value.get("code") or currency or "USD"
        if code not in CURRENCIES or (currency is not None and code != currency):
            raise invalid(kind, f"{name}.code", code, f"{name}.code must be the document currency ({currency}).")
        return amount, code

    def _item_values(self, business: Business, body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        self._check_keys("item", body, ITEM_FIELDS)
        self._strings("item", body, {"name", "description", "sku"})
        values: dict[str, Any] = {k: v for k, v in body.items() if k in ITEM_FIELDS}
        if "unit_cost" in values:
            amount, code = self._money("item", "unit_cost", values["unit_cost"], None)
            values["unit_cost"] = {"amount": amount, "code": code}
        for key in ("qty", "inventory"):
            if key in values and values[key] is not None and _decimal(values[key]) is None:
                raise invalid("item", key, values[key], f"{key} must be a number.")
        for key in ("tax1", "tax2"):
            if values.get(key) not in (None, 0, "0", ""):
                raise FbError(1012, "Tax not found.", field_name=key, obj="tax", value=values[key])
        merged = {**(current or {}), **values}
        if not (merged.get("name") or "").strip():
            raise required("item", "name")
        if merged.get("vis_state", 0) not in (0, 1, 2):
            raise invalid("item", "vis_state", merged.get("vis_state"), "vis_state must be 0, 1 or 2.")
        return values

    def _create_item(self, business: Business, body: dict[str, Any]) -> dict[str, Any]:
        values = self._item_values(business, body, None)
        now = self._now()
        item_id = business.new_id()
        obj = {
            "id": item_id,
            "name": "",
            "description": "",
            "qty": "1",
            "inventory": None,
            "sku": None,
            "tax1": 0,
            "tax2": 0,
            "unit_cost": {"amount": Decimal("0"), "code": business.currency},
            "vis_state": 0,
            "_created": now,
            "_updated": now,
            **values,
        }
        business.objects["item"][item_id] = obj
        return obj

    def _update_item(self, business: Business, obj: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        obj.update(self._item_values(business, body, obj))
        obj["_updated"] = self._now()
        return obj

    # -- invoices ---------------------------------------------------------------------------------------------------
    def _lines(self, business: Business, lines: Any, currency: str) -> list[dict[str, Any]]:
        if not isinstance(lines, list):
            raise invalid("invoice", "lines", None, "lines must be a list.")
        out = []
        for n, line in enumerate(lines):
            if not isinstance(line, dict):
                raise invalid("line", "lines", n, "Each line must be an object.")
            for key in line:
                if key not in LINE_FIELDS:
                    raise invalid("line", key, None, f"Unknown field {key}.")
            line_type = line.get("type", 0)
            if line_type not in (0, 1):
                raise invalid("line", "type", line_type, "Line type must be 0 (normal) or 1 (billable expense).")
            if line_type == 1:
                raise invalid("line", "type", line_type, "Billable expense lines need an expense (not modelled).")
            if not (line.get("name") or line.get("description")):
                raise required("line", "name")
            qty = _decimal(line.get("qty", 1))
            if qty is None or qty < 0:
                raise invalid("line", "qty", line.get("qty"), "qty must be a number >= 0.")
            if "unit_cost" not in line:
                raise required("line", "unit_cost")
            unit, code = self._money("line", "unit_cost", line["unit_cost"], currency)
            for key in ("taxName1", "taxName2"):
                if line.get(key):
                    raise FbError(1012, "Tax not found.", field_name=key, obj="tax", value=line[key])
            out.append(
                {
                    "lineid": n + 1,
                    "type": 0,
                    "name": str(line.get("name") or ""),
                    "description": str(line.get("description") or ""),
                    "qty": qty,
                    "unit_cost": {"amount": unit, "code": code},
                    "amount": {"amount": (qty * unit).quantize(CENT, rounding=ROUND_HALF_UP), "code": code},
                }
            )
        return out

    def _invoice_values(
        self, business: Business, body: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        self._check_keys("invoice", body, INVOICE_FIELDS)
        self._strings("invoice", body, {"invoice_number", "po_number", "notes", "terms", "create_date"})
        values: dict[str, Any] = {k: v for k, v in body.items() if k in INVOICE_FIELDS}
        merged = {**(current or {}), **values}
        customer_id = merged.get("customerid")
        if customer_id in (None, ""):
            raise required("invoice", "customerid")
        if isinstance(customer_id, bool) or not str(customer_id).isdigit():
            raise invalid("invoice", "customerid", customer_id, "customerid must be a client id.")
        client = business.objects["client"].get(int(customer_id))
        if client is None:
            raise FbError(1012, "Client not found.", field_name="customerid", obj="client", value=customer_id)
        if client["vis_state"] == 1:
            raise FbError(1011, "The client has been deleted.", field_name="customerid", obj="client")
        values["customerid"] = int(customer_id)
        if current is None and "create_date" not in values:
            raise required("invoice", "create_date")
        if "create_date" in values and not _valid_date(values["create_date"]):
            raise invalid("invoice", "create_date", values["create_date"], "create_date must be YYYY-MM-DD.")
        if "due_offset_days" in values:
            offset = values["due_offset_days"]
            if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
                raise invalid("invoice", "due_offset_days", offset, "due_offset_days must be an integer >= 0.")
        currency = merged.get("currency_code") or client.get("currency_code") or business.currency
        if currency not in CURRENCIES:
            raise invalid("invoice", "currency_code", currency, "Invalid currency code.")
        values["currency_code"] = currency
        if "lines" in values:
            values["lines"] = self._lines(business, values["lines"], currency)
        number = values.get("invoice_number")
        if number is not None:
            number = number.strip()
            if not number:
                raise invalid("invoice", "invoice_number", number, "invoice_number cannot be blank.")
            if len(number) > INVOICE_NUMBER_MAX:
                raise FbError(1017, f"invoice_number is longer than {INVOICE_NUMBER_MAX}.", field_name="invoice_number")
            if business.unique_invoice_numbers:
                for other in business.objects["invoice"].values():
                    mine = current is not None and other["id"] == current["id"]
                    if not mine and other["vis_state"] != 1 and other["invoice_number"] == number:
                        raise invalid("invoice", "invoice_number", number, "Invoice number already exists.")
            values["invoice_number"] = number
        if merged.get("vis_state", 0) not in (0, 1, 2):
            raise invalid("invoice", "vis_state", merged.get("vis_state"), "vis_state must be 0, 1 or 2.")
        return values

    def _create_invoice(self, business: Business, body: dict[str, Any]) -> dict[str, Any]:
        values = self._invoice_values(business, body, None)
        now = self._now()
        invoice_id = business.new_id()
        if not values.get("invoice_number"):
            values["invoice_number"] = f"{business.next_number:07d}"
        business.next_number += 1
        sent = bool(values.pop("action_mark_as_sent", False))
        obj = {
            "id": invoice_id,
            "customerid": values["customerid"],
            "create_date": values["create_date"],
            "due_offset_days": 0,
            "invoice_number": "",
            "currency_code": business.currency,
            "po_number": None,
            "notes": "",
            "terms": "",
            "lines": [],
            "vis_state": 0,
            "sent": sent,
            "paid": Decimal("0"),
            "_created": now,
            "_updated": now,
            **values,
        }
        business.objects["invoice"][invoice_id] = obj
        return obj

    def _update_invoice(self, business: Business, obj: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        values = self._invoice_values(business, body, obj)
        if values.pop("action_mark_as_sent", False):
            obj["sent"] = True
        if "lines" in values:  # the line set is replaced (FB.md section 3: assumed; strict reading)
            total = sum((line["amount"]["amount"] for line in values["lines"]), Decimal("0"))
            if total < obj["paid"]:
                raise invalid("invoice", "lines", None, "The invoice total cannot drop below the amount paid.")
        obj.update(values)
        obj["_updated"] = self._now()
        return obj

    def _delete_invoice(self, business: Business, obj: dict[str, Any]) -> None:
        if any(p["invoiceid"] == obj["id"] and p["vis_state"] != 1 for p in business.objects["payment"].values()):
            raise invalid("invoice", "invoiceid", obj["id"], "Delete the invoice's payments first.")
        obj["vis_state"] = 1
        obj["_updated"] = self._now()

    # -- payments ---------------------------------------------------------------------------------------------------
    def _payment_values(
        self, business: Business, body: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        self._check_keys("payment", body, PAYMENT_FIELDS | {"amount"})
        self._strings("payment", body, {"note", "date", "type"})
        values: dict[str, Any] = {k: v for k, v in body.items() if k in PAYMENT_FIELDS}
        merged = {**(current or {}), **values}
        invoice_id = merged.get("invoiceid")
        if invoice_id in (None, ""):
            raise required("payment", "invoiceid")
        invoice = business.objects["invoice"].get(int(invoice_id)) if str(invoice_id).isdigit() else None
        if invoice is None:
            raise FbError(1012, "Invoice not found.", field_name="invoiceid", obj="invoice", value=invoice_id)
        if invoice["vis_state"] == 1:
            raise FbError(1011, "The invoice has been deleted.", field_name="invoiceid", obj="invoice")
        values["invoiceid"] = invoice["id"]
        if current is None and "amount" not in values:
            raise required("payment", "amount")
        if "amount" in values:
            amount, _ = self._money("payment", "amount", values["amount"], invoice["currency_code"])
            if amount <= 0:
                raise invalid("payment", "amount", amount, "amount must be greater than 0.")
            values["amount"] = amount
        if current is None and "date" not in values:
            raise required("payment", "date")
        if "date" in values and not _valid_date(values["date"]):
            raise invalid("payment", "date", values["date"], "date must be YYYY-MM-DD.")
        if "type" in values and values["type"] not in PAYMENT_TYPES:
            raise invalid("payment", "type", values["type"], f"type must be one of {list(PAYMENT_TYPES)}.")
        return values

    def _create_payment(self, business: Business, body: dict[str, Any]) -> dict[str, Any]:
        values = self._payment_values(business, body, None)
        invoice = business.objects["invoice"][values["invoiceid"]]
        now = self._now()
        payment_id = business.new_id()
        outstanding = self._total(invoice) - invoice["paid"]
        overpayment = None
        if values["amount"] > outstanding:  # the excess becomes a client credit (FB.md section 3)
            overpayment = business.new_id()
        obj = {
            "id": payment_id,
            "invoiceid": invoice["id"],
            "clientid": invoice["customerid"],
            "type": "Check",
            "note": "",
            "overpaymentid": overpayment,
            "vis_state": 0,
            "_created": now,
            "_updated": now,
            **values,
        }
        business.objects["payment"][payment_id] = obj
        invoice["paid"] += values["amount"]
        invoice["_updated"] = now
        return obj

    def _update_payment(self, business: Business, obj: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        values = self._payment_values(business, body, obj)
        if values.get("invoiceid", obj["invoiceid"]) != obj["invoiceid"]:
            raise invalid("payment", "invoiceid", values["invoiceid"], "A payment cannot move to another invoice.")
        invoice = business.objects["invoice"][obj["invoiceid"]]
        was_active = obj["vis_state"] != 1
        old_amount = obj["amount"] if was_active else Decimal("0")
        obj.update(values)
        new_amount = obj["amount"] if obj["vis_state"] != 1 else Decimal("0")
        invoice["paid"] += new_amount - old_amount
        obj["_updated"] = invoice["_updated"] = self._now()
        return obj

    # -- rendering --------------------------------------------------------------------------------------------------
    @staticmethod
    def _total(invoice: dict[str, Any]) -> Decimal:
        return sum((line["amount"]["amount"] for line in invoice["lines"]), Decimal("0"))

    def render(self, business: Business, kind: str, obj: dict[str, Any], *, lines: bool = False) -> dict[str, Any]:
        out = {k: v for k, v in obj.items() if not k.startswith("_")}
        out["updated"] = fmt_eastern(obj["_updated"])
        out["accounting_systemid"] = business.account_id
        if kind == "client":
            out["userid"] = obj["id"]
            out["signup_date"] = fmt_eastern(obj["_created"])
        elif kind == "item":
            out["itemid"] = obj["id"]
            out["unit_cost"] = {"amount": money_str(obj["unit_cost"]["amount"]), "code": obj["unit_cost"]["code"]}
            out["qty"] = str(obj["qty"])
        elif kind == "invoice":
            total = self._total(obj)
            paid = obj["paid"]
            code = obj["currency_code"]
            out["invoiceid"] = obj["id"]
            out["accountid"] = business.account_id
            out["amount"] = {"amount": money_str(total), "code": code}
            out["paid"] = {"amount": money_str(paid), "code": code}
            out["outstanding"] = {"amount": money_str(max(Decimal("0"), total - paid)), "code": code}
            out["due_date"] = (
                date.fromisoformat(obj["create_date"]) + timedelta(days=int(obj.get("due_offset_days") or 0))
            ).isoformat()
            if paid <= 0:
                out["payment_status"] = "unpaid"
                out["v3_status"] = "sent" if obj["sent"] else "draft"
                out["status"] = 2 if obj["sent"] else 1
            elif paid < total:
                out["payment_status"], out["v3_status"], out["status"] = "partial", "partial", 8
            else:
                out["payment_status"], out["v3_status"], out["status"] = "paid", "paid", 4
            out.pop("sent", None)
            out["created_at"] = fmt_eastern(obj["_created"])
            if lines:
                out["lines"] = [
                    {
                        **line,
                        "invoiceid": obj["id"],
                        "qty": str(line["qty"]),
                        "unit_cost": {"amount": money_str(line["unit_cost"]["amount"]), "code": code},
                        "amount": {"amount": money_str(line["amount"]["amount"]), "code": code},
                    }
                    for line in obj["lines"]
                ]
            else:
                out.pop("lines", None)
        elif kind == "payment":
            out["logid"] = obj["id"]
            invoice = business.objects["invoice"][obj["invoiceid"]]
            out["amount"] = {"amount": money_str(obj["amount"]), "code": invoice["currency_code"]}
        return json.loads(json.dumps(out, default=str))
