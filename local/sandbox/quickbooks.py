"""A strict local stand-in for QuickBooks Online (OAuth 2.0 + Accounting API v3), mounted at ``/quickbooks``.

Real paths below the prefix: ``/connect/oauth2`` (authorize), ``/oauth2/v1/tokens/bearer`` (token),
``/v2/oauth2/tokens/revoke`` (revoke), ``/v3/company/{realmId}/...`` (API). Behaviour, sources and deliberate
deviations from Intuit are listed in ``local/sandbox/README.md``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import functools
import json
import operator
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from starlette.responses import JSONResponse, RedirectResponse, Response

from local.sandbox.framework import ConfigError, ProviderRoute, ProviderSandbox, SandboxCore, SandboxRequest
from local.sandbox.limits import SlidingWindow, TenantLimits
from local.sandbox.oauth import ROTATION_POLICIES, OAuthApp, OAuthError, OAuthPolicy, OAuthServer
from local.sandbox.quickbooks_query import Condition, Literal, QueryError, like_to_regex, parse_query
from local.sandbox.quickbooks_schema import ENUMS, FIELDS

DEFAULT_CLIENT_ID = "local-quickbooks-client"
DEFAULT_CLIENT_SECRET = "local-quickbooks-secret"
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
DEFAULT_REALM_ID = "9341453000000001"
DEFAULT_COMPANY_NAME = "BlueClerk Sandbox Company"
DEFAULT_MINOR_VERSION = 75  # Intuit ignores 1-74 since 2025-08-01 and serves 75
ACCESS_TOKEN_TTL = 3600
REFRESH_TOKEN_TTL = 8_726_400  # the x_refresh_token_expires_in Intuit documents (rolling ~100 days)
REFRESH_TOKEN_MAX_LIFETIME = 5 * 365 * 86_400  # the 5-year hard cap announced Nov 2025
AUTH_CODE_TTL = 300  # UNCONFIRMED
CDC_LOOKBACK_DAYS = 30
CDC_MAX_OBJECTS = 1000
REQUESTID_MAX = 50
BATCH_REQUESTID_MAX = 36
BATCH_BID_MAX = 10
DOCNUMBER_MAX = 21
ITEM_NAME_MAX = 100
DISPLAY_NAME_MAX = 500  # UNCONFIRMED (Intuit reference page); the XSD gives no limit
HOME_CURRENCY = {"value": "USD", "name": "United States Dollar"}
TAX_CODES = ("TAX", "NON")

# Fault.type values the sandbox emits. The XSD's FaultTypeEnum has AuthenticationFault, AuthorizatonFault (sic),
# ValidationFault, SystemFault; "SERVICE" (throttling) and the correctly spelt "AuthorizationFault" are what
# Intuit's JSON has been observed to send (providers/quickbooks.md section 6/7).
FAULT_TYPES = ("ValidationFault", "SystemFault", "AuthenticationFault", "AuthorizationFault", "SERVICE")
ITEM_TYPES = ("Service", "NonInventory", "Inventory")  # supported subset of ItemTypeEnum
ITEM_TYPES_NEEDING_INCOME_ACCOUNT = ("Service", "NonInventory", "Inventory")
PAYMENT_METHOD_TYPES = ("CREDIT_CARD", "NON_CREDIT_CARD")  # PaymentMethod.Type is xs:string in the XSD
INVOICE_LINE_TYPES = ("SalesItemLineDetail", "DescriptionOnly", "SubTotalLineDetail")  # supported subset
ENTITY_STATUS_DELETED = "Deleted"

ACCOUNT_CLASSIFICATION = {
    "Bank": "Asset",
    "Accounts Receivable": "Asset",
    "Other Current Asset": "Asset",
    "Fixed Asset": "Asset",
    "Other Asset": "Asset",
    "Accounts Payable": "Liability",
    "Credit Card": "Liability",
    "Other Current Liability": "Liability",
    "Long Term Liability": "Liability",
    "Equity": "Equity",
    "Income": "Revenue",
    "Other Income": "Revenue",
    "Cost of Goods Sold": "Expense",
    "Expense": "Expense",
    "Other Expense": "Expense",
}
DEFAULT_ACCOUNT_SUBTYPE = {
    "Bank": "Checking",
    "Accounts Receivable": "AccountsReceivable",
    "Other Current Asset": "OtherCurrentAssets",
    "Fixed Asset": "OtherFixedAssets",
    "Other Asset": "OtherLongTermAssets",
    "Accounts Payable": "AccountsPayable",
    "Credit Card": "CreditCard",
    "Other Current Liability": "OtherCurrentLiabilities",
    "Long Term Liability": "OtherLongTermLiabilities",
    "Equity": "OwnersEquity",
    "Income": "SalesOfProductIncome",
    "Other Income": "OtherMiscellaneousIncome",
    "Cost of Goods Sold": "SuppliesMaterialsCogs",
    "Expense": "OtherMiscellaneousServiceCost",
    "Other Expense": "OtherMiscellaneousExpense",
}
SEED_ACCOUNTS = (
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable"),
    ("Checking", "Bank", "Checking"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds"),
    ("Sales of Product Income", "Income", "SalesOfProductIncome"),
    ("Services", "Income", "ServiceFeeIncome"),
    ("Other Income", "Other Income", "OtherMiscellaneousIncome"),
    ("Inventory Asset", "Other Current Asset", "Inventory"),
    ("Cost of Goods Sold", "Cost of Goods Sold", "SuppliesMaterialsCogs"),
)
SEED_PAYMENT_METHODS = (
    ("Cash", "NON_CREDIT_CARD"),
    ("Check", "NON_CREDIT_CARD"),
    ("Visa", "CREDIT_CARD"),
    ("MasterCard", "CREDIT_CARD"),
    ("American Express", "CREDIT_CARD"),
    ("Discover", "CREDIT_CARD"),
)

ENTITY_PATHS = {
    "customer": "Customer",
    "item": "Item",
    "invoice": "Invoice",
    "payment": "Payment",
    "paymentmethod": "PaymentMethod",
    "account": "Account",
    "companyinfo": "CompanyInfo",
}
ENTITY_NAMES = tuple(ENTITY_PATHS.values())
NAME_LIST = ("Customer", "Item", "Account", "PaymentMethod")
TRANSACTIONS = ("Invoice", "Payment")
REF_LABELS = {
    "Customer": "Customers",
    "Item": "Items",
    "Account": "Accounts",
    "PaymentMethod": "PaymentMethods",
    "Invoice": "Invoices",
    "Payment": "Payments",
}

COMMON_READONLY = {"Id", "SyncToken", "MetaData", "domain", "sparse", "status"}
READONLY = {
    "Customer": {
        "Balance",
        "BalanceWithJobs",
        "FullyQualifiedName",
        "Level",
        "OverDueBalance",
        "TotalRevenue",
        "TotalExpense",
        "RootCustomerRef",
        "Job",
    },
    "Item": {"FullyQualifiedName", "Level", "AvgCost", "QtyOnPurchaseOrder", "QtyOnSalesOrder"},
    "Invoice": {"TotalAmt", "Balance", "HomeBalance", "HomeTotalAmt", "LinkedTxn", "TxnTaxDetail", "InvoiceLink"},
    "Payment": {"UnappliedAmt", "LinkedTxn", "TxnTaxDetail"},
    "Account": {"CurrentBalance", "CurrentBalanceWithSubAccounts", "FullyQualifiedName", "Classification"},
    "PaymentMethod": set(),
    "CompanyInfo": {
        "CompanyStartDate",
        "Country",
        "SupportedLanguages",
        "DefaultTimeZone",
        "QBVersion",
        "LastImportedTime",
        "LastSyncTime",
        "FlavorStratum",
        "SampleFile",
        "CompanyUserId",
        "NameValue",
        "MultiByteCharsSupported",
    },
}
# *Ref fields the sandbox resolves; any other *Ref names an object kind the sandbox does not have -> 2500.
HANDLED_REFS = {
    "Customer": {"ParentRef", "CurrencyRef", "PaymentMethodRef", "ARAccountRef", "DefaultTaxCodeRef"},
    "Item": {"IncomeAccountRef", "AssetAccountRef", "ExpenseAccountRef", "SalesTaxCodeRef"},
    "Invoice": {"CustomerRef", "CurrencyRef", "ARAccountRef", "DepositToAccountRef"},
    "Payment": {"CustomerRef", "CurrencyRef", "ARAccountRef", "DepositToAccountRef", "PaymentMethodRef"},
    "Account": {"ParentRef", "CurrencyRef"},
    "PaymentMethod": set(),
    "CompanyInfo": set(),
}
CUSTOMER_NAME_FIELDS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
META_FIELDS = ("MetaData.CreateTime", "MetaData.LastUpdatedTime")
QUERYABLE = {
    "Customer": (
        "Id",
        "DisplayName",
        "GivenName",
        "FamilyName",
        "MiddleName",
        "CompanyName",
        "PrimaryEmailAddr",
        "PrintOnCheckName",
        "FullyQualifiedName",
        "Active",
        "Balance",
        "Job",
        "ParentRef",
        *META_FIELDS,
    ),
    "Item": (
        "Id",
        "Name",
        "Sku",
        "Type",
        "Active",
        "FullyQualifiedName",
        "UnitPrice",
        "IncomeAccountRef",
        *META_FIELDS,
    ),
    "Invoice": ("Id", "DocNumber", "TxnDate", "DueDate", "CustomerRef", "TotalAmt", "Balance", *META_FIELDS),
    "Payment": ("Id", "TxnDate", "CustomerRef", "TotalAmt", "PaymentRefNum", *META_FIELDS),
    "Account": (
        "Id",
        "Name",
        "AccountType",
        "Classification",
        "AccountSubType",
        "Active",
        "AcctNum",
        "FullyQualifiedName",
        "CurrentBalance",
        *META_FIELDS,
    ),
    "PaymentMethod": ("Id", "Name", "Active", "Type", *META_FIELDS),
    "CompanyInfo": ("Id", *META_FIELDS),
}


def _company_tz() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("America/Los_Angeles")
    except Exception:  # no tz database on this machine
        return timezone(timedelta(hours=-8))


COMPANY_TZ = _company_tz()
CENT = Decimal("0.01")


# ---------------------------------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------------------------------
class QboFault(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        detail: str = "",
        element: str = "",
        *,
        status: int = 400,
        fault_type: str = "ValidationFault",
    ) -> None:
        super().__init__(f"{code} {message}: {detail}")
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element
        self.status = status
        self.fault_type = fault_type

    def error_json(self) -> dict[str, str]:
        return {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}

    def fault_json(self) -> dict[str, Any]:
        return {"Error": [self.error_json()], "type": self.fault_type}


def missing_param(name: str) -> QboFault:
    return QboFault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {name} is missing in the request",
        name,
    )


def unsupported_property(entity: str, name: str, why: str = "") -> QboFault:
    detail = f'Property Name:Unrecognized field "{name}" (class com.intuit.schema.finance.v3.{entity})'
    return QboFault("2010", "Request has invalid or unsupported property", detail + (f": {why}" if why else ""), name)


def invalid_value(entity: str, name: str, why: str) -> QboFault:
    return QboFault(
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:{name} (class com.intuit.schema.finance.v3.{entity}) {why}",
        name,
    )


def invalid_reference(kind: str, value: Any, element: str) -> QboFault:
    label = REF_LABELS.get(kind, kind)
    return QboFault(
        "2500", "Invalid Reference Id", f"Invalid Reference Id : {label} element id {value} not found", element
    )


def object_not_found(element: str = "", detail: str = "") -> QboFault:
    return QboFault(
        "610",
        "Object Not Found",
        detail
        or "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, "
        "customers, items, vendors or employees.",
        element,
    )


def business(detail: str, element: str = "") -> QboFault:
    return QboFault(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element,
    )


def string_length(name: str, maximum: int, supplied: int) -> QboFault:
    return QboFault(
        "2050",
        "String length is either shorter or longer than supported by specification",
        f"String length specified does not match the supported length. Min:0 Max:{maximum} supplied length:{supplied}",
        name,
    )


def invalid_characters(name: str) -> QboFault:
    return business(f"{name} cannot contain a colon (:).", name)


def unsupported_operation(detail: str) -> QboFault:
    return QboFault("500", "Unsupported Operation", f"Operation {detail} is not supported.")


def stale_object(sent: Any, current: str) -> QboFault:
    return QboFault(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and another user were working on this object at the same time. The other user "
        f"finished first, so your change was not saved. SyncToken sent: {sent}, current: {current}",
        "SyncToken",
    )


def authentication_failed(detail: str) -> QboFault:
    return QboFault(
        "3200",
        "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        detail,
        status=401,
        fault_type="AuthenticationFault",
    )


def throttled(detail: str) -> QboFault:
    return QboFault(
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        detail,
        status=429,
        fault_type="SERVICE",
    )


def system_fault(detail: str, status: int = 500) -> QboFault:
    return QboFault(
        "10000",
        "An application error has occurred while processing your request",
        f"System Failure Error: {detail}",
        status=status,
        fault_type="SystemFault",
    )


# ---------------------------------------------------------------------------------------------------------------
# Values, times, money
# ---------------------------------------------------------------------------------------------------------------
def fmt_meta(ts: float) -> str:
    return datetime.fromtimestamp(int(ts), COMPANY_TZ).isoformat()


def fmt_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, COMPANY_TZ).isoformat(timespec="milliseconds")


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_datetime(text: str) -> float | None:
    """ISO date or date-time; a missing offset means the company's time zone."""
    text = text.strip()
    try:
        if _DATE_RE.match(text):
            return datetime.fromisoformat(text).replace(tzinfo=COMPANY_TZ).timestamp()
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=COMPANY_TZ)
    return parsed.timestamp()


