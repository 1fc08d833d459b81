"""A strict local stand-in for Wave (OAuth 2.0 + the public GraphQL API), mounted at ``/wave``.

Real paths below the prefix: ``/oauth2/authorize/``, ``/oauth2/token/``, ``/oauth2/token/revoke/`` (revoke: path
UNCONFIRMED) and ``/graphql/public``. The GraphQL server is graphql-core over the schema in ``wave_schema.py``, which
contains Wave's own input types and enums unchanged. Sources, rules and deliberate deviations:
``docs/providers/wave.md`` (section "Sandbox").
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLScalarType,
    GraphQLSchema,
    OperationDefinitionNode,
    StringValueNode,
    build_schema,
    execute,
    get_operation_ast,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from starlette.responses import JSONResponse, RedirectResponse, Response

from local.sandbox.framework import (
    ConfigError,
    DropConnection,
    ProviderRoute,
    ProviderSandbox,
    SandboxCore,
    SandboxRequest,
)
from local.sandbox.limits import SlidingWindow
from local.sandbox.oauth import ROTATION_POLICIES, OAuthApp, OAuthError, OAuthPolicy, OAuthServer
from local.sandbox.wave_schema import sdl

DEFAULT_CLIENT_ID = "local-wave-client"
DEFAULT_CLIENT_SECRET = "local-wave-secret"
DEFAULT_BUSINESS_NAME = "BlueClerk Sandbox Wave Business"
ACCESS_TOKEN_TTL = 7200  # UNCONFIRMED ("~2 hours" vs "~1 week"): the shorter reading
AUTH_CODE_TTL = 600  # UNCONFIRMED
RATE_LIMIT_PER_MINUTE = 60  # "~60 requests/minute per access token" (secondary, not authoritative)
MAX_PAGE_SIZE = 200  # secondary
SCOPE_RESOURCES = {
    "account": ("read", "write"),
    "business": ("read", "write"),
    "customer": ("read", "write"),
    "invoice": ("read", "write", "send"),
    "product": ("read", "write"),
    "sales_tax": ("read", "write"),
    "transaction": ("write",),
    "user": ("read",),
    "vendor": ("read", "write"),
}
INCOME_SUBTYPES = ("INCOME", "DISCOUNTS", "OTHER_INCOME")
EXPENSE_SUBTYPES = ("EXPENSE", "COST_OF_GOODS_SOLD", "PAYMENT_PROCESSING_FEES", "PAYROLL_EXPENSES")
SUBTYPE_TYPE = {
    "CASH_AND_BANK": "ASSET",
    "RECEIVABLE": "ASSET",
    "INCOME": "INCOME",
    "OTHER_INCOME": "INCOME",
    "DISCOUNTS": "INCOME",
    "EXPENSE": "EXPENSE",
    "COST_OF_GOODS_SOLD": "EXPENSE",
    "PAYABLE": "LIABILITY",
}
SEED_ACCOUNTS = (
    ("Cash on Hand", "CASH_AND_BANK", False),
    ("Accounts Receivable", "RECEIVABLE", False),
    ("Sales", "INCOME", False),
    ("Consulting Income", "INCOME", False),
    ("Old Sales (archived)", "INCOME", True),
    ("Other Income", "OTHER_INCOME", False),
    ("Discounts", "DISCOUNTS", False),
    ("Cost of Goods Sold", "COST_OF_GOODS_SOLD", False),
)
CENT = Decimal("0.01")
OPERATION_FAULT_MODES = ("status", "commit_then_500", "commit_then_drop")
OPERATION_LOG_SIZE = 20_000


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _money(amount: Decimal, currency: dict[str, str]) -> dict[str, Any]:
    cents = int((amount * 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    return {
        "raw": cents,
        "minorUnitValue": cents,
        "value": str(amount.quantize(CENT, rounding=ROUND_HALF_UP)),
        "currency": currency,
    }


class InputErrors(Exception):
    """A mutation's validation failures: answered as ``didSucceed: false`` with ``inputErrors``."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def input_error(code: str, message: str, *path: str | int) -> InputErrors:
    return InputErrors([{"code": code, "message": message, "path": ["input", *[str(p) for p in path]]}])


def gql_error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


# ---------------------------------------------------------------------------------------------------------------
# Scalars (Decimal as string, Date YYYY-MM-DD, DateTime ISO 8601)
# ---------------------------------------------------------------------------------------------------------------
def _parse_decimal(value: Any) -> Decimal:
    # W.md section 2: "Decimal (send as string, e.g. "12.50")". A JSON number is refused (BAD_USER_INPUT): money sent
    # as a float would otherwise pass here unnoticed (whether Wave itself coerces numbers is UNCONFIRMED; strict).
    if not isinstance(value, str):
        raise TypeError(f'Decimal must be a string such as "12.50", got {type(value).__name__} {value!r}')
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"Not a decimal: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"Not a finite decimal: {value!r}")
    return result


def _parse_date(value: Any) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"Date must be YYYY-MM-DD, got {value!r}")
    return date.fromisoformat(value)


def _parse_datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"DateTime must be an ISO 8601 string, got {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _literal(parse_value: Callable[[Any], Any]) -> Callable[..., Any]:
    def parse_literal(node: Any, _variables: Any = None) -> Any:
        # Decimal, Date and DateTime literals must be strings: an Int/Float literal's ``value`` is text in
        # graphql-core too, so check the node kind rather than the value.
        if not isinstance(node, StringValueNode):
            raise TypeError(f"expected a string literal, got {type(node).__name__}")
        return parse_value(node.value)

    return parse_literal


def _serialize_decimal(value: Any) -> str:
    return value if isinstance(value, str) else format(Decimal(value), "f")


def executable_schema() -> GraphQLSchema:
    schema = build_schema(sdl())
    scalars: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
        "Decimal": (_parse_decimal, _serialize_decimal),
        "Date": (_parse_date, lambda v: v.isoformat() if isinstance(v, date) else str(v)),
        "DateTime": (_parse_datetime, lambda v: v if isinstance(v, str) else _iso(v.timestamp())),
    }
    for name, (parse_value, serialize) in scalars.items():
        scalar = schema.type_map[name]
        assert isinstance(scalar, GraphQLScalarType)
        # graphql-core 3.2 names (parse_value/parse_literal/serialize) and 3.3 names (coerce_*): set both
        literal = _literal(parse_value)
        for attr, fn in (
            ("parse_value", parse_value),
            ("parse_literal", literal),
            ("serialize", serialize),
            ("coerce_input_value", parse_value),
            ("coerce_input_literal", literal),
            ("coerce_output_value", serialize),
        ):
            setattr(scalar, attr, fn)
    return schema