def to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return result if result.is_finite() else None


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _clean(value: Any) -> Any:
    """Drop None, empty strings, empty lists and empty objects (python-quickbooks sends many)."""
    if isinstance(value, dict):
        out = {k: _clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None} or None
    if isinstance(value, list):
        items = [_clean(v) for v in value]
        return [v for v in items if v is not None] or None
    if value == "":
        return None
    return value


def _ref_value(ref: Any) -> str | None:
    if isinstance(ref, dict) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    return None


# ---------------------------------------------------------------------------------------------------------------
# Schema checks (field names and kinds come from the XSD, see quickbooks_schema.py)
# ---------------------------------------------------------------------------------------------------------------
def check_fields(type_name: str, body: dict[str, Any], entity: str | None = None) -> None:
    allowed = FIELDS[type_name]
    for key, value in body.items():
        kind = allowed.get(key)
        if kind is None:
            raise unsupported_property(entity or type_name, key)
        _check_kind(type_name, key, kind, value, entity or type_name)


def _check_kind(type_name: str, key: str, kind: str, value: Any, entity: str) -> None:
    if value is None:
        return
    if kind.endswith("[]"):
        if not isinstance(value, list):
            raise invalid_value(entity, key, "must be a JSON array")
        for item in value:
            _check_kind(type_name, key, kind[:-2], item, entity)
        return
    if kind == "string":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise invalid_value(entity, key, "must be a string")
    elif kind == "boolean":
        if not isinstance(value, bool) and value not in ("true", "false"):
            raise invalid_value(entity, key, "must be a boolean")
    elif kind == "decimal":
        if value != "" and to_decimal(value) is None:
            raise invalid_value(entity, key, f"cannot parse {value!r} as a decimal")
    elif kind == "int":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            raise invalid_value(entity, key, "must be an integer")
    elif kind == "date":
        if value != "" and (not isinstance(value, str) or not _DATE_RE.match(value) or not _valid_date(value)):
            raise invalid_value(entity, key, f"cannot parse {value!r} as a date (yyyy-MM-dd)")
    elif kind == "dateTime":
        if value != "" and (not isinstance(value, str) or parse_datetime(value) is None):
            raise invalid_value(entity, key, f"cannot parse {value!r} as a date-time")
    elif kind.startswith("enum:"):
        if value != "" and value not in ENUMS[kind[5:]]:
            raise invalid_value(entity, key, f"value {value!r} is not one of {list(ENUMS[kind[5:]])}")
    elif kind == "ReferenceType":
        if not isinstance(value, dict):
            raise invalid_value(entity, key, "must be an object with a value")
        extra = set(value) - {"value", "name", "type"}
        if extra:
            raise unsupported_property(entity, f"{key}.{sorted(extra)[0]}")
    elif kind in FIELDS:
        if not isinstance(value, dict):
            raise invalid_value(entity, key, "must be an object")
        check_fields(kind, value, entity)
    elif not isinstance(value, dict):
        raise invalid_value(entity, key, "must be an object")


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# Realm (one QuickBooks company)
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class StoredResponse:
    status: int
    body: bytes
    stored_at: float


@dataclass
class Realm:
    realm_id: str
    company_name: str
    created_at: float
    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: {n: {} for n in ENTITY_NAMES})
    deleted: dict[str, dict[str, float]] = field(default_factory=lambda: {n: {} for n in ENTITY_NAMES})
    next_id: int = 1
    next_doc_number: int = 1001
    duplicate_docnumber_warning: bool = True
    request_ids: dict[str, StoredResponse] = field(default_factory=dict)
    batch_window: SlidingWindow = field(default_factory=SlidingWindow)
    applied: dict[str, dict[str, Decimal]] = field(default_factory=dict)  # invoice id -> payment id -> amount

    def new_id(self) -> str:
        value = str(self.next_id)
        self.next_id += 1
        return value

    def get(self, entity: str, entity_id: str) -> dict[str, Any] | None:
        return self.entities[entity].get(entity_id)

    def find_by_name(self, entity: str, key: str, name: str) -> dict[str, Any] | None:
        folded = name.casefold()
        for stored in self.entities[entity].values():
            if str(stored.get(key, "")).casefold() == folded:
                return stored
        return None

    def account_named(self, name: str) -> dict[str, Any]:
        found = self.find_by_name("Account", "Name", name)
        assert found is not None
        return found

    def applied_total(self, invoice_id: str, excluding_payment: str | None = None) -> Decimal:
        return sum(
            (amt for pid, amt in self.applied.get(invoice_id, {}).items() if pid != excluding_payment), Decimal(0)
        )


# ---------------------------------------------------------------------------------------------------------------
# Provider configuration
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class QboConfig:
    rate_limit_per_minute: int | None = 500
    concurrency_limit: int | None = 10
    batch_per_minute: int | None = 40
    max_batch_items: int = 30
    require_accept_json: bool = True
    auth_fault_style: str = "standard"  # "standard" | "lowercase" (observed 401 body with lower-case keys)
    requestid_ttl_seconds: float | None = None
    default_realm_id: str = DEFAULT_REALM_ID
    default_company_name: str = DEFAULT_COMPANY_NAME
    next_connect: dict[str, Any] = field(default_factory=dict)


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


def _realm_id(value: Any) -> str:
    if not isinstance(value, str) or not value.isdigit() or len(value) > 32:
        raise ConfigError("realm ids are strings of digits")
    return value


# ---------------------------------------------------------------------------------------------------------------
# The provider
# ---------------------------------------------------------------------------------------------------------------
class QuickBooksSandbox(ProviderSandbox):
    name = "quickbooks"

    def __init__(self, core: SandboxCore) -> None:
        super().__init__(core)
        self.reset()

    # -- lifecycle / control plane ------------------------------------------------------------------------------
    def reset(self) -> None:
        self.config = QboConfig()
        self.oauth = OAuthServer(
            clock=self.clock,
            policy=OAuthPolicy(
                access_token_ttl=ACCESS_TOKEN_TTL,
                refresh_token_ttl=REFRESH_TOKEN_TTL,
                refresh_token_max_lifetime=REFRESH_TOKEN_MAX_LIFETIME,
                code_ttl=AUTH_CODE_TTL,
                rotation="every",
                rotation_period=86_400,
                refresh_grace=0.0,
            ),
            token_prefix="qbo-",
        )
        self.oauth.register_app(OAuthApp(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        self.realms: dict[str, Realm] = {}

    def limits_for(self, tenant: str) -> TenantLimits:
        return TenantLimits(self.config.rate_limit_per_minute, self.config.concurrency_limit)

    def env(self, base_url: str) -> dict[str, str]:
        prefix = f"{base_url}/{self.name}"
        return {
            "QUICKBOOKS_API_URL": prefix,
            "QUICKBOOKS_AUTHORIZE_URL": f"{prefix}/connect/oauth2",
            "QUICKBOOKS_TOKEN_URL": f"{prefix}/oauth2/v1/tokens/bearer",
            "QUICKBOOKS_REVOKE_URL": f"{prefix}/v2/oauth2/tokens/revoke",
            "QUICKBOOKS_CLIENT_ID": DEFAULT_CLIENT_ID,
            "QUICKBOOKS_CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        }

    def get_config(self) -> dict[str, Any]:
        policy = self.oauth.policy
        return {
            "refresh_grace_seconds": policy.refresh_grace,
            "rotation_policy": policy.rotation,
            "rotation_period_seconds": policy.rotation_period,
            "access_token_ttl_seconds": policy.access_token_ttl,
            "refresh_token_ttl_seconds": policy.refresh_token_ttl,
            "refresh_token_max_lifetime_seconds": policy.refresh_token_max_lifetime,
            "auth_code_ttl_seconds": policy.code_ttl,
            "rate_limit_per_minute": self.config.rate_limit_per_minute,
            "concurrency_limit": self.config.concurrency_limit,
            "batch_per_minute": self.config.batch_per_minute,
            "max_batch_items": self.config.max_batch_items,
            "require_accept_json": self.config.require_accept_json,
            "auth_fault_style": self.config.auth_fault_style,
            "requestid_ttl_seconds": self.config.requestid_ttl_seconds,
            "default_realm_id": self.config.default_realm_id,
            "default_company_name": self.config.default_company_name,
            "next_connect": dict(self.config.next_connect),
            "apps": [
                {"client_id": a.client_id, "redirect_uris": sorted(a.redirect_uris) if a.redirect_uris else None}
                for a in self.oauth.apps.values()
            ],
            "realms": {
                rid: {"company_name": r.company_name, "duplicate_docnumber_warning": r.duplicate_docnumber_warning}
                for rid, r in self.realms.items()
            },
        }

    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        policy = copy.copy(self.oauth.policy)
        config = copy.deepcopy(self.config)
        apps: list[OAuthApp] = []
        realm_settings: dict[str, dict[str, Any]] = {}
        for key, value in knobs.items():
            if key == "refresh_grace_seconds":
                if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                    raise ConfigError("refresh_grace_seconds must be a number >= 0")
                policy.refresh_grace = float(value)
            elif key == "rotation_policy":
                if value not in ROTATION_POLICIES:
                    raise ConfigError(f"rotation_policy must be one of {list(ROTATION_POLICIES)}")
                policy.rotation = value
            elif key == "rotation_period_seconds":
                policy.rotation_period = _positive_int(key, value)
            elif key == "access_token_ttl_seconds":
                policy.access_token_ttl = _positive_int(key, value)
            elif key == "refresh_token_ttl_seconds":
                policy.refresh_token_ttl = _positive_int_or_none(key, value)
            elif key == "refresh_token_max_lifetime_seconds":
                policy.refresh_token_max_lifetime = _positive_int_or_none(key, value)
            elif key == "auth_code_ttl_seconds":
                policy.code_ttl = _positive_int(key, value)
            elif key in ("rate_limit_per_minute", "concurrency_limit", "batch_per_minute"):
                setattr(config, key, _positive_int_or_none(key, value))
            elif key == "max_batch_items":
                config.max_batch_items = _positive_int(key, value)
            elif key == "require_accept_json":
                if not isinstance(value, bool):
                    raise ConfigError("require_accept_json must be a boolean")
                config.require_accept_json = value
            elif key == "auth_fault_style":
                if value not in ("standard", "lowercase"):
                    raise ConfigError("auth_fault_style must be 'standard' or 'lowercase'")
                config.auth_fault_style = value
            elif key == "requestid_ttl_seconds":
                if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value <= 0):
                    raise ConfigError("requestid_ttl_seconds must be a positive number or null")
                config.requestid_ttl_seconds = value
            elif key == "default_realm_id":
                config.default_realm_id = _realm_id(value)
            elif key == "default_company_name":
                if not isinstance(value, str) or not value.strip():
                    raise ConfigError("default_company_name must be a non-empty string")
                config.default_company_name = value
            elif key == "next_connect":
                if not isinstance(value, dict) or set(value) - {"realm_id", "company_name", "deny"}:
                    raise ConfigError("next_connect is an object with realm_id, company_name and/or deny")
                if "realm_id" in value:
                    _realm_id(value["realm_id"])
                config.next_connect = dict(value)
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
            elif key == "realms":
                if not isinstance(value, dict):
                    raise ConfigError("realms maps a realm id to {duplicate_docnumber_warning?, company_name?}")
                for rid, settings in value.items():
                    _realm_id(rid)
                    if not isinstance(settings, dict) or set(settings) - {
                        "duplicate_docnumber_warning",
                        "company_name",
                    }:
                        raise ConfigError("realm settings: duplicate_docnumber_warning (bool), company_name (str)")
                    if "duplicate_docnumber_warning" in settings and not isinstance(
                        settings["duplicate_docnumber_warning"], bool
                    ):
                        raise ConfigError("duplicate_docnumber_warning must be a boolean")
                    realm_settings[rid] = settings
            else:
                raise ConfigError(f"unknown quickbooks knob {key!r}")
        try:
            policy.validate()
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
        self.oauth.policy = policy
        self.config = config
        for app in apps:
            self.oauth.register_app(app)
        for rid, settings in realm_settings.items():
            realm = self.ensure_realm(rid, settings.get("company_name"))
            if "duplicate_docnumber_warning" in settings:
                realm.duplicate_docnumber_warning = settings["duplicate_docnumber_warning"]
        return self.get_config()

    def tenants(self) -> list[str]:
        return sorted(self.realms)

    def tenant_dump(self, tenant: str) -> dict[str, Any] | None:
        realm = self.realms.get(tenant)
        if realm is None:
            return None
        entities = {
            name: [self.render(realm, name, stored) for stored in _by_id(realm.entities[name].values())]
            for name in ENTITY_NAMES
        }
        return {
            "realm_id": realm.realm_id,
            "company_name": realm.company_name,
            "settings": {"duplicate_docnumber_warning": realm.duplicate_docnumber_warning},
            "counts": {name: len(rows) for name, rows in entities.items()},
            "deleted": {name: sorted(ids, key=int) for name, ids in realm.deleted.items() if ids},
            "entities": entities,
            "tokens": self.oauth.tenant_summary(tenant),
            "request_ids": len(realm.request_ids),
        }

    def ensure_realm(self, realm_id: str, company_name: str | None = None) -> Realm:
        realm = self.realms.get(realm_id)
        if realm is None:
            realm = self._seed_realm(realm_id, company_name or self.config.default_company_name)
            self.realms[realm_id] = realm
        elif company_name:
            realm.company_name = company_name
            info = realm.entities["CompanyInfo"]["1"]
            info["CompanyName"] = company_name
        return realm

    def _seed_realm(self, realm_id: str, company_name: str) -> Realm:
        now = self.clock.timestamp()
        realm = Realm(realm_id=realm_id, company_name=company_name, created_at=now)
        realm.entities["CompanyInfo"]["1"] = {
            "Id": "1",
            "SyncToken": "0",
            "_created": now,
            "_updated": now,
            "CompanyName": company_name,
            "LegalName": company_name,
            "CompanyAddr": {
                "Line1": "1 Main St",
                "City": "Mountain View",
                "CountrySubDivisionCode": "CA",
                "PostalCode": "94043",
                "Country": "US",
            },
            "Email": {"Address": "owner@sandbox.example"},
            "FiscalYearStartMonth": "January",
        }
        realm.next_id = 2
        for name, account_type, subtype in SEED_ACCOUNTS:
            account_id = realm.new_id()
            realm.entities["Account"][account_id] = {
                "Id": account_id,
                "SyncToken": "0",
                "_created": now,
                "_updated": now,
                "Name": name,
                "AccountType": account_type,
                "AccountSubType": subtype,
                "Active": True,
            }
        for name, method_type in SEED_PAYMENT_METHODS:
            method_id = realm.new_id()
            realm.entities["PaymentMethod"][method_id] = {
                "Id": method_id,
                "SyncToken": "0",
                "_created": now,
                "_updated": now,
                "Name": name,
                "Type": method_type,
                "Active": True,
            }
        return realm

    # -- routes ---------------------------------------------------------------------------------------------------
    def routes(self) -> list[ProviderRoute]:
        return [
            ProviderRoute("/connect/oauth2", self.authorize, ("GET",)),
            ProviderRoute("/oauth2/v1/tokens/bearer", self.token, ("POST",)),
            ProviderRoute("/v2/oauth2/tokens/revoke", self.revoke, ("POST",)),
            ProviderRoute("/.well-known/openid_configuration", self.discovery, ("GET",)),
            ProviderRoute("/v3/company/{realm_id}/{rest:path}", self.api, ("GET", "POST"), tenant_param="realm_id"),
        ]

    # -- error envelopes for the framework ------------------------------------------------------------------------
    def _is_oauth_path(self, req: SandboxRequest) -> bool:
        return not req.path.startswith(f"/{self.name}/v3/")

    def fault_response(
        self, req: SandboxRequest, status: int, retry_after: int | None = None, message: str | None = None
    ) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        if self._is_oauth_path(req):
            error = {400: "invalid_request", 401: "invalid_client", 503: "temporarily_unavailable"}.get(
                status, "server_error"
            )
            return JSONResponse(
                {"error": error, "error_description": message or "injected fault"}, status_code=status, headers=headers
            )
        if status == 401:
            fault = authentication_failed(message or "Token invalid")
        elif status == 403:
            fault = QboFault(
                "3100",
                "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                message or "",
                status=403,
                fault_type="AuthorizationFault",
            )
        elif status == 429:
            fault = throttled(message or "The request limit was reached.")
        elif status >= 500:
            fault = system_fault(message or "injected fault", status)
        else:
            fault = business(message or "injected fault")
            fault.status = status
        response = self._fault(fault)
        response.headers.update(headers)
        return response

    def throttle_response(self, req: SandboxRequest, reason: str) -> Response:
        limit = self.config.concurrency_limit if reason == "concurrency" else self.config.rate_limit_per_minute
        what = "concurrent requests" if reason == "concurrency" else "requests per minute"
        return self._fault(throttled(f"The request limit was reached ({limit} {what} per realm)."))

    # -- responses --------------------------------------------------------------------------------------------------
    def _now(self) -> float:
        return self.clock.timestamp()

    def _json(self, payload: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, default=_json_default, separators=(",", ":"))
        out_headers = {"intuit_tid": secrets.token_hex(12)}
        out_headers.update(headers or {})
        return Response(body, status_code=status, media_type="application/json", headers=out_headers)

    def _envelope(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {**payload, "time": fmt_time(self._now())}

    def _fault(self, fault: QboFault) -> Response:
        if fault.status == 401 and self.config.auth_fault_style == "lowercase":
            payload: dict[str, Any] = {
                "warnings": None,
                "intuitObject": None,
                "fault": {
                    "error": [{"message": fault.message, "detail": fault.detail, "code": fault.code, "element": None}],
                    "type": "AUTHENTICATION",
                },
                "report": None,
                "queryResponse": None,
                "batchItemResponse": [],
                "attachableResponse": [],
                "syncErrorResponse": None,
                "requestId": None,
                "time": int(self._now() * 1000),
                "status": None,
                "cdcresponse": [],
            }
        else:
            payload = self._envelope({"Fault": fault.fault_json()})
        headers = {}
        if fault.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="Intuit", error="invalid_token"'
        return self._json(payload, fault.status, headers)

    # -- OAuth --------------------------------------------------------------------------------------------------
    def discovery(self, req: SandboxRequest) -> Response:
        prefix = f"{req.base_url}/{self.name}"
        return JSONResponse(
            {
                "issuer": f"{prefix}/op/v1",
                "authorization_endpoint": f"{prefix}/connect/oauth2",
                "token_endpoint": f"{prefix}/oauth2/v1/tokens/bearer",
                "revocation_endpoint": f"{prefix}/v2/oauth2/tokens/revoke",
                "response_types_supported": ["code"],
                "scopes_supported": ["openid", "email", "profile", "address", "phone", ACCOUNTING_SCOPE],
                "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            }
        )

    def authorize(self, req: SandboxRequest) -> Response:
        q = req.query
        app = self.oauth.apps.get(q.get("client_id", ""))
        if app is None:
            return _error_page(400, "invalid_client", "Unknown client_id.")
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri or not app.allows_redirect(redirect_uri):
            return _error_page(400, "invalid_request", "redirect_uri is missing or not registered for this app.")
        state = q.get("state", "")
        if not state:
            return _error_page(400, "invalid_request", "state is required.")

        def back(params: dict[str, str]) -> Response:
            separator = "&" if "?" in redirect_uri else "?"
            return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=302)

        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type", "state": state})
        scopes = q.get("scope", "").split()
        if ACCOUNTING_SCOPE not in scopes:
            return back({"error": "invalid_scope", "state": state})
        next_connect = self.config.next_connect
        self.config.next_connect = {}
        if q.get("sandbox_decision") == "deny" or next_connect.get("deny"):
            return back({"error": "access_denied", "state": state})
        realm_id = q.get("sandbox_realm_id") or next_connect.get("realm_id") or self.config.default_realm_id
        if not realm_id.isdigit():
            return _error_page(400, "invalid_request", "sandbox_realm_id must be digits.")
        company = q.get("sandbox_company_name") or next_connect.get("company_name")
        self.ensure_realm(realm_id, company)
        req.tenant = realm_id
        code = self.oauth.issue_code(app, redirect_uri, realm_id, " ".join(scopes))
        return back({"code": code, "state": state, "realmId": realm_id})

    def _client_credentials(self, req: SandboxRequest, form: dict[str, str] | None) -> tuple[str | None, str | None]:
        header = req.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic" and value:
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None, None
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
        if form is not None and "client_id" in form:  # client_secret_post
            return form.get("client_id"), form.get("client_secret")
        return None, None

    def token(self, req: SandboxRequest) -> Response:
        no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        if req.content_type != "application/x-www-form-urlencoded":
            return JSONResponse(
                {
                    "error": "invalid_request",
                    "error_description": "Content-Type must be application/x-www-form-urlencoded",
                },
                status_code=400,
                headers=no_store,
            )
        form = req.form()
        grant_type = form.get("grant_type")
        req.token_refresh = grant_type == "refresh_token"
        try:
            app = self.oauth.authenticate_client(*self._client_credentials(req, form))
            if grant_type == "authorization_code":
                result = self.oauth.exchange_code(app, form.get("code"), form.get("redirect_uri"))
            elif grant_type == "refresh_token":
                result = self.oauth.refresh(app, form.get("refresh_token"))
            else:
                raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
        except OAuthError as exc:
            req.tenant = exc.tenant
            headers = dict(no_store)
            if exc.status == 401:
                headers["WWW-Authenticate"] = 'Basic realm="Intuit"'
            return JSONResponse(
                {"error": exc.error, "error_description": exc.description}, status_code=exc.status, headers=headers
            )
        req.tenant = result.grant.tenant
        payload: dict[str, Any] = {
            "token_type": "bearer",
            "expires_in": result.expires_in,
            "refresh_token": result.refresh_token,
            "x_refresh_token_expires_in": result.refresh_expires_in,
            "access_token": result.access_token,
        }
        return JSONResponse(payload, headers=no_store)

    def revoke(self, req: SandboxRequest) -> Response:
        if req.content_type != "application/json":
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Content-Type must be application/json"},
                status_code=400,
            )
        try:
            client_id, secret = self._client_credentials(req, None)
            app = self.oauth.authenticate_client(client_id, secret)
            try:
                body = req.json()
            except ValueError:
                body = None
            token = body.get("token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                raise OAuthError("invalid_request", "token is required")
            grant = self.oauth.revoke(app, token)
        except OAuthError as exc:
            req.tenant = exc.tenant
            return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status)
        req.tenant = grant.tenant if grant else None
        return Response(status_code=200)

    # -- Accounting API ---------------------------------------------------------------------------------------------
    def api(self, req: SandboxRequest) -> Response:
        realm_id = req.path_params["realm_id"]
        segments = [s for s in req.path_params.get("rest", "").split("/") if s]
        try:
            self._authenticate(req, realm_id)
            realm = self.realms[realm_id]
            self._check_request(req)
            if not segments:
                raise unsupported_operation(f"{req.method} {req.path}")
            head = segments[0].lower()
            if head == "query" and len(segments) == 1:
                return self._query_endpoint(req, realm)
            if head == "cdc" and len(segments) == 1 and req.method == "GET":
                return self._json(self._envelope(self._cdc(realm, req)))
            if head == "batch" and len(segments) == 1 and req.method == "POST":
                return self._idempotent(req, realm, BATCH_REQUESTID_MAX, lambda: self._batch_endpoint(req, realm))
            entity = ENTITY_PATHS.get(head)
            if entity is not None and len(segments) == 2 and req.method == "GET":
                return self._json(self._envelope({entity: self._read(realm, entity, segments[1])}))
            if entity is not None and len(segments) == 1 and req.method == "POST":
                return self._idempotent(req, realm, REQUESTID_MAX, lambda: self._write_endpoint(req, realm, entity))
            raise unsupported_operation(f"{req.method} /{'/'.join(segments)}")
        except QboFault as fault:
            return self._fault(fault)

    def _authenticate(self, req: SandboxRequest, realm_id: str) -> None:
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise authentication_failed("Authorization header with a Bearer token is required")
        grant = self.oauth.validate_access_token(token.strip())
        if grant is None:
            raise authentication_failed("Token expired, revoked or invalid")
        if grant.tenant != realm_id or realm_id not in self.realms:
            raise authentication_failed(f"Token is not valid for realm {realm_id}")
        if ACCOUNTING_SCOPE not in grant.scope.split():
            raise authentication_failed("Token does not carry the accounting scope")

    def _check_request(self, req: SandboxRequest) -> None:
        minor = req.query.get("minorversion")
        if minor is not None and not minor.isdigit():
            raise QboFault(
                "2010", "Request has invalid or unsupported property", f"minorversion {minor!r} is not a number"
            )
        if self.config.require_accept_json and "application/json" not in req.headers.get("accept", "").lower():
            raise QboFault(
                "406",
                "Not Acceptable",
                "Sandbox: send 'Accept: application/json'; QuickBooks answers XML otherwise "
                "(disable with the require_accept_json knob).",
                status=406,
            )

    def _idempotent(self, req: SandboxRequest, realm: Realm, max_len: int, action: Callable[[], Response]) -> Response:
        request_id = req.query.get("requestid")
        if request_id is None:
            return action()
        if not request_id or len(request_id) > max_len:
            raise QboFault(
                "2050",
                "String length is either shorter or longer than supported by specification",
                f"requestid must be 1 to {max_len} characters, supplied length:{len(request_id)}",
                "requestid",
            )
        now = self._now()
        stored = realm.request_ids.get(request_id)
        ttl = self.config.requestid_ttl_seconds
        if stored is not None and (ttl is None or now - stored.stored_at < ttl):
            return Response(
                stored.body,
                status_code=stored.status,
                media_type="application/json",
                headers={"intuit_tid": secrets.token_hex(12)},
            )
        response = action()
        if response.status_code != 429:
            # A throttled request was refused, never run: there is no original response to replay, and Intuit says
            # "wait 60 seconds before retrying" (QB.md §6). Remembering the 429 answered every retry of that
            # requestid (a batch's is a digest of its body) with the refusal for good: the stalled QuickBooks backfill.
            realm.request_ids[request_id] = StoredResponse(response.status_code, bytes(response.body), now)
        return response

    def _json_body(self, req: SandboxRequest, entity: str = "Request") -> dict[str, Any]:
        if req.content_type != "application/json":
            raise QboFault("415", "Unsupported Media Type", "Content-Type must be application/json", status=415)
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise QboFault(
                "2010", "Request has invalid or unsupported property", f"Request body is not valid JSON: {exc}"
            ) from exc
        if not isinstance(body, dict):
            raise QboFault(
                "2010", "Request has invalid or unsupported property", f"{entity} body must be a JSON object"
            )
        return body

    def _write_endpoint(self, req: SandboxRequest, realm: Realm, entity: str) -> Response:
        try:
            body = self._json_body(req, entity)
            options = {o.strip().lower() for o in req.query.get("include", "").split(",") if o.strip()}
            payload = self._write(realm, entity, body, req.query.get("operation"), options)
        except QboFault as fault:
            return self._fault(fault)
        return self._json(self._envelope(payload))

    # -- read -----------------------------------------------------------------------------------------------------
    def _read(self, realm: Realm, entity: str, entity_id: str) -> dict[str, Any]:
        if entity == "CompanyInfo" and entity_id in (realm.realm_id, "1"):
            entity_id = "1"
        stored = realm.get(entity, entity_id)
        if stored is None:
            raise object_not_found(
                "Id",
                f"Object Not Found : Something you're trying to use has been made inactive or deleted. "
                f"{entity} Id {entity_id} not found",
            )
        return self.render(realm, entity, stored)

    # -- write dispatch -------------------------------------------------------------------------------------------
    def _write(
        self, realm: Realm, entity: str, body: dict[str, Any], operation: str | None, options: set[str]
    ) -> dict[str, Any]:
        op = (operation or "").lower()
        if op == "delete":
            return self._delete(realm, entity, body)
        if op == "void" or (op == "update" and "void" in options):
            return self._void(realm, entity, body)
        if op not in ("", "create", "update"):
            raise unsupported_operation(f"{operation} on {entity}")
        has_id = body.get("Id") not in (None, "")
        if op == "update" and not has_id:
            raise missing_param("Id")
        if has_id and op != "create":
            return {entity: self._update(realm, entity, body, options)}
        if entity == "CompanyInfo":
            raise unsupported_operation("Create on CompanyInfo")
        return {entity: self._create(realm, entity, body, options)}

    def _create(self, realm: Realm, entity: str, body: dict[str, Any], options: set[str]) -> dict[str, Any]:
        stored = BUILDERS[entity](self, realm, body, None, False, options)
        now = self._now()
        entity_id = realm.new_id()
        stored.update({"Id": entity_id, "SyncToken": "0", "_created": now, "_updated": now})
        realm.entities[entity][entity_id] = stored
        if entity == "Payment":
            self._apply_payment(realm, entity_id, {}, stored.get("_applied", {}))
        return self.render(realm, entity, stored)

    def _current_for_write(self, realm: Realm, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        entity_id = str(body.get("Id", ""))
        if entity == "CompanyInfo" and entity_id == realm.realm_id:
            entity_id = "1"
        current = realm.get(entity, entity_id)
        if current is None:
            raise object_not_found(
                "Id",
                f"Object Not Found : Another user has deleted this transaction, or {entity} Id {entity_id} "
                "does not exist.",
            )
        sync_token = body.get("SyncToken")
        if sync_token in (None, ""):
            raise missing_param("SyncToken")
        if str(sync_token) != current["SyncToken"]:
            raise stale_object(sync_token, current["SyncToken"])
        return current

    def _update(self, realm: Realm, entity: str, body: dict[str, Any], options: set[str]) -> dict[str, Any]:
        current = self._current_for_write(realm, entity, body)
        sparse = body.get("sparse") in (True, "true")
        stored = BUILDERS[entity](self, realm, body, current, sparse, options)
        stored["SyncToken"] = str(int(current["SyncToken"]) + 1)
        stored["_updated"] = self._now()
        realm.entities[entity][current["Id"]] = stored
        if entity == "Payment":
            self._apply_payment(realm, current["Id"], current.get("_applied", {}), stored.get("_applied", {}))
        return self.render(realm, entity, stored)

    def _delete(self, realm: Realm, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity not in TRANSACTIONS:
            raise unsupported_operation(f"Delete on {entity} (name-list objects are deactivated with Active=false)")
        current = self._current_for_write(realm, entity, body)
        entity_id = current["Id"]
        if entity == "Invoice" and realm.applied_total(entity_id) > 0:
            raise business("This invoice has payments applied; delete or unapply the payments first.", "Id")
        if entity == "Payment":
            self._apply_payment(realm, entity_id, current.get("_applied", {}), {})
        del realm.entities[entity][entity_id]
        realm.deleted[entity][entity_id] = self._now()
        return {entity: {"domain": "QBO", "status": ENTITY_STATUS_DELETED, "Id": entity_id}}

    def _void(self, realm: Realm, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        if entity not in TRANSACTIONS:
            raise unsupported_operation(f"Void on {entity}")
        current = self._current_for_write(realm, entity, body)
        entity_id = current["Id"]
        stored = copy.deepcopy(current)
        if entity == "Invoice":
            if realm.applied_total(entity_id) > 0:
                raise business("This invoice has payments applied; it cannot be voided.", "Id")
            for line in stored.get("Line", []):
                line["Amount"] = Decimal(0)
                detail = line.get("SalesItemLineDetail")
                if detail is not None:
                    detail.pop("Qty", None)
                    detail.pop("UnitPrice", None)
            stored["TotalAmt"] = Decimal(0)
        else:
            self._apply_payment(realm, entity_id, current.get("_applied", {}), {})
            stored["_applied"] = {}
            for line in stored.get("Line", []):
                line["Amount"] = Decimal(0)
            stored["TotalAmt"] = Decimal(0)
        note = stored.get("PrivateNote")
        stored["PrivateNote"] = f"Voided - {note}" if note else "Voided"
        stored["_voided"] = True
        stored["SyncToken"] = str(int(current["SyncToken"]) + 1)
        stored["_updated"] = self._now()
        realm.entities[entity][entity_id] = stored
        return {entity: self.render(realm, entity, stored)}

    def _apply_payment(self, realm: Realm, payment_id: str, old: dict[str, Decimal], new: dict[str, Decimal]) -> None:
        now = self._now()
        for invoice_id in set(old) | set(new):
            before = old.get(invoice_id, Decimal(0))
            after = new.get(invoice_id, Decimal(0))
            bucket = realm.applied.setdefault(invoice_id, {})
            if after:
                bucket[payment_id] = after
            else:
                bucket.pop(payment_id, None)
            invoice = realm.get("Invoice", invoice_id)
            if invoice is not None and before != after:
                # The invoice's Balance changed: it is a new version (UNCONFIRMED but the strict reading).
                invoice["SyncToken"] = str(int(invoice["SyncToken"]) + 1)
                invoice["_updated"] = now

    # -- generic build helpers ------------------------------------------------------------------------------------
    def merge(self, entity: str, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool) -> dict[str, Any]:
        check_fields(entity, body)
        if current is None:
            merged: dict[str, Any] = {}
        elif sparse:
            merged = copy.deepcopy(current)
        else:  # full update: every writable field not sent is cleared
            merged = {k: copy.deepcopy(v) for k, v in current.items() if k.startswith("_") or k in ("Id", "SyncToken")}
        skip = COMMON_READONLY | READONLY[entity]
        for key, value in body.items():
            if key in skip:
                continue
            cleaned = _clean(value)
            if cleaned is None:
                merged.pop(key, None)
            else:
                merged[key] = cleaned
        for key in merged:
            if key.endswith("Ref") and key not in HANDLED_REFS[entity] and not key.startswith("_"):
                raise QboFault(
                    "2500",
                    "Invalid Reference Id",
                    f"Invalid Reference Id : {key} element id {_ref_value(merged[key])} not found "
                    "(the sandbox has no objects of that kind)",
                    key,
                )
        return merged

    def resolve(
        self, realm: Realm, merged: dict[str, Any], key: str, kind: str, *, required: bool = False
    ) -> dict[str, Any] | None:
        ref = merged.get(key)
        if ref is None:
            if required:
                raise missing_param(key)
            return None
        value = _ref_value(ref)
        if value is None:
            raise missing_param(f"{key}.value")
        stored = realm.get(kind, value)
        if stored is None:
            raise invalid_reference(kind, value, key)
        if stored.get("Active") is False:
            raise object_not_found(key)
        merged[key] = {"value": value}
        return stored

    def check_currency(self, merged: dict[str, Any]) -> None:
        if "CurrencyRef" in merged:
            if _ref_value(merged["CurrencyRef"]) != HOME_CURRENCY["value"]:
                raise business(
                    f"Currency {_ref_value(merged['CurrencyRef'])} is not the home currency and multicurrency is "
                    "off in this company.",
                    "CurrencyRef",
                )
            merged["CurrencyRef"] = {"value": HOME_CURRENCY["value"]}

    def check_tax_code(self, container: dict[str, Any], key: str) -> None:
        if key in container:
            value = _ref_value(container[key])
            if value not in TAX_CODES:
                raise invalid_reference("TaxCode", value, key)
            container[key] = {"value": value}

    def check_unique_name(self, realm: Realm, entity: str, key: str, name: str, own_id: str | None, label: str) -> None:
        existing = realm.find_by_name(entity, key, name)
        if existing is not None and existing["Id"] != own_id:
            raise QboFault(
                "6240",
                "Duplicate Name Exists Error",
                f"The name supplied already exists. : Another {label} is already using this name. "
                f"Please use a different name. Id={existing['Id']}",
                key,
            )

    def txn_date(self, merged: dict[str, Any]) -> None:
        if "TxnDate" not in merged:
            merged["TxnDate"] = datetime.fromtimestamp(self._now(), COMPANY_TZ).date().isoformat()

    # -- entity builders ------------------------------------------------------------------------------------------
    def build_customer(
        self, realm: Realm, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool, options: set[str]
    ) -> dict[str, Any]:
        m = self.merge("Customer", body, current, sparse)
        if not m.get("DisplayName"):
            derived = " ".join(str(m[k]) for k in CUSTOMER_NAME_FIELDS if m.get(k))
            if not derived:
                raise business(
                    "You must fill out at least one of the name fields: Title, GivenName, MiddleName, FamilyName, "
                    "Suffix or DisplayName.",
                    "DisplayName",
                )
            m["DisplayName"] = derived
        m["DisplayName"] = str(m["DisplayName"]).strip()
        for key in ("DisplayName", *CUSTOMER_NAME_FIELDS, "CompanyName", "PrintOnCheckName"):
            if ":" in str(m.get(key, "")):
                raise invalid_characters(key)
        if len(m["DisplayName"]) > DISPLAY_NAME_MAX:
            raise string_length("DisplayName", DISPLAY_NAME_MAX, len(m["DisplayName"]))
        own_id = current["Id"] if current else None
        self.check_unique_name(
            realm, "Customer", "DisplayName", m["DisplayName"], own_id, "customer, vendor or employee"
        )
        parent = self.resolve(realm, m, "ParentRef", "Customer")
        if parent is not None:
            if own_id is not None and self._customer_in_chain(realm, parent["Id"], own_id):
                raise business("A customer cannot be its own parent.", "ParentRef")
            m["Job"] = True
        else:
            m.pop("Job", None)
        self.check_currency(m)
        self.resolve(realm, m, "PaymentMethodRef", "PaymentMethod")
        self.resolve(realm, m, "ARAccountRef", "Account")
        self.check_tax_code(m, "DefaultTaxCodeRef")
        if m.get("Active") in ("false", False):
            m["Active"] = False
        else:
            m["Active"] = True
        return m

    def _customer_in_chain(self, realm: Realm, start_id: str, needle: str) -> bool:
        seen: set[str] = set()
        current: str | None = start_id
        while current is not None and current not in seen:
            if current == needle:
                return True
            seen.add(current)
            stored = realm.get("Customer", current)
            current = _ref_value(stored.get("ParentRef")) if stored else None
        return False

    def build_item(
        self, realm: Realm, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool, options: set[str]
    ) -> dict[str, Any]:
        m = self.merge("Item", body, current, sparse)
        name = m.get("Name")
        if not name:
            raise missing_param("Name")
        name = str(name).strip()
        m["Name"] = name
        if len(name) > ITEM_NAME_MAX:
            raise string_length("Name", ITEM_NAME_MAX, len(name))
        if ":" in name:
            raise invalid_characters("Name")
        self.check_unique_name(realm, "Item", "Name", name, current["Id"] if current else None, "product or service")
        item_type = m.get("Type")
        if not item_type:
            raise missing_param("Type")
        if item_type not in ITEM_TYPES:
            raise unsupported_operation(f"Item Type {item_type} (the sandbox supports {', '.join(ITEM_TYPES)})")
        if current is not None and current.get("Type") != item_type:
            raise business(f"An item's Type cannot be changed from {current.get('Type')} to {item_type}.", "Type")
        if item_type in ITEM_TYPES_NEEDING_INCOME_ACCOUNT and "IncomeAccountRef" not in m:
            raise QboFault(
                "2020",
                "Required param missing, need to supply the required value for the API",
                "Required parameter ExpenseAccountRef or IncomeAccountRef is missing in the request",
                "IncomeAccountRef",
            )
        self.resolve(realm, m, "IncomeAccountRef", "Account")
        if item_type == "Inventory":
            for key in ("AssetAccountRef", "ExpenseAccountRef", "QtyOnHand", "InvStartDate"):
                if key not in m:
                    raise missing_param(key)
            if m.get("TrackQtyOnHand") not in (True, "true"):
                raise business("Inventory items must have TrackQtyOnHand set to true.", "TrackQtyOnHand")
            m["TrackQtyOnHand"] = True
            m["QtyOnHand"] = to_decimal(m["QtyOnHand"])
        self.resolve(realm, m, "AssetAccountRef", "Account")
        self.resolve(realm, m, "ExpenseAccountRef", "Account")
        self.check_tax_code(m, "SalesTaxCodeRef")
        if "UnitPrice" in m:
            m["UnitPrice"] = to_decimal(m["UnitPrice"])
        m["Active"] = m.get("Active") not in (False, "false")
        return m

    def build_invoice(
        self, realm: Realm, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool, options: set[str]
    ) -> dict[str, Any]:
        m = self.merge("Invoice", body, current, sparse)
        self.resolve(realm, m, "CustomerRef", "Customer", required=True)
        self.check_currency(m)
        self.resolve(realm, m, "ARAccountRef", "Account")
        self.resolve(realm, m, "DepositToAccountRef", "Account")
        deposit = to_decimal(m.get("Deposit"))
        if deposit:
            raise unsupported_operation("Invoice Deposit (the sandbox does not model deposits)")
        m.pop("Deposit", None)
        self.txn_date(m)
        if "DueDate" not in m:
            m["DueDate"] = (date.fromisoformat(m["TxnDate"]) + timedelta(days=30)).isoformat()
        if date.fromisoformat(m["DueDate"]) < date.fromisoformat(m["TxnDate"]):
            raise business("DueDate cannot be earlier than TxnDate.", "DueDate")
        self._doc_number(realm, m, current, options)
        lines = m.get("Line")
        if not lines:
            raise business("You must fill out at least one split line.", "Line")
        m["Line"], total = self._invoice_lines(realm, lines, current)
        m["TotalAmt"] = total
        if current is not None:
            applied = realm.applied_total(current["Id"])
            if applied > total:
                raise business(
                    f"The invoice total {total} would be less than the {applied} already paid on it.", "Line"
                )
        return m

    def _doc_number(self, realm: Realm, m: dict[str, Any], current: dict[str, Any] | None, options: set[str]) -> None:
        doc = m.get("DocNumber")
        if doc in (None, "AUTO_GENERATE"):
            if current is not None and current.get("DocNumber") and doc is None:
                m["DocNumber"] = current["DocNumber"]
                return
            m["DocNumber"] = self._next_doc_number(realm)
            return
        doc = str(doc)
        m["DocNumber"] = doc
        if len(doc) > DOCNUMBER_MAX:
            raise string_length("DocNumber", DOCNUMBER_MAX, len(doc))
        changed = current is None or str(current.get("DocNumber", "")).casefold() != doc.casefold()
        if changed and realm.duplicate_docnumber_warning and "allowduplicatedocnum" not in options:
            own = current["Id"] if current else None
            for other in realm.entities["Invoice"].values():
                if other["Id"] != own and str(other.get("DocNumber", "")).casefold() == doc.casefold():
                    raise QboFault(
                        "6140",
                        "Duplicate Document Number Error",
                        "Duplicate Document Number Error : You must specify a different number. This number has "
                        f"already been used. DocNumber={doc} is assigned to TxnType=Invoice with TxnId={other['Id']}",
                        "DocNumber",
                    )

    def _next_doc_number(self, realm: Realm) -> str:
        used = {str(i.get("DocNumber", "")) for i in realm.entities["Invoice"].values()}
        while str(realm.next_doc_number) in used:
            realm.next_doc_number += 1
        value = str(realm.next_doc_number)
        realm.next_doc_number += 1
        return value

    def _invoice_lines(
        self, realm: Realm, lines: list[Any], current: dict[str, Any] | None
    ) -> tuple[list[dict[str, Any]], Decimal]:
        existing_ids = {str(line.get("Id")) for line in (current or {}).get("Line", [])}
        next_line = max([int(i) for i in existing_ids if i.isdigit()] + [0]) + 1
        out: list[dict[str, Any]] = []
        total = Decimal(0)
        for index, line in enumerate(lines):
            element = f"Line[{index}]"
            if not isinstance(line, dict):
                raise invalid_value("Invoice", element, "must be an object")
            detail_type = line.get("DetailType")
            if not detail_type:
                raise missing_param(f"{element}.DetailType")
            if detail_type not in ENUMS["LineDetailTypeEnum"]:
                raise invalid_value("Invoice", f"{element}.DetailType", f"value {detail_type!r} is not valid")
            if detail_type not in INVOICE_LINE_TYPES:
                raise unsupported_operation(f"Invoice line DetailType {detail_type} (sandbox)")
            if detail_type == "SubTotalLineDetail":
                continue  # recomputed by the service
            new_line: dict[str, Any] = {"DetailType": detail_type}
            if line.get("Description"):
                new_line["Description"] = str(line["Description"])
            line_id = str(line.get("Id")) if line.get("Id") not in (None, "") else None
            if line_id is not None and line_id in existing_ids:
                new_line["Id"] = line_id
            else:
                new_line["Id"] = str(next_line)
                next_line += 1
            if detail_type == "DescriptionOnly":
                amount = to_decimal(line.get("Amount"))
                if amount:
                    raise business("A DescriptionOnly line cannot carry an amount.", f"{element}.Amount")
                new_line["DescriptionLineDetail"] = line.get("DescriptionLineDetail") or {}
                out.append(new_line)
                continue
            detail = line.get("SalesItemLineDetail")
            if not isinstance(detail, dict):
                raise missing_param(f"{element}.SalesItemLineDetail")
            item_holder = {"ItemRef": detail.get("ItemRef")}
            item = self.resolve(realm, item_holder, "ItemRef", "Item", required=True)
            assert item is not None
            amount = to_decimal(line.get("Amount"))
            if amount is None:
                raise missing_param(f"{element}.Amount")
            amount = money(amount)
            qty = to_decimal(detail.get("Qty"))
            price = to_decimal(detail.get("UnitPrice"))
            if qty is not None and price is not None and (qty or price) and money(qty * price) != amount:
                raise QboFault(
                    "6070",
                    "Business Validation Error",
                    f"Amount is not equal to UnitPrice * Qty. Supplied value:{amount}",
                    f"{element}.Amount",
                )
            new_detail: dict[str, Any] = {"ItemRef": item_holder["ItemRef"]}
            if qty is not None:
                new_detail["Qty"] = qty
            if price is not None:
                new_detail["UnitPrice"] = price
            if detail.get("ServiceDate"):
                new_detail["ServiceDate"] = detail["ServiceDate"]
            if detail.get("TaxCodeRef"):
                new_detail["TaxCodeRef"] = detail["TaxCodeRef"]
                self.check_tax_code(new_detail, "TaxCodeRef")
            income = _ref_value(item.get("IncomeAccountRef"))
            if income:
                new_detail["ItemAccountRef"] = {"value": income}
            for key in detail:
                if key.endswith("Ref") and key not in ("ItemRef", "TaxCodeRef", "ItemAccountRef"):
                    raise QboFault(
                        "2500",
                        "Invalid Reference Id",
                        f"Invalid Reference Id : {key} element id {_ref_value(detail[key])} not found "
                        "(the sandbox has no objects of that kind)",
                        f"{element}.SalesItemLineDetail.{key}",
                    )
            new_line["Amount"] = amount
            new_line["SalesItemLineDetail"] = new_detail
            total += amount
            out.append(new_line)
        if not any(line["DetailType"] == "SalesItemLineDetail" for line in out):
            raise business("You must fill out at least one split line.", "Line")
        return out, money(total)

    def build_payment(
        self, realm: Realm, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool, options: set[str]
    ) -> dict[str, Any]:
        m = self.merge("Payment", body, current, sparse)
        customer = self.resolve(realm, m, "CustomerRef", "Customer", required=True)
        assert customer is not None
        self.check_currency(m)
        total = to_decimal(m.get("TotalAmt"))
        if total is None:
            raise missing_param("TotalAmt")
        if total < 0:
            raise business("TotalAmt cannot be negative.", "TotalAmt")
        m["TotalAmt"] = money(total)
        self.txn_date(m)
        self.resolve(realm, m, "PaymentMethodRef", "PaymentMethod")
        if "DepositToAccountRef" not in m:
            m["DepositToAccountRef"] = {"value": realm.account_named("Undeposited Funds")["Id"]}
        self.resolve(realm, m, "DepositToAccountRef", "Account")
        if "ARAccountRef" not in m:
            m["ARAccountRef"] = {"value": realm.account_named("Accounts Receivable (A/R)")["Id"]}
        self.resolve(realm, m, "ARAccountRef", "Account")
        payment_id = current["Id"] if current else None
        applied: dict[str, Decimal] = {}
        new_lines: list[dict[str, Any]] = []
        for index, line in enumerate(m.get("Line", [])):
            element = f"Line[{index}]"
            if not isinstance(line, dict):
                raise invalid_value("Payment", element, "must be an object")
            check_fields("Line", line, "Payment")
            amount = to_decimal(line.get("Amount"))
            if amount is None:
                raise missing_param(f"{element}.Amount")
            amount = money(amount)
            if amount <= 0:
                raise business("A payment line amount must be greater than zero.", f"{element}.Amount")
            links = line.get("LinkedTxn") or []
            if len(links) != 1:
                raise business("Each payment line must link exactly one transaction.", f"{element}.LinkedTxn")
            link = links[0]
            txn_type = link.get("TxnType")
            txn_id = str(link.get("TxnId", ""))
            if not txn_type:
                raise missing_param(f"{element}.LinkedTxn.TxnType")
            if txn_type != "Invoice":
                raise unsupported_operation(f"Payment linked to {txn_type} (the sandbox links invoices only)")
            invoice = realm.get("Invoice", txn_id)
            if invoice is None:
                raise invalid_reference("Invoice", txn_id, f"{element}.LinkedTxn.TxnId")
            if _ref_value(invoice.get("CustomerRef")) != customer["Id"]:
                raise business(
                    f"Invoice {txn_id} belongs to another customer than the payment.", f"{element}.LinkedTxn"
                )
            applied[txn_id] = applied.get(txn_id, Decimal(0)) + amount
            new_lines.append({"Amount": amount, "LinkedTxn": [{"TxnId": txn_id, "TxnType": "Invoice"}]})
        applied_total = sum(applied.values(), Decimal(0))
        if applied_total > m["TotalAmt"]:
            raise business(
                f"The amount applied to invoices ({applied_total}) is more than the payment total ({m['TotalAmt']}).",
                "TotalAmt",
            )
        for invoice_id, amount in applied.items():
            invoice = realm.get("Invoice", invoice_id)
            assert invoice is not None
            open_balance = invoice["TotalAmt"] - realm.applied_total(invoice_id, excluding_payment=payment_id)
            if amount > open_balance:
                raise business(
                    f"The amount applied to invoice {invoice_id} ({amount}) exceeds its open balance ({open_balance}). "
                    "(QuickBooks would keep the excess as an unapplied credit; the sandbox rejects it.)",
                    "Line",
                )
        if new_lines:
            m["Line"] = new_lines
        else:
            m.pop("Line", None)
        m["_applied"] = applied
        return m

    def build_account(
        self, realm: Realm, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool, options: set[str]
    ) -> dict[str, Any]:
        m = self.merge("Account", body, current, sparse)
        name = m.get("Name")
        if not name:
            raise missing_param("Name")
        m["Name"] = name = str(name).strip()
        if ":" in name:
            raise invalid_characters("Name")
        if len(name) > ITEM_NAME_MAX:
            raise string_length("Name", ITEM_NAME_MAX, len(name))
        self.check_unique_name(realm, "Account", "Name", name, current["Id"] if current else None, "account")
        account_type = m.get("AccountType")
        if not account_type:
            raise missing_param("AccountType")
        if account_type not in ACCOUNT_CLASSIFICATION:
            raise unsupported_operation(f"AccountType {account_type} (sandbox)")
        m.setdefault("AccountSubType", DEFAULT_ACCOUNT_SUBTYPE[account_type])
        self.resolve(realm, m, "ParentRef", "Account")
        self.check_currency(m)
        m["Active"] = m.get("Active") not in (False, "false")
        return m

    def build_payment_method(
        self, realm: Realm, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool, options: set[str]
    ) -> dict[str, Any]:
        m = self.merge("PaymentMethod", body, current, sparse)
        name = m.get("Name")
        if not name:
            raise missing_param("Name")
        m["Name"] = name = str(name).strip()
        if len(name) > 31:
            raise string_length("Name", 31, len(name))
        self.check_unique_name(
            realm, "PaymentMethod", "Name", name, current["Id"] if current else None, "payment method"
        )
        method_type = m.setdefault("Type", "NON_CREDIT_CARD")
        if method_type not in PAYMENT_METHOD_TYPES:
            raise invalid_value("PaymentMethod", "Type", f"must be one of {list(PAYMENT_METHOD_TYPES)}")
        m["Active"] = m.get("Active") not in (False, "false")
        return m

    def build_company_info(
        self, realm: Realm, body: dict[str, Any], current: dict[str, Any] | None, sparse: bool, options: set[str]
    ) -> dict[str, Any]:
        if not sparse:
            raise unsupported_operation("full update of CompanyInfo (the sandbox accepts sparse updates)")
        m = self.merge("CompanyInfo", body, current, sparse)
        if not m.get("CompanyName"):
            raise missing_param("CompanyName")
        realm.company_name = str(m["CompanyName"])
        return m

    # -- rendering -------------------------------------------------------------------------------------------------
    def _named_ref(self, realm: Realm, kind: str, ref: Any) -> dict[str, Any] | None:
        value = _ref_value(ref)
        if value is None:
            return None
        stored = realm.get(kind, value)
        if stored is None:
            return {"value": value}
        name_key = {"Customer": "DisplayName", "Invoice": "DocNumber"}.get(kind, "Name")
        return {"value": value, "name": self._fqn(realm, stored) if kind == "Customer" else stored.get(name_key, "")}

    def _fqn(self, realm: Realm, customer: dict[str, Any]) -> str:
        names = [str(customer.get("DisplayName", ""))]
        seen = {customer["Id"]}
        parent_id = _ref_value(customer.get("ParentRef"))
        while parent_id and parent_id not in seen:
            parent = realm.get("Customer", parent_id)
            if parent is None:
                break
            seen.add(parent_id)
            names.insert(0, str(parent.get("DisplayName", "")))
            parent_id = _ref_value(parent.get("ParentRef"))
        return ":".join(names)

    def invoice_balance(self, realm: Realm, invoice: dict[str, Any]) -> Decimal:
        return money(invoice["TotalAmt"] - realm.applied_total(invoice["Id"]))

    def payment_unapplied(self, payment: dict[str, Any]) -> Decimal:
        return money(payment["TotalAmt"] - sum(payment.get("_applied", {}).values(), Decimal(0)))

    def customer_balance(self, realm: Realm, customer_id: str) -> Decimal:
        owed = sum(
            (
                self.invoice_balance(realm, i)
                for i in realm.entities["Invoice"].values()
                if _ref_value(i.get("CustomerRef")) == customer_id
            ),
            Decimal(0),
        )
        credit = sum(
            (
                self.payment_unapplied(p)
                for p in realm.entities["Payment"].values()
                if _ref_value(p.get("CustomerRef")) == customer_id
            ),
            Decimal(0),
        )
        return money(owed - credit)

    def render(self, realm: Realm, entity: str, stored: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {k: copy.deepcopy(v) for k, v in stored.items() if not k.startswith("_")}
        out["domain"] = "QBO"
        out["sparse"] = False
        out["MetaData"] = {"CreateTime": fmt_meta(stored["_created"]), "LastUpdatedTime": fmt_meta(stored["_updated"])}
        if entity == "Customer":
            out["FullyQualifiedName"] = self._fqn(realm, stored)
            balance = self.customer_balance(realm, stored["Id"])
            out["Balance"] = balance
            out["BalanceWithJobs"] = balance
            out["CurrencyRef"] = dict(HOME_CURRENCY)
            out.setdefault("PrintOnCheckName", stored.get("DisplayName", ""))
            out["Job"] = bool(stored.get("ParentRef"))
            if stored.get("ParentRef"):
                out["ParentRef"] = self._named_ref(realm, "Customer", stored["ParentRef"])
                out["Level"] = self._fqn(realm, stored).count(":")
            for key, kind in (("PaymentMethodRef", "PaymentMethod"), ("ARAccountRef", "Account")):
                if key in out:
                    out[key] = self._named_ref(realm, kind, stored[key])
        elif entity == "Item":
            out["FullyQualifiedName"] = stored["Name"]
            out.setdefault("UnitPrice", Decimal(0))
            out.setdefault("Taxable", False)
            out.setdefault("TrackQtyOnHand", False)
            for key in ("IncomeAccountRef", "AssetAccountRef", "ExpenseAccountRef"):
                if key in out:
                    out[key] = self._named_ref(realm, "Account", stored[key])
        elif entity == "Invoice":
            out["CustomerRef"] = self._named_ref(realm, "Customer", stored["CustomerRef"])
            out["CurrencyRef"] = dict(HOME_CURRENCY)
            lines = []
            for number, line in enumerate(out.get("Line", []), start=1):
                line["LineNum"] = number
                detail = line.get("SalesItemLineDetail")
                if detail is not None:
                    detail["ItemRef"] = self._named_ref(realm, "Item", detail["ItemRef"])
                    if "ItemAccountRef" in detail:
                        detail["ItemAccountRef"] = self._named_ref(realm, "Account", detail["ItemAccountRef"])
                lines.append(line)
            lines.append({"Amount": stored["TotalAmt"], "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
            out["Line"] = lines
            out["TotalAmt"] = stored["TotalAmt"]
            out["Balance"] = self.invoice_balance(realm, stored)
            out["TxnTaxDetail"] = {"TotalTax": Decimal(0)}
            out.setdefault("PrintStatus", "NotSet")
            out.setdefault("EmailStatus", "NotSet")
            links = [
                {"TxnId": pid, "TxnType": "Payment"} for pid in sorted(realm.applied.get(stored["Id"], {}), key=int)
            ]
            if links:
                out["LinkedTxn"] = links
            for key in ("ARAccountRef", "DepositToAccountRef"):
                if key in out:
                    out[key] = self._named_ref(realm, "Account", stored[key])
        elif entity == "Payment":
            out["CustomerRef"] = self._named_ref(realm, "Customer", stored["CustomerRef"])
            out["CurrencyRef"] = dict(HOME_CURRENCY)
            out["UnappliedAmt"] = self.payment_unapplied(stored)
            out.setdefault("Line", [])
            for key, kind in (
                ("PaymentMethodRef", "PaymentMethod"),
                ("DepositToAccountRef", "Account"),
                ("ARAccountRef", "Account"),
            ):
                if key in out:
                    out[key] = self._named_ref(realm, kind, stored[key])
        elif entity == "Account":
            out["Classification"] = ACCOUNT_CLASSIFICATION[stored["AccountType"]]
            out["FullyQualifiedName"] = stored["Name"]
            out["SubAccount"] = bool(stored.get("ParentRef"))
            out["CurrentBalance"] = Decimal(0)
            out["CurrentBalanceWithSubAccounts"] = Decimal(0)
            out["CurrencyRef"] = dict(HOME_CURRENCY)
        elif entity == "CompanyInfo":
            out["Country"] = "US"
            out["SupportedLanguages"] = "en"
            out["DefaultTimeZone"] = "America/Los_Angeles"
            out["CompanyStartDate"] = datetime.fromtimestamp(realm.created_at, COMPANY_TZ).date().isoformat()
        return out

    # -- query ------------------------------------------------------------------------------------------------------
    def _query_endpoint(self, req: SandboxRequest, realm: Realm) -> Response:
        if req.method == "GET":
            text = req.query.get("query")
            if not text:
                raise QboFault("4000", "Error parsing query", "QueryParserError: the query parameter is missing.")
        else:
            if req.content_type != "application/text":
                raise QboFault(
                    "415",
                    "Unsupported Media Type",
                    "POST /query takes the statement as Content-Type application/text",
                    status=415,
                )
            text = req.body.decode("utf-8")
        return self._json(self._envelope({"QueryResponse": self._run_query(realm, text)}))

    def _run_query(self, realm: Realm, text: Any) -> dict[str, Any]:
        if not isinstance(text, str) or not text.strip():
            raise QboFault("4000", "Error parsing query", "QueryParserError: empty query.")
        try:
            query = parse_query(text)
        except QueryError as exc:
            code, message = ("4000", "Error parsing query") if exc.kind == "parse" else ("4001", "Invalid query")
            raise QboFault(code, message, exc.detail) from exc
        entity = _canonical(query.entity, ENTITY_NAMES)
        if entity is None:
            raise QboFault("4001", "Invalid query", f"QueryValidationError: Entity {query.entity} is not supported.")
        fields = {f.lower(): f for f in QUERYABLE[entity]}
        conditions: list[tuple[str, Condition, list[Any]]] = []
        for cond in query.where:
            name = fields.get(cond.field.lower())
            if name is None:
                raise QboFault(
                    "4001", "Invalid query", f"QueryValidationError: property '{cond.field}' is not queryable"
                )
            kind = _field_kind(entity, name)
            expected = (
                [] if cond.op == "like" else [_coerce(kind, _literal_value(v), literal=True) for v in cond.values]
            )
            conditions.append((name, cond, expected))
        order = []
        for field_name, descending in query.order:
            name = fields.get(field_name.lower())
            if name is None:
                raise QboFault(
                    "4001", "Invalid query", f"QueryValidationError: property '{field_name}' is not sortable"
                )
            order.append((name, descending))
        projection = None
        if query.projection is not None:
            allowed = {f.lower(): f for f in FIELDS[entity]}
            projection = []
            for name in query.projection:
                canonical = allowed.get(name.lower())
                if canonical is None:
                    raise QboFault("4001", "Invalid query", f"QueryValidationError: property '{name}' is not valid")
                projection.append(canonical)
        rows = [self.render(realm, entity, s) for s in realm.entities[entity].values()]
        if entity in NAME_LIST and not any(name == "Active" for name, _, _ in conditions):
            rows = [r for r in rows if r.get("Active", True)]
        for name, cond, expected in conditions:
            rows = [r for r in rows if _matches(entity, r, name, cond, expected)]
        if query.count:
            return {"totalCount": len(rows)}
        rows.sort(key=lambda r: int(r["Id"]))
        for name, descending in reversed(order):
            rows.sort(key=functools.partial(_sort_key, entity, name), reverse=descending)
        page = rows[query.start_position - 1 : query.start_position - 1 + query.max_results]
        if not page:
            return {}
        if projection is not None:
            page = [{k: r[k] for k in ["Id", *projection] if k in r} for r in page]
        return {entity: page, "startPosition": query.start_position, "maxResults": len(page)}

    # -- change data capture ---------------------------------------------------------------------------------------
    def _cdc(self, realm: Realm, req: SandboxRequest) -> dict[str, Any]:
        raw_entities = req.query.get("entities", "")
        if not raw_entities:
            raise missing_param("entities")
        entities = []
        for raw in raw_entities.split(","):
            entity = _canonical(raw.strip(), ENTITY_NAMES)
            if entity is None:
                raise QboFault(
                    "2010",
                    "Request has invalid or unsupported property",
                    f"CDC does not support entity {raw!r}",
                    "entities",
                )
            if entity not in entities:
                entities.append(entity)
        raw_since = req.query.get("changedSince")
        if not raw_since:
            raise missing_param("changedSince")
        since = parse_datetime(raw_since)
        if since is None:
            raise invalid_value("CDC", "changedSince", f"cannot parse {raw_since!r} as a date-time")
        now = self._now()
        if since < now - CDC_LOOKBACK_DAYS * 86_400:
            raise business(f"changedSince cannot be more than {CDC_LOOKBACK_DAYS} days in the past.", "changedSince")
        changes: list[tuple[float, int, str, dict[str, Any]]] = []
        for entity in entities:
            for stored in realm.entities[entity].values():
                if int(stored["_updated"]) >= int(since):
                    changes.append((stored["_updated"], int(stored["Id"]), entity, self.render(realm, entity, stored)))
            for entity_id, deleted_at in realm.deleted[entity].items():
                if int(deleted_at) >= int(since):
                    changes.append(
                        (
                            deleted_at,
                            int(entity_id),
                            entity,
                            {
                                "domain": "QBO",
                                "status": ENTITY_STATUS_DELETED,
                                "Id": entity_id,
                                "MetaData": {"LastUpdatedTime": fmt_meta(deleted_at)},
                            },
                        )
                    )
        changes.sort(key=lambda c: (c[0], c[1]))
        changes = changes[:CDC_MAX_OBJECTS]
        responses = []
        for entity in entities:
            rows = [c[3] for c in changes if c[2] == entity]
            responses.append(
                {entity: rows, "startPosition": 1, "maxResults": len(rows), "totalCount": len(rows)} if rows else {}
            )
        return {"CDCResponse": [{"QueryResponse": responses}]}

    # -- batch -----------------------------------------------------------------------------------------------------
    def _batch_endpoint(self, req: SandboxRequest, realm: Realm) -> Response:
        try:
            body = self._json_body(req, "IntuitBatchRequest")
            unknown = set(body) - {"BatchItemRequest"}
            if unknown:
                raise unsupported_property("IntuitBatchRequest", sorted(unknown)[0])
            items = body.get("BatchItemRequest")
            if not isinstance(items, list) or not items:
                raise missing_param("BatchItemRequest")
            if len(items) > self.config.max_batch_items:
                raise business(
                    f"A batch can carry at most {self.config.max_batch_items} items; {len(items)} were sent.",
                    "BatchItemRequest",
                )
            if not realm.batch_window.try_add(self._now(), self.config.batch_per_minute):
                raise throttled(
                    f"The batch limit was reached ({self.config.batch_per_minute} batch requests per minute)."
                )
            bids = [item.get("bId") if isinstance(item, dict) else None for item in items]
            if any(not b for b in bids) or len(set(bids)) != len(bids):
                raise business("Every batch item needs a unique bId.", "bId")
            if any(len(str(b)) > BATCH_BID_MAX for b in bids):  # QB.md §4: each bId at most 10 characters
                raise business(f"A bId is at most {BATCH_BID_MAX} characters.", "bId")
        except QboFault as fault:
            return self._fault(fault)
        results = []
        for item in items:
            bid = item["bId"]
            try:
                results.append({"bId": bid, **self._batch_item(realm, item)})
            except QboFault as fault:
                results.append({"bId": bid, "Fault": fault.fault_json()})
        return self._json(self._envelope({"BatchItemResponse": results}))

    def _batch_item(self, realm: Realm, item: dict[str, Any]) -> dict[str, Any]:
        keys = set(item) - {"bId", "operation", "optionsData"}
        if keys == {"Query"}:
            return {"QueryResponse": self._run_query(realm, item["Query"])}
        entity_keys = [k for k in keys if k in ENTITY_NAMES]
        if len(keys) != 1 or len(entity_keys) != 1:
            bad = sorted(keys - set(ENTITY_NAMES) - {"Query"}) or sorted(keys)
            raise unsupported_property("BatchItemRequest", bad[0] if bad else "(none)")
        entity = entity_keys[0]
        body = item[entity]
        if not isinstance(body, dict):
            raise invalid_value("BatchItemRequest", entity, "must be an object")
        operation = item.get("operation", "create")
        if operation not in ("create", "update", "delete"):
            raise unsupported_operation(f"{operation} in a batch")
        options = {o.strip().lower() for o in str(item.get("optionsData") or "").split(",") if o.strip()}
        if operation == "update" and "void" in options:
            return self._void(realm, entity, body)
        return self._write(realm, entity, body, operation, options)


BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "Customer": QuickBooksSandbox.build_customer,
    "Item": QuickBooksSandbox.build_item,
    "Invoice": QuickBooksSandbox.build_invoice,
    "Payment": QuickBooksSandbox.build_payment,
    "Account": QuickBooksSandbox.build_account,
    "PaymentMethod": QuickBooksSandbox.build_payment_method,
    "CompanyInfo": QuickBooksSandbox.build_company_info,
}


# ---------------------------------------------------------------------------------------------------------------
# Query evaluation helpers
# ---------------------------------------------------------------------------------------------------------------
def _canonical(name: str, names: tuple[str, ...]) -> str | None:
    for candidate in names:
        if candidate.lower() == name.lower():
            return candidate
    return None


def _field_kind(entity: str, name: str) -> str:
    if name.startswith("MetaData."):
        return "dateTime"
    if name == "Id":
        return "id"
    kind = FIELDS[entity].get(name, "string")
    if kind == "ReferenceType" or name == "PrimaryEmailAddr":
        return "string"
    return "string" if kind.startswith("enum:") else kind


def _raw_value(row: dict[str, Any], name: str) -> Any:
    if name.startswith("MetaData."):
        return row.get("MetaData", {}).get(name.split(".", 1)[1])
    value = row.get(name)
    if name == "PrimaryEmailAddr":
        return value.get("Address") if isinstance(value, dict) else None
    if isinstance(value, dict):
        return value.get("value")
    return value


def _coerce(kind: str, value: Any, *, literal: bool) -> Any:
    """Turn a row value or a literal into something comparable for the field kind (raises QboFault on literals)."""
    if value is None:
        return None
    try:
        if kind == "decimal":
            result = to_decimal(value)
            if result is None:
                raise ValueError
            return result
        if kind == "boolean":
            if isinstance(value, bool):
                return value
            if str(value).lower() in ("true", "false"):
                return str(value).lower() == "true"
            raise ValueError
        if kind == "int":
            return int(value)
        if kind == "date":
            return date.fromisoformat(str(value))
        if kind == "dateTime":
            parsed = parse_datetime(str(value))
            if parsed is None:
                raise ValueError
            return int(parsed)
        if kind == "id":
            return str(value)
        return str(value)
    except (ValueError, TypeError) as exc:
        if literal:
            raise QboFault("4001", "Invalid query", f"QueryValidationError: {value!r} is not a valid {kind}") from exc
        return None


def _literal_value(lit: Literal) -> Any:
    if lit.kind == "bool":
        return lit.value
    return str(lit.value) if lit.kind == "number" else lit.value


_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


def _matches(entity: str, row: dict[str, Any], name: str, cond: Condition, expected: list[Any]) -> bool:
    kind = _field_kind(entity, name)
    actual = _coerce(kind, _raw_value(row, name), literal=False)
    if kind == "boolean" and actual is None:
        actual = False
    if cond.op == "like":
        if actual is None:
            return False
        return like_to_regex(str(cond.values[0].value)).match(str(actual)) is not None
    if actual is None:
        return False
    if cond.op == "in":
        return actual in expected
    target = expected[0]
    if kind == "id" and cond.op != "=":
        actual, target = int(actual), int(target) if str(target).isdigit() else target
    try:
        return bool(_COMPARISONS[cond.op](actual, target))
    except TypeError as exc:
        raise QboFault("4001", "Invalid query", f"QueryValidationError: cannot compare {name}") from exc


def _sort_key(entity: str, name: str, row: dict[str, Any]) -> tuple[int, Any]:
    kind = _field_kind(entity, name)
    value = _coerce(kind, _raw_value(row, name), literal=False)
    if value is None:
        return (1, "")
    if kind == "id":
        return (0, int(value))
    if isinstance(value, str):
        return (0, value.casefold())
    return (0, value)


def _by_id(rows: Any) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: int(r["Id"]))


def _error_page(status: int, error: str, description: str) -> Response:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


__all__ = ["DEFAULT_CLIENT_ID", "DEFAULT_CLIENT_SECRET", "QboFault", "QuickBooksSandbox"]