# ---------------------------------------------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class WaveBusiness:
    id: str
    uuid: str
    name: str
    is_personal: bool
    created_at: float
    currency: str = "USD"
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    counter: int = 0
    requests: SlidingWindow = field(default_factory=SlidingWindow)
    throttled: int = 0

    def new_id(self, kind: str) -> str:
        self.counter += 1
        if kind == "Customer":
            return f"{self.id};{_b64(f'Customer:{self.counter}')}"
        return _b64(f"{kind}:{self.uuid}:{self.counter}")


@dataclass
class WaveUser:
    id: str
    first_name: str
    last_name: str
    email: str
    businesses: list[str]


@dataclass
class WaveConfig:
    rate_limit_per_minute: int | None = RATE_LIMIT_PER_MINUTE
    retry_after_on_429: int | None = None
    auth_error_http_status: int = 200  # UNAUTHENTICATED arrives with HTTP 200 (strict) or 401
    unique_invoice_numbers: bool = True  # the schema: "Unique number assigned to the invoice"
    default_business_name: str = DEFAULT_BUSINESS_NAME
    with_personal_business: bool = True
    next_connect: dict[str, Any] = field(default_factory=dict)
    operation_faults: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Context:
    user: WaveUser
    businesses: list[str]
    scopes: set[str]


def _has_scope(scopes: set[str], needed: str) -> bool:
    resource = needed.split(":", 1)[0]
    return needed in scopes or f"{resource}:*" in scopes


# ---------------------------------------------------------------------------------------------------------------
# The provider
# ---------------------------------------------------------------------------------------------------------------
class WaveSandbox(ProviderSandbox):
    name = "wave"

    def __init__(self, core: SandboxCore) -> None:
        super().__init__(core)
        self.schema = executable_schema()
        self.reset()

    # -- lifecycle / control plane ------------------------------------------------------------------------------
    def reset(self) -> None:
        self.config = WaveConfig()
        self.oauth = OAuthServer(
            clock=self.clock,
            policy=OAuthPolicy(
                access_token_ttl=ACCESS_TOKEN_TTL,
                refresh_token_ttl=None,
                code_ttl=AUTH_CODE_TTL,
                rotation="every",  # UNCONFIRMED: the strict reading (a new refresh token every time, no grace)
                refresh_grace=0.0,
            ),
            token_prefix="wave-",
        )
        self.oauth.register_app(OAuthApp(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        self.businesses: dict[str, WaveBusiness] = {}
        self.users: dict[str, WaveUser] = {}
        self._code_access: dict[str, tuple[str, list[str]]] = {}
        self._grant_access: dict[str, tuple[str, list[str]]] = {}
        self.stats = {"validation_failures": 0, "bad_user_input": 0, "unauthenticated": 0}
        # what each GraphQL request asked (the request log has one path for all of Wave): tests read it in-process
        self.operations: deque[dict[str, Any]] = deque(maxlen=OPERATION_LOG_SIZE)

    def env(self, base_url: str) -> dict[str, str]:
        prefix = f"{base_url}/{self.name}"
        return {
            "WAVE_API_URL": prefix,  # the client posts to {WAVE_API_URL}/graphql/public
            "WAVE_AUTHORIZE_URL": f"{prefix}/oauth2/authorize/",
            "WAVE_TOKEN_URL": f"{prefix}/oauth2/token/",
            "WAVE_REVOKE_URL": f"{prefix}/oauth2/token/revoke/",
            "WAVE_CLIENT_ID": DEFAULT_CLIENT_ID,
            "WAVE_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        }

    def get_config(self) -> dict[str, Any]:
        policy = self.oauth.policy
        return {
            "access_token_ttl_seconds": policy.access_token_ttl,
            "refresh_token_ttl_seconds": policy.refresh_token_ttl,
            "refresh_grace_seconds": policy.refresh_grace,
            "rotation_policy": policy.rotation,
            "rate_limit_per_minute": self.config.rate_limit_per_minute,
            "retry_after_on_429": self.config.retry_after_on_429,
            "auth_error_http_status": self.config.auth_error_http_status,
            "unique_invoice_numbers": self.config.unique_invoice_numbers,
            "default_business_name": self.config.default_business_name,
            "with_personal_business": self.config.with_personal_business,
            "next_connect": copy.deepcopy(self.config.next_connect),
            "operation_faults": copy.deepcopy(self.config.operation_faults),
        }

    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        policy = copy.copy(self.oauth.policy)
        config = copy.deepcopy(self.config)
        for key, value in knobs.items():
            if key in ("access_token_ttl_seconds", "refresh_token_ttl_seconds"):
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                    raise ConfigError(f"{key} must be a positive integer or null")
                if key == "access_token_ttl_seconds":
                    policy.access_token_ttl = value or ACCESS_TOKEN_TTL
                else:
                    policy.refresh_token_ttl = value
            elif key == "refresh_grace_seconds":
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ConfigError("refresh_grace_seconds must be a number >= 0")
                policy.refresh_grace = float(value)
            elif key == "rotation_policy":
                if value not in ROTATION_POLICIES:
                    raise ConfigError(f"rotation_policy must be one of {list(ROTATION_POLICIES)}")
                policy.rotation = value
            elif key in ("rate_limit_per_minute", "retry_after_on_429"):
                if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                    raise ConfigError(f"{key} must be a positive integer or null")
                setattr(config, key, value)
            elif key == "auth_error_http_status":
                if value not in (200, 401):
                    raise ConfigError("auth_error_http_status is 200 or 401")
                config.auth_error_http_status = value
            elif key in ("unique_invoice_numbers", "with_personal_business"):
                if not isinstance(value, bool):
                    raise ConfigError(f"{key} must be a boolean")
                setattr(config, key, value)
            elif key == "default_business_name":
                if not isinstance(value, str) or not value.strip():
                    raise ConfigError("default_business_name must be a non-empty string")
                config.default_business_name = value
            elif key == "next_connect":
                if not isinstance(value, dict) or set(value) - {"business_name", "deny", "extra_businesses"}:
                    raise ConfigError("next_connect is an object with business_name, deny, extra_businesses")
                config.next_connect = copy.deepcopy(value)
            elif key == "operation_faults":
                if not isinstance(value, list):
                    raise ConfigError("operation_faults is a list of {field, mode, status?, count?}")
                for spec in value:
                    if not isinstance(spec, dict) or not isinstance(spec.get("field"), str):
                        raise ConfigError("each operation fault needs 'field' (a root field, e.g. invoiceCreate)")
                    if spec.get("mode", "status") not in OPERATION_FAULT_MODES:
                        raise ConfigError(f"mode must be one of {list(OPERATION_FAULT_MODES)}")
                    count = spec.get("count", 1)
                    if count is not None and (not isinstance(count, int) or count < 1):
                        raise ConfigError("count must be a positive integer or null")
                    config.operation_faults.append(
                        {"field": spec["field"], "mode": spec.get("mode", "status"), "status": spec.get("status", 500)}
                        | {"remaining": count}
                    )
            else:
                raise ConfigError(f"unknown wave knob {key!r}")
        try:
            policy.validate()
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        self.oauth.policy = policy
        self.config = config
        return self.get_config()

    def tenants(self) -> list[str]:
        return sorted(self.businesses)

    def tenant_dump(self, tenant: str) -> dict[str, Any] | None:
        biz = self.businesses.get(tenant)
        if biz is None:
            return None
        entities = {
            "customers": [self._strip(c) for c in biz.customers.values()],
            "products": [self._strip(p) | {"incomeAccountId": p["_income"]} for p in biz.products.values()],
            "invoices": [self._invoice_dump(biz, i) for i in biz.invoices.values()],
            "payments": [self._strip(p) | {"invoiceId": p["_invoice"]} for p in biz.payments.values()],
            "accounts": [self._strip(a) for a in biz.accounts.values()],
        }
        return json.loads(
            json.dumps(
                {
                    "business_id": biz.id,
                    "name": biz.name,
                    "is_personal": biz.is_personal,
                    "counts": {k: len(v) for k, v in entities.items()},
                    "entities": entities,
                    "tokens": self.oauth.tenant_summary(biz.id),
                    "throttled": biz.throttled,
                    "stats": dict(self.stats),
                },
                default=str,
            )
        )

    @staticmethod
    def _strip(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_") and not callable(v)}

    def _invoice_dump(self, biz: WaveBusiness, inv: dict[str, Any]) -> dict[str, Any]:
        total, paid = self._total(inv), self._paid(biz, inv)
        return self._strip(inv) | {
            "customerId": inv["_customer"],
            "status": self._status(biz, inv),
            "items": [
                {
                    "productId": i["product"],
                    "description": i["description"],
                    "quantity": str(i["quantity"]),
                    "unitPrice": str(i["unitPrice"]),
                    "accountId": i["account"],
                }
                for i in inv["_items"]
            ],
            "total": str(total.quantize(CENT)),
            "amountPaid": str(paid.quantize(CENT)),
            "amountDue": str(max(Decimal(0), total - paid).quantize(CENT)),
        }

    def ensure_user(self, business_name: str | None = None, extra: list[dict[str, Any]] | None = None) -> WaveUser:
        """The sandbox's user (created on the first consent and reused, so a reconnect reaches the same businesses),
        with a business and a personal one (Wave creates one for every user). ``next_connect`` with a business name
        or extra businesses makes a new user."""
        if business_name is None and not extra and self.users:
            return next(iter(self.users.values()))
        now = self.clock.timestamp()
        user = WaveUser(f"user-{len(self.users) + 1}", "Sam", "Owner", "owner@sandbox.example", [])
        specs = [{"name": business_name or self.config.default_business_name, "personal": False}]
        if self.config.with_personal_business:
            specs.append({"name": "Personal", "personal": True})
        specs += [{"name": e.get("business_name", "Other Business"), "personal": False} for e in extra or []]
        for spec in specs:
            uuid = secrets.token_hex(16)
            biz = WaveBusiness(_b64(f"Business:{uuid}"), uuid, spec["name"], spec["personal"], now)
            for seq, (name, subtype, archived) in enumerate(SEED_ACCOUNTS, start=1):
                account_id = biz.new_id("Account")
                biz.accounts[account_id] = {
                    "id": account_id,
                    "name": name,
                    "description": None,
                    "displayId": None,
                    "isArchived": archived,
                    "sequence": seq,
                    "_subtype": subtype,
                    "_created": now,
                }
            self.businesses[biz.id] = biz
            user.businesses.append(biz.id)
        self.users[user.id] = user
        return user

    # -- routes ---------------------------------------------------------------------------------------------------
    def routes(self) -> list[ProviderRoute]:
        return [
            ProviderRoute("/oauth2/authorize/", self.authorize, ("GET",)),
            ProviderRoute("/oauth2/token/", self.token, ("POST",)),
            ProviderRoute("/oauth2/token/revoke/", self.revoke, ("POST",)),
            ProviderRoute("/graphql/public", self.graphql, ("POST",)),
        ]

    def _is_graphql(self, req: SandboxRequest) -> bool:
        return req.path.endswith("/graphql/public")

    def fault_response(
        self, req: SandboxRequest, status: int, retry_after: int | None = None, message: str | None = None
    ) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if self._is_graphql(req):
            code = "RATE_LIMITED" if status == 429 else "INTERNAL_SERVER_ERROR"
            body = {"errors": [{"message": message or "injected fault", "extensions": {"code": code}}]}
            return JSONResponse(body, status_code=status, headers=headers)
        error = {400: "invalid_request", 401: "invalid_client", 503: "temporarily_unavailable"}.get(
            status, "server_error"
        )
        return JSONResponse({"error": error, "error_description": message or "injected fault"}, status, headers)

    def throttle_response(self, req: SandboxRequest, reason: str) -> Response:  # pragma: no cover - no tenant routes
        return self.fault_response(req, 429, self.config.retry_after_on_429, "Too many requests")

    # -- OAuth ----------------------------------------------------------------------------------------------------
    def authorize(self, req: SandboxRequest) -> Response:
        q = req.query
        app = self.oauth.apps.get(q.get("client_id", ""))
        if app is None:
            return JSONResponse({"error": "invalid_client", "error_description": "Unknown client_id."}, 400)
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri or not app.allows_redirect(redirect_uri):
            return JSONResponse({"error": "invalid_request", "error_description": "Mismatching redirect URI."}, 400)
        state = q.get("state")

        def back(params: dict[str, str]) -> Response:
            if state is not None:
                params["state"] = state
            separator = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302)

        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        scopes = q.get("scope", "").split()
        if not scopes or any(not self._known_scope(s) for s in scopes):
            return back({"error": "invalid_scope"})
        next_connect = self.config.next_connect
        self.config.next_connect = {}
        if q.get("sandbox_decision") == "deny" or next_connect.get("deny"):
            return back({"error": "access_denied"})
        user = self.ensure_user(next_connect.get("business_name"), next_connect.get("extra_businesses"))
        allowed = list(user.businesses)
        if q.get("businessId"):  # a token restricted to one business
            if q["businessId"] not in allowed:
                return back({"error": "invalid_request"})
            allowed = [q["businessId"]]
        primary = next((b for b in allowed if not self.businesses[b].is_personal), allowed[0])
        req.tenant = primary
        code = self.oauth.issue_code(app, redirect_uri, primary, " ".join(scopes))
        self._code_access[code] = (user.id, allowed)
        return back({"code": code})

    @staticmethod
    def _known_scope(scope: str) -> bool:
        resource, _, operation = scope.partition(":")
        return resource in SCOPE_RESOURCES and (operation == "*" or operation in SCOPE_RESOURCES[resource])

    def _client(self, req: SandboxRequest, form: dict[str, str]) -> OAuthApp:
        client_id, secret = form.get("client_id"), form.get("client_secret")
        scheme, _, value = req.headers.get("authorization", "").partition(" ")
        if client_id is None and scheme.lower() == "basic" and value:
            try:
                client_id, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                client_id = None
        return self.oauth.authenticate_client(client_id, secret)

    def token(self, req: SandboxRequest) -> Response:
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if req.content_type != "application/x-www-form-urlencoded":
            body = {"error": "invalid_request", "error_description": "Content-Type must be form-encoded."}
            return JSONResponse(body, status_code=400, headers=no_store)
        form = req.form()
        grant_type = form.get("grant_type")
        req.token_refresh = grant_type == "refresh_token"
        try:
            app = self._client(req, form)
            if grant_type == "authorization_code":
                code = form.get("code")
                result = self.oauth.exchange_code(app, code, form.get("redirect_uri"))
                access = self._code_access.pop(code or "", None)
                if access is not None:
                    self._grant_access[result.grant.id] = access
            elif grant_type == "refresh_token":
                result = self.oauth.refresh(app, form.get("refresh_token"))
            else:
                raise OAuthError("unsupported_grant_type", "Unsupported grant type.")
        except OAuthError as exc:
            req.tenant = exc.tenant
            body = {"error": exc.error, "error_description": exc.description}
            return JSONResponse(body, status_code=exc.status, headers=no_store)
        req.tenant = result.grant.tenant
        payload = {
            "access_token": result.access_token,
            "expires_in": result.expires_in,
            "token_type": "Bearer",
            "scope": result.grant.scope,
            "refresh_token": result.refresh_token,
        }
        return JSONResponse(payload, headers=no_store)

    def revoke(self, req: SandboxRequest) -> Response:
        form = req.form() if req.content_type == "application/x-www-form-urlencoded" else {}
        try:
            app = self._client(req, form)
            grant = self.oauth.revoke(app, form.get("token"))
        except OAuthError as exc:
            return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status)
        req.tenant = grant.tenant if grant else None
        return Response(status_code=200)

    # -- GraphQL --------------------------------------------------------------------------------------------------
    @staticmethod
    def _errors(status: int, *errors: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
        return JSONResponse({"errors": list(errors)}, status_code=status, headers=headers or {})

    def graphql(self, req: SandboxRequest) -> Response:
        if req.content_type != "application/json":
            return self._errors(415, {"message": "POST JSON", "extensions": {"code": "BAD_REQUEST"}})
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            body = None
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return self._errors(
                400, {"message": "Body must have a 'query' string", "extensions": {"code": "BAD_REQUEST"}}
            )
        variables = body.get("variables") or {}
        operation_name = body.get("operationName")
        # 1. the document and the variables are checked before authentication (wave.md section 2)
        try:
            document = parse(body["query"])
        except GraphQLError as exc:
            self.stats["validation_failures"] += 1
            return self._errors(400, exc.formatted | {"extensions": {"code": "GRAPHQL_PARSE_FAILED"}})
        problems = validate(self.schema, document)
        if problems:
            self.stats["validation_failures"] += 1
            return self._errors(
                400, *[p.formatted | {"extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}} for p in problems]
            )
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return self._errors(400, {"message": "Unknown operation", "extensions": {"code": "BAD_USER_INPUT"}})
        self.operations.append(
            {
                "seq": self.core.log.last_seq,  # this request's seq in the request log (requests are serialised)
                "operation": operation.name.value if operation.name else None,
                "variables": copy.deepcopy(variables) if isinstance(variables, dict) else {},
            }
        )
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables)
        if isinstance(coerced, list):
            self.stats["bad_user_input"] += 1
            return self._errors(400, *[e.formatted | {"extensions": {"code": "BAD_USER_INPUT"}} for e in coerced])
        # 2. authentication
        ctx = self._context(req)
        if ctx is None:
            self.stats["unauthenticated"] += 1
            error = {
                "message": "You must be logged in to perform this action.",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
            return JSONResponse({"data": None, "errors": [error]}, status_code=self.config.auth_error_http_status)
        # 3. the per-token request budget (counted per business the token was granted for)
        biz = self.businesses.get(req.tenant or "")
        if biz is not None and not biz.requests.try_add(self.clock.timestamp(), self.config.rate_limit_per_minute):
            biz.throttled += 1
            headers = {}
            if self.config.retry_after_on_429 is not None:
                headers["Retry-After"] = str(self.config.retry_after_on_429)
            return self._errors(
                429, {"message": "Too many requests", "extensions": {"code": "RATE_LIMITED"}}, headers=headers
            )
        # 4. operation-level faults (all of Wave is one URL, so path-based faults cannot single out a mutation)
        fault = self._take_fault(operation)
        if fault is not None and fault["mode"] == "status":
            return self.fault_response(req, int(fault["status"]), None, f"injected fault on {fault['field']}")
        result = execute(
            self.schema,
            document,
            root_value=Root(self, ctx),
            context_value=ctx,
            variable_values=variables,
            operation_name=operation_name,
        )
        if fault is not None and fault["mode"] == "commit_then_500":
            return self.fault_response(req, int(fault["status"]), None, f"injected fault after {fault['field']}")
        if fault is not None and fault["mode"] == "commit_then_drop":
            raise DropConnection()
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [
                e.formatted | {"extensions": {"code": (e.extensions or {}).get("code", "INTERNAL_SERVER_ERROR")}}
                for e in result.errors
            ]
        return JSONResponse(payload)

    def _context(self, req: SandboxRequest) -> Context | None:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        grant = self.oauth.validate_access_token(token.strip())
        if grant is None or grant.id not in self._grant_access:
            return None
        user_id, allowed = self._grant_access[grant.id]
        req.tenant = grant.tenant
        return Context(self.users[user_id], allowed, set(grant.scope.split()))

    def _take_fault(self, operation: OperationDefinitionNode) -> dict[str, Any] | None:
        fields = {s.name.value for s in operation.selection_set.selections if isinstance(s, FieldNode)}
        for fault in self.config.operation_faults:
            if fault["field"] in fields:
                if fault["remaining"] is not None:
                    fault["remaining"] -= 1
                    if fault["remaining"] <= 0:
                        self.config.operation_faults.remove(fault)
                return fault
        return None

    # -- views (what the resolvers return) ------------------------------------------------------------------------
    def now(self) -> float:
        return self.clock.timestamp()

    def today(self) -> date:
        return datetime.fromtimestamp(self.now(), UTC).date()

    @staticmethod
    def currency(code: str) -> dict[str, str]:
        return {"code": code, "symbol": "$" if code in ("USD", "CAD", "AUD") else code, "name": code}

    def business_view(self, biz: WaveBusiness, ctx: Context) -> dict[str, Any]:
        return {
            "id": biz.id,
            "name": biz.name,
            "isPersonal": biz.is_personal,
            "isArchived": False,
            "currency": self.currency(biz.currency),
            "createdAt": _iso(biz.created_at),
            "modifiedAt": _iso(biz.created_at),
            "customers": lambda info, **a: self.q_customers(biz, ctx, **a),
            "customer": lambda info, id: self._one(biz, ctx, "customer", biz.customers, id, self.customer_view),
            "products": lambda info, **a: self.q_products(biz, ctx, **a),
            "product": lambda info, id: self._one(biz, ctx, "product", biz.products, id, self.product_view),
            "invoices": lambda info, **a: self.q_invoices(biz, ctx, **a),
            "invoice": lambda info, id: self._one(biz, ctx, "invoice", biz.invoices, id, self.invoice_view),
            "invoicePayment": lambda info, id: self._one(biz, ctx, "invoice", biz.payments, id, self.payment_view),
            "accounts": lambda info, **a: self.q_accounts(biz, ctx, **a),
            "account": lambda info, id: self._one(biz, ctx, "account", biz.accounts, id, self.account_view),
        }

    def _one(
        self,
        biz: WaveBusiness,
        ctx: Context,
        scope: str,
        table: dict[str, dict[str, Any]],
        record_id: str,
        view: Callable[[WaveBusiness, Context, dict[str, Any]], dict[str, Any]],
    ) -> dict[str, Any] | None:
        self.need(ctx, f"{scope}:read")
        record = table.get(record_id)
        return None if record is None else view(biz, ctx, record)

    @staticmethod
    def need(ctx: Context, scope: str) -> None:
        if not _has_scope(ctx.scopes, scope):
            raise gql_error(f"The access token lacks the scope {scope}.", "FORBIDDEN")

    @staticmethod
    def page(rows: list[Any], page: int, page_size: int, view: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        if page < 1:
            raise gql_error("page must be >= 1", "BAD_USER_INPUT")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise gql_error(f"pageSize must be between 1 and {MAX_PAGE_SIZE}", "BAD_USER_INPUT")
        total = len(rows)
        chunk = rows[(page - 1) * page_size : page * page_size]
        return {
            "pageInfo": {"currentPage": page, "totalPages": max(1, -(-total // page_size)), "totalCount": total},
            "edges": [{"node": view(r)} for r in chunk],
        }

    @staticmethod
    def _sorted(rows: list[dict[str, Any]], sort: list[str], key_of: dict[str, Callable[[Any], Any]]) -> list[Any]:
        for spec in reversed(sort or []):
            base, _, direction = spec.rpartition("_")
            if base in key_of:
                rows = sorted(rows, key=key_of[base], reverse=direction == "DESC")
        return rows

    @staticmethod
    def _modified(rows: list[dict[str, Any]], after: Any, before: Any) -> list[dict[str, Any]]:
        if after is not None:
            rows = [r for r in rows if r["_modified"] > after.timestamp()]
        if before is not None:
            rows = [r for r in rows if r["_modified"] < before.timestamp()]
        return rows

    def q_customers(self, biz: WaveBusiness, ctx: Context, **a: Any) -> dict[str, Any]:
        self.need(ctx, "customer:read")
        rows = list(biz.customers.values())
        if a.get("email") is not None:
            rows = [r for r in rows if (r.get("email") or "").casefold() == a["email"].casefold()]
        rows = self._modified(rows, a.get("modifiedAtAfter"), a.get("modifiedAtBefore"))
        keys = {
            "NAME": lambda r: r["name"].casefold(),
            "CREATED_AT": lambda r: r["_created"],
            "MODIFIED_AT": lambda r: r["_modified"],
        }
        rows = self._sorted(rows, a.get("sort", ["NAME_ASC"]), keys)
        return self.page(rows, a.get("page", 1), a.get("pageSize", 10), lambda r: self.customer_view(biz, ctx, r))

    def q_products(self, biz: WaveBusiness, ctx: Context, **a: Any) -> dict[str, Any]:
        self.need(ctx, "product:read")
        rows = list(biz.products.values())
        for flag, key in (("isArchived", "isArchived"), ("isSold", "_income"), ("isBought", "_expense")):
            if a.get(flag) is not None:
                rows = [r for r in rows if bool(r[key]) == a[flag]]
        rows = self._modified(rows, a.get("modifiedAtAfter"), a.get("modifiedAtBefore"))
        keys = {
            "NAME": lambda r: r["name"].casefold(),
            "CREATED_AT": lambda r: r["_created"],
            "MODIFIED_AT": lambda r: r["_modified"],
        }
        rows = self._sorted(rows, a.get("sort", ["NAME_ASC"]), keys)
        return self.page(rows, a.get("page", 1), a.get("pageSize", 10), lambda r: self.product_view(biz, ctx, r))

    def q_invoices(self, biz: WaveBusiness, ctx: Context, **a: Any) -> dict[str, Any]:
        self.need(ctx, "invoice:read")
        rows = list(biz.invoices.values())
        if a.get("invoiceNumber") is not None:
            rows = [r for r in rows if r["invoiceNumber"] == a["invoiceNumber"]]
        if a.get("customerId") is not None:
            rows = [r for r in rows if r["_customer"] == a["customerId"]]
        if a.get("status") is not None:
            rows = [r for r in rows if self._status(biz, r) == a["status"]]
        if a.get("invoiceDateStart") is not None:
            rows = [r for r in rows if r["invoiceDate"] >= a["invoiceDateStart"].isoformat()]
        if a.get("invoiceDateEnd") is not None:
            rows = [r for r in rows if r["invoiceDate"] <= a["invoiceDateEnd"].isoformat()]
        rows = self._modified(rows, a.get("modifiedAtAfter"), a.get("modifiedAtBefore"))
        keys = {
            "CREATED_AT": lambda r: r["_created"],
            "MODIFIED_AT": lambda r: r["_modified"],
            "INVOICE_DATE": lambda r: r["invoiceDate"],
            "INVOICE_NUMBER": lambda r: r["invoiceNumber"],
            "AMOUNT_DUE": lambda r: self._total(r) - self._paid(biz, r),
        }
        rows = self._sorted(rows, a.get("sort", ["CREATED_AT_DESC"]), keys)
        return self.page(rows, a.get("page", 1), a.get("pageSize", 10), lambda r: self.invoice_view(biz, ctx, r))

    def q_accounts(self, biz: WaveBusiness, ctx: Context, **a: Any) -> dict[str, Any]:
        self.need(ctx, "account:read")
        rows = list(biz.accounts.values())
        if a.get("types"):
            rows = [r for r in rows if SUBTYPE_TYPE.get(r["_subtype"], "ASSET") in a["types"]]
        if a.get("subtypes"):
            rows = [r for r in rows if r["_subtype"] in a["subtypes"]]
        if a.get("excludedSubtypes"):
            rows = [r for r in rows if r["_subtype"] not in a["excludedSubtypes"]]
        if a.get("isArchived") is not None:
            rows = [r for r in rows if r["isArchived"] == a["isArchived"]]
        rows = sorted(rows, key=lambda r: r["sequence"])
        return self.page(rows, a.get("page", 1), a.get("pageSize", 10), lambda r: self.account_view(biz, ctx, r))

    def customer_view(self, biz: WaveBusiness, ctx: Context, c: dict[str, Any]) -> dict[str, Any]:
        address = c.get("_address")

        def outstanding(info: Any) -> dict[str, Any]:  # computed only when asked for (it reads every invoice)
            due = sum(
                (self._total(i) - self._paid(biz, i) for i in biz.invoices.values() if i["_customer"] == c["id"]),
                Decimal(0),
            )
            return _money(max(Decimal(0), due), self.currency(biz.currency))

        return self._strip(c) | {
            "business": lambda info: self.business_view(biz, ctx),
            "currency": self.currency(c.get("_currency") or biz.currency),
            "address": None
            if not address
            else {
                "addressLine1": address.get("addressLine1"),
                "addressLine2": address.get("addressLine2"),
                "city": address.get("city"),
                "postalCode": address.get("postalCode"),
                "province": {"code": address["provinceCode"], "name": address["provinceCode"]}
                if address.get("provinceCode")
                else None,
                "country": {"code": address["countryCode"], "name": address["countryCode"]}
                if address.get("countryCode")
                else None,
            },
            "createdAt": _iso(c["_created"]),
            "modifiedAt": _iso(c["_modified"]),
            "outstandingAmount": outstanding,
        }

    def account_view(self, biz: WaveBusiness, ctx: Context, a: dict[str, Any]) -> dict[str, Any]:
        type_value = SUBTYPE_TYPE.get(a["_subtype"], "ASSET")
        balance = "DEBIT" if type_value in ("ASSET", "EXPENSE") else "CREDIT"
        account_type = {"name": type_value.title(), "value": type_value, "normalBalanceType": balance}
        subtype = {"name": a["_subtype"].replace("_", " ").title(), "value": a["_subtype"], "type": account_type}
        return self._strip(a) | {
            "business": lambda info: self.business_view(biz, ctx),
            "currency": self.currency(biz.currency),
            "type": account_type,
            "subtype": subtype,
            "normalBalanceType": balance,
        }

    def product_view(self, biz: WaveBusiness, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        income, expense = biz.accounts.get(p["_income"] or ""), biz.accounts.get(p["_expense"] or "")
        return self._strip(p) | {
            "business": lambda info: self.business_view(biz, ctx),
            "incomeAccount": self.account_view(biz, ctx, income) if income else None,
            "expenseAccount": self.account_view(biz, ctx, expense) if expense else None,
            "isSold": income is not None,
            "isBought": expense is not None,
            "createdAt": _iso(p["_created"]),
            "modifiedAt": _iso(p["_modified"]),
        }

    def payment_view(self, biz: WaveBusiness, ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
        return self._strip(p) | {
            "account": self.account_view(biz, ctx, biz.accounts[p["_account"]]),
            "createdAt": _iso(p["_created"]),
            "modifiedAt": _iso(p["_modified"]),
        }

    def invoice_view(self, biz: WaveBusiness, ctx: Context, inv: dict[str, Any]) -> dict[str, Any]:
        currency = self.currency(inv["_currency"])
        total, paid = self._total(inv), self._paid(biz, inv)
        items = [
            {
                "product": self.product_view(biz, ctx, biz.products[i["product"]]),
                "description": i["description"],
                "quantity": i["quantity"],
                "unitPrice": i["unitPrice"],
                "subtotal": _money(i["amount"], currency),
                "total": _money(i["amount"], currency),
                "account": self.account_view(biz, ctx, biz.accounts[i["account"]]),
            }
            for i in inv["_items"]
        ]
        return self._strip(inv) | {
            "business": lambda info: self.business_view(biz, ctx),
            "status": self._status(biz, inv),
            "currency": currency,
            "exchangeRate": Decimal(1),
            "customer": self.customer_view(biz, ctx, biz.customers[inv["_customer"]]),
            "items": items,
            "subtotal": _money(total, currency),
            "taxTotal": _money(Decimal(0), currency),
            "total": _money(total, currency),
            "amountDue": _money(max(Decimal(0), total - paid), currency),
            "amountPaid": _money(paid, currency),
            "payments": [self.payment_view(biz, ctx, p) for p in self._payments_of(biz, inv)],
            "createdAt": _iso(inv["_created"]),
            "modifiedAt": _iso(inv["_modified"]),
        }

    @staticmethod
    def _total(inv: dict[str, Any]) -> Decimal:
        return sum((i["amount"] for i in inv["_items"]), Decimal(0))

    def _paid(self, biz: WaveBusiness, inv: dict[str, Any]) -> Decimal:
        return sum((p["amount"] for p in self._payments_of(biz, inv)), Decimal(0))

    @staticmethod
    def _payments_of(biz: WaveBusiness, inv: dict[str, Any]) -> list[dict[str, Any]]:
        return [p for p in biz.payments.values() if p["_invoice"] == inv["id"]]

    def _status(self, biz: WaveBusiness, inv: dict[str, Any]) -> str:
        if inv["_status"] == "DRAFT":
            return "DRAFT"
        total, paid = self._total(inv), self._paid(biz, inv)
        if paid > 0:
            return "OVERPAID" if paid > total else "PAID" if paid == total else "PARTIAL"
        if inv["dueDate"] < self.today().isoformat():
            return "OVERDUE"
        return str(inv["_status"])


# ---------------------------------------------------------------------------------------------------------------
# Root resolvers (Query + Mutation)
# ---------------------------------------------------------------------------------------------------------------
class Root:
    """The root value: graphql-core's default resolver calls these methods with the field's arguments."""

    def __init__(self, sandbox: WaveSandbox, ctx: Context) -> None:
        self.sb = sandbox
        self.ctx = ctx

    # -- queries ----------------------------------------------------------------------------------------------------
    def user(self, info: Any) -> dict[str, Any]:
        self.sb.need(self.ctx, "user:read")
        u = self.ctx.user
        return {"id": u.id, "firstName": u.first_name, "lastName": u.last_name, "defaultEmail": u.email}

    def businesses(self, info: Any, page: int = 1, pageSize: int = 10, isArchived: bool | None = None) -> Any:
        self.sb.need(self.ctx, "business:read")
        rows = [self.sb.businesses[b] for b in self.ctx.businesses]
        return self.sb.page(rows, page, pageSize, lambda b: self.sb.business_view(b, self.ctx))

    def business(self, info: Any, id: str | None = None) -> Any:
        return self.sb.business_view(self._biz(id), self.ctx)

    def _biz(self, business_id: str | None) -> WaveBusiness:
        if business_id not in self.ctx.businesses:
            raise gql_error("Business not found (or not accessible with this token).", "NOT_FOUND")
        return self.sb.businesses[business_id]  # type: ignore[index]

    def _mutation(self, scope: str, key: str, fn: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        self.sb.need(self.ctx, scope)
        try:
            record = fn()
        except InputErrors as exc:
            return {"didSucceed": False, "inputErrors": exc.errors, key: None}
        return {"didSucceed": True, "inputErrors": [], key: record}

    def _input_biz(self, business_id: str) -> WaveBusiness:
        if business_id not in self.ctx.businesses:
            raise input_error("NOT_FOUND", "Business not found.", "businessId")
        return self.sb.businesses[business_id]

    def _owner(self, record_id: str, table: str, label: str, *path: str) -> tuple[WaveBusiness, dict[str, Any]]:
        for business_id in self.ctx.businesses:
            biz = self.sb.businesses[business_id]
            record = getattr(biz, table).get(record_id)
            if record is not None:
                return biz, record
        raise input_error("NOT_FOUND", f"{label} not found.", *path)

    # -- customers --------------------------------------------------------------------------------------------------
    def customerCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        def create() -> dict[str, Any]:
            biz = self._input_biz(input["businessId"])
            now = self.sb.now()
            record = {
                "id": biz.new_id("Customer"),
                "isArchived": False,
                "_created": now,
                **self._customer_fields(biz, input, None),
            }
            record["_modified"] = now
            biz.customers[record["id"]] = record
            return self.sb.customer_view(biz, self.ctx, record)

        return self._mutation("customer:write", "customer", create)

    def customerPatch(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        def patch() -> dict[str, Any]:
            biz, record = self._owner(input["id"], "customers", "Customer", "id")
            record.update(self._customer_fields(biz, input, record))
            record["_modified"] = self.sb.now()
            return self.sb.customer_view(biz, self.ctx, record)

        return self._mutation("customer:write", "customer", patch)

    @staticmethod
    def _customer_fields(biz: WaveBusiness, data: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        plain = ("name", "firstName", "lastName", "displayId", "email", "mobile", "phone", "internalNotes")
        for key in plain:
            if key in data:
                out[key] = data[key]
        name = out.get("name", (current or {}).get("name"))
        if not (name or "").strip():
            raise input_error("REQUIRED", "Name is required.", "name")
        email = out.get("email")
        if email and ("@" not in email or " " in email.strip()):
            raise input_error("INVALID", "Enter a valid email address.", "email")
        if "address" in data and data["address"] is not None:
            province = data["address"].get("provinceCode")
            if province and (len(province) < 4 or province[2] != "-" or not province[:2].isalpha()):
                raise input_error("INVALID", "provinceCode must be ISO 3166-2, e.g. US-CA.", "address", "provinceCode")
            out["_address"] = dict(data["address"])
        if data.get("currency"):
            out["_currency"] = data["currency"]
        return out

    # -- products ---------------------------------------------------------------------------------------------------
    def productCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        def create() -> dict[str, Any]:
            biz = self._input_biz(input["businessId"])
            now = self.sb.now()
            record = {
                "id": biz.new_id("Product"),
                "description": None,
                "isArchived": False,
                "_income": None,
                "_expense": None,
                "_created": now,
                "_modified": now,
            }
            record.update(self._product_fields(biz, input, None))
            biz.products[record["id"]] = record
            return self.sb.product_view(biz, self.ctx, record)

        return self._mutation("product:write", "product", create)

    def productPatch(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        def patch() -> dict[str, Any]:
            biz, record = self._owner(input["id"], "products", "Product", "id")
            record.update(self._product_fields(biz, input, record))
            record["_modified"] = self.sb.now()
            return self.sb.product_view(biz, self.ctx, record)

        return self._mutation("product:write", "product", patch)

    @staticmethod
    def _product_fields(biz: WaveBusiness, data: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "name" in data:
            if not (data["name"] or "").strip():
                raise input_error("REQUIRED", "Name is required.", "name")
            out["name"] = data["name"]
        if "description" in data:
            out["description"] = data["description"]
        if data.get("unitPrice") is not None:
            price = Decimal(data["unitPrice"]).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)
            if price < 0:
                raise input_error("INVALID", "unitPrice must be >= 0.", "unitPrice")
            out["unitPrice"] = price
        if data.get("defaultSalesTaxIds"):
            raise input_error("NOT_FOUND", "Sales tax not found.", "defaultSalesTaxIds", 0)
        for key, internal, allowed in (
            ("incomeAccountId", "_income", INCOME_SUBTYPES),
            ("expenseAccountId", "_expense", EXPENSE_SUBTYPES),
        ):
            if data.get(key) is None:
                continue
            account = biz.accounts.get(data[key])
            if account is None or account["isArchived"]:
                raise input_error("NOT_FOUND", "Account not found.", key)
            if account["_subtype"] not in allowed:
                raise input_error("INVALID", f"Account must be one of subtypes: {', '.join(allowed)}.", key)
            out[internal] = data[key]
        merged = {**(current or {}), **out}
        if not merged.get("_income") and not merged.get("_expense"):
            # the schema marks both optional; Wave refuses a product with neither (secondary)
            raise input_error("REQUIRED", "A product must be sold (incomeAccountId) or bought.", "incomeAccountId")
        return out

    # -- invoices ---------------------------------------------------------------------------------------------------
    def invoiceCreate(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        def create() -> dict[str, Any]:
            biz = self._input_biz(input["businessId"])
            now = self.sb.now()
            record: dict[str, Any] = {
                "id": biz.new_id("Invoice"),
                "title": input.get("title") or "Invoice",
                "subhead": input.get("subhead"),
                "poNumber": input.get("poNumber"),
                "footer": input.get("footer"),
                "_status": input.get("status") or "DRAFT",
                "_created": now,
                "_modified": now,
                "_items": [],
            }
            record.update(self._invoice_fields(biz, input, None))
            biz.invoices[record["id"]] = record
            return self.sb.invoice_view(biz, self.ctx, record)

        return self._mutation("invoice:write", "invoice", create)

    def invoicePatch(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        def patch() -> dict[str, Any]:
            biz, record = self._owner(input["id"], "invoices", "Invoice", "id")
            if input.get("items") is not None and self.sb._paid(biz, record) > 0:
                raise input_error("NOT_ALLOWED", "An invoice with payments cannot have its items changed.", "items")
            record.update(self._invoice_fields(biz, input, record))
            record["_modified"] = self.sb.now()
            return self.sb.invoice_view(biz, self.ctx, record)

        return self._mutation("invoice:write", "invoice", patch)

    def invoiceApprove(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        def approve() -> dict[str, Any]:
            biz, record = self._owner(input["invoiceId"], "invoices", "Invoice", "invoiceId")
            if record["_status"] != "DRAFT":
                raise input_error("NOT_ALLOWED", "Only a draft invoice can be approved.", "invoiceId")
            record["_status"] = "SAVED"
            record["_modified"] = self.sb.now()
            return self.sb.invoice_view(biz, self.ctx, record)

        return self._mutation("invoice:write", "invoice", approve)

    def invoiceDelete(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        self.sb.need(self.ctx, "invoice:write")
        try:
            biz, record = self._owner(input["invoiceId"], "invoices", "Invoice", "invoiceId")
            if self.sb._paid(biz, record) > 0:
                raise input_error("NOT_ALLOWED", "Delete the invoice's payments first.", "invoiceId")
        except InputErrors as exc:
            return {"didSucceed": False, "inputErrors": exc.errors}
        del biz.invoices[record["id"]]
        return {"didSucceed": True, "inputErrors": []}

    def _invoice_fields(
        self, biz: WaveBusiness, data: dict[str, Any], current: dict[str, Any] | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if data.get("customerId") is not None or current is None:
            customer = biz.customers.get(data.get("customerId") or "")
            if customer is None or customer["isArchived"]:
                raise input_error("NOT_FOUND", "Customer not found.", "customerId")
            out["_customer"] = customer["id"]
        currency = data.get("currency") or (current or {}).get("_currency") or biz.currency
        if currency != biz.currency and data.get("exchangeRate") is None:
            raise input_error("REQUIRED", "exchangeRate is required for a foreign-currency invoice.", "exchangeRate")
        out["_currency"] = currency
        if data.get("discounts"):
            raise input_error("NOT_ALLOWED", "Discounts are not modelled by the sandbox.", "discounts")
        number = data.get("invoiceNumber")
        if number is not None or current is None:
            number = (number or "").strip() or self._next_number(biz)
            if self.sb.config.unique_invoice_numbers:
                for other in biz.invoices.values():
                    same = current is not None and other["id"] == current["id"]
                    if not same and other["invoiceNumber"].casefold() == number.casefold():
                        raise input_error("DUPLICATE", f"Invoice number {number} is already in use.", "invoiceNumber")
            out["invoiceNumber"] = number
        invoice_date = data.get("invoiceDate") or (None if current else self.sb.today())
        if invoice_date is not None:
            out["invoiceDate"] = invoice_date.isoformat()
        due = data.get("dueDate") or (None if current else invoice_date)
        if due is not None:
            out["dueDate"] = due.isoformat()
        if out.get("dueDate", (current or {}).get("dueDate", "")) < out.get(
            "invoiceDate", (current or {}).get("invoiceDate", "")
        ):
            raise input_error("INVALID", "dueDate cannot be before invoiceDate.", "dueDate")
        if "memo" in data:
            out["memo"] = data["memo"]
        elif current is None:
            out["memo"] = None
        if data.get("items") is not None:
            out["_items"] = [self._item(biz, n, item) for n, item in enumerate(data["items"])]
        return out

    @staticmethod
    def _next_number(biz: WaveBusiness) -> str:
        numbers = [int(i["invoiceNumber"]) for i in biz.invoices.values() if i["invoiceNumber"].isdigit()]
        return str(max(numbers, default=0) + 1)

    @staticmethod
    def _item(biz: WaveBusiness, n: int, item: dict[str, Any]) -> dict[str, Any]:
        product = biz.products.get(item["productId"])
        if product is None or product["isArchived"]:
            raise input_error("NOT_FOUND", "Product not found.", "items", n, "productId")
        if not product["_income"]:
            raise input_error("INVALID", "The product is not sold (no income account).", "items", n, "productId")
        if item.get("taxes"):
            raise input_error("NOT_FOUND", "Sales tax not found.", "items", n, "taxes")
        eight = Decimal("0.00000001")
        quantity = Decimal(item["quantity"] if item.get("quantity") is not None else 1).quantize(eight)
        price = Decimal(item["unitPrice"] if item.get("unitPrice") is not None else product["unitPrice"])
        price = price.quantize(eight, rounding=ROUND_HALF_UP)
        if quantity <= 0:
            raise input_error("INVALID", "quantity must be greater than 0.", "items", n, "quantity")
        return {
            "product": product["id"],
            "description": item.get("description", product.get("description")),
            "quantity": quantity.normalize(),
            "unitPrice": price.normalize(),
            "amount": (quantity * price).quantize(CENT, rounding=ROUND_HALF_UP),
            "account": product["_income"],  # a line posts to its product's income account (wave.md section 3)
        }

    # -- payments ---------------------------------------------------------------------------------------------------
    def invoicePaymentCreateManual(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        def create() -> dict[str, Any]:
            biz, invoice = self._owner(input["invoiceId"], "invoices", "Invoice", "invoiceId")
            if invoice["_status"] == "DRAFT":
                raise input_error("NOT_ALLOWED", "Approve the invoice before recording a payment.", "invoiceId")
            account = biz.accounts.get(input["paymentAccountId"])
            if account is None or account["isArchived"]:
                raise input_error("NOT_FOUND", "Account not found.", "paymentAccountId")
            if account["_subtype"] != "CASH_AND_BANK":
                raise input_error("INVALID", "The payment account must be a Cash & Bank account.", "paymentAccountId")
            amount = Decimal(input["amount"])
            if amount <= 0 or amount != amount.quantize(CENT):
                raise input_error("INVALID", "amount must be positive with at most 2 decimals.", "amount")
            if Decimal(input["exchangeRate"]) <= 0:
                raise input_error("INVALID", "exchangeRate must be positive.", "exchangeRate")
            now = self.sb.now()
            record = {
                "id": biz.new_id("InvoicePayment"),
                "amount": amount,
                "paymentDate": input["paymentDate"].isoformat(),
                "paymentMethod": input["paymentMethod"],
                "memo": input.get("memo"),
                "exchangeRate": Decimal(input["exchangeRate"]),
                "_invoice": invoice["id"],
                "_account": account["id"],
                "_created": now,
                "_modified": now,
            }
            biz.payments[record["id"]] = record
            invoice["_modified"] = now
            return self.sb.payment_view(biz, self.ctx, record)

        return self._mutation("invoice:write", "invoicePayment", create)


def parse_document(text: str) -> DocumentNode:
    """Parse a GraphQL document (used by tests that validate what the adapter sends)."""
    return parse(text)
