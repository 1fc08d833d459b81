"""FreshBooks accounting API adapter of the sync engine's port.

Wire rules followed (../shared/providers/freshbooks.md): ``/accounting/account/{account_id}/<resource>``; bodies wrap
the object in its singular name; money is ``{"amount": "12.50", "code": "USD"}`` with a decimal string; lists page
with ``page``/``per_page`` (≤ 100) and filter with ``search[...]``; errors come in three envelopes.

FreshBooks has **no idempotency keys** (``capabilities.idempotency_keys = False``): the engine claims every create
and looks before it creates, so every ``find_*`` here must find what an earlier, unanswered create left behind:
invoices by ``invoice_number`` (+ our marker in ``notes``), payments by the marker in ``note``, clients by
organization, items by name. A ``find_*`` therefore never trusts a server-side filter alone: it pages through every
candidate and compares on our side.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from booksync.catalog.models import Address, Customer, Item
from booksync.config import provider_url
from booksync.invoicing.models import Invoice, Payment, PaymentMethod
from booksync.providers.http import retry_after_or_none
from booksync.providers.send import authorized_request
from booksync.sync.ports import (
    Account,
    Capabilities,
    DuplicateNumber,
    LineRef,
    NotFoundUpstream,
    RateLimited,
    Ref,
    Rejected,
    Session,
    Unauthorized,
    Unavailable,
    invoice_marker,
    payment_marker,
)

CURRENCY = "USD"  # BlueClerk amounts carry no currency; the service runs for US companies
PER_PAGE = 100  # FreshBooks' cap
MAX_PAGES = 200  # 20,000 objects scanned at most by one lookup
CENT = Decimal("0.01")
NAME_LIMIT = 100  # sandbox/assumed limit for names we write (FreshBooks publishes none)
# BlueClerk method -> payment `type` (providers/freshbooks.md section 3; "Cash"/"Other" as the web app offers)
PAYMENT_TYPES = {
    PaymentMethod.CASH: "Cash",
    PaymentMethod.CHECK: "Check",
    PaymentMethod.CARD: "Credit Card",
    PaymentMethod.ACH: "ACH",
    PaymentMethod.OTHER: "Other",
}
NOT_FOUND_ERRNOS = {1011, 1012}  # DeletedResource, UnknownResource


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def _name(text: str) -> str:
    return text.strip()[:NAME_LIMIT]


def _address(prefix: str, a: Address | None) -> dict[str, str]:
    if a is None:
        return {}
    out = {
        f"{prefix}_street": a.line1,
        f"{prefix}_street2": a.line2,
        f"{prefix}_city": a.city,
        f"{prefix}_province": a.region,
        f"{prefix}_code": a.postal_code,
        f"{prefix}_country": a.country,
    }
    return {k: v for k, v in out.items() if v}


class FreshBooksAccounting:
    name = "freshbooks"
    capabilities = Capabilities(idempotency_keys=False, idempotency_key_max=0)

    def __init__(self, api_base: str | None = None, http: httpx.Client | None = None) -> None:
        self.api_base = (api_base or provider_url("FRESHBOOKS_API_URL")).rstrip("/")
        self._http = http
        self._lock = threading.Lock()
        self._item_names: dict[tuple[str, str], str] = {}
        self._business_uuids: dict[str, tuple[float, str]] = {}
        self.round_trips = 0

    # ---- port ---------------------------------------------------------------------------------------------------
    def income_accounts(self, s: Session) -> list[Account]:
        """Income ledger accounts (chart of accounts). FreshBooks lines carry no account: see the provider doc."""
        uuid = self._business_uuid(s)
        data = self._send(s, "GET", f"{self.api_base}/accounting/businesses/{uuid}/ledger_accounts/accounts")
        rows = data.get("data") or []
        return [
            Account(id=str(r["uuid"]), name=str(r.get("name", "")), type="Income")
            for r in rows
            if str(r.get("type", "")).lower() == "income" and r.get("state", "active") == "active"
        ]

    def find_customer(self, s: Session, customer: Customer) -> Ref | None:
        wanted = _name(customer.name)
        for row in self._list(s, "users/clients", "clients", {"search[organization_like]": wanted}):
            full = f"{row.get('fname') or ''} {row.get('lname') or ''}"
            if _same(row.get("organization"), wanted) or (not row.get("organization") and _same(full, wanted)):
                return Ref(id=str(row["id"]))
        return None

    def create_customer(self, s: Session, customer: Customer, key: str) -> Ref:
        row = self._write(s, "POST", "users/clients", "client", self._client_body(customer))
        return Ref(id=str(row["id"]))

    def update_customer(self, s: Session, ref: Ref, customer: Customer) -> Ref:
        row = self._write(s, "PUT", f"users/clients/{ref.id}", "client", self._client_body(customer))
        return Ref(id=str(row["id"]))

    def find_item(self, s: Session, item: Item) -> Ref | None:
        wanted = _name(item.name)
        for row in self._list(s, "items/items", "items", {"search[name]": wanted}):
            if _same(row.get("name"), wanted):
                return self._item_ref(s, row)
        return None

    def create_item(self, s: Session, item: Item, account_id: str, key: str) -> Ref:
        return self._item_ref(s, self._write(s, "POST", "items/items", "item", self._item_body(item)))

    def update_item(self, s: Session, ref: Ref, item: Item, account_id: str) -> Ref:
        return self._item_ref(s, self._write(s, "PUT", f"items/items/{ref.id}", "item", self._item_body(item)))

    def find_invoice(self, s: Session, number: str) -> Ref | None:
        for row in self._list(s, "invoices/invoices", "invoices", {"search[invoice_number]": number}):
            if (row.get("invoice_number") or "").strip() == number.strip():
                return self._invoice_ref(row)
        return None

    def get_invoice(self, s: Session, ref: Ref) -> Ref:
        return self._invoice_ref(self._read(s, f"invoices/invoices/{ref.id}", "invoice"))

    def create_invoice(self, s: Session, invoice: Invoice, customer: Ref, lines: list[LineRef], key: str) -> Ref:
        body = self._invoice_body(s, invoice, customer, lines) | {"action_mark_as_sent": True}
        return self._invoice_ref(self._write(s, "POST", "invoices/invoices", "invoice", body))

    def update_invoice(
        self, s: Session, ref: Ref, invoice: Invoice, customer: Ref, lines: list[LineRef], key: str
    ) -> Ref:
        body = self._invoice_body(s, invoice, customer, lines)  # lines: the full set (replaces FreshBooks' lines)
        return self._invoice_ref(self._write(s, "PUT", f"invoices/invoices/{ref.id}", "invoice", body))

    def find_payment(self, s: Session, payment: Payment, invoice: Ref) -> Ref | None:
        marker = payment_marker(payment.id)
        for row in self._list(s, "payments/payments", "payments", {"search[invoiceid]": invoice.id}):
            if str(row.get("invoiceid")) == str(invoice.id) and marker in (row.get("note") or ""):
                return Ref(id=str(row["id"]), marker=row.get("note"))
        return None

    def deposit_accounts(self, s: Session) -> list[Account]:
        """FreshBooks payments carry no deposit account (freshbooks.md): nothing to map, no call."""
        return []

    def create_payment(
        self, s: Session, payment: Payment, invoice: Ref, customer: Ref, key: str, account_id: str | None = None
    ) -> Ref:
        """``account_id`` is ignored: a FreshBooks payment has no deposit account."""
        note = payment_marker(payment.id)
        if payment.reference:
            note += f" (ref {payment.reference})"
        body = {
            "invoiceid": int(invoice.id),
            "amount": {"amount": _money(payment.amount), "code": CURRENCY},
            "date": payment.date.isoformat(),
            "type": PAYMENT_TYPES[payment.method],
            "note": note,
        }
        row = self._write(s, "POST", "payments/payments", "payment", body)
        return Ref(id=str(row["id"]), marker=row.get("note"))

    # ---- payloads -----------------------------------------------------------------------------------------------
    @staticmethod
    def _client_body(c: Customer) -> dict[str, Any]:
        body: dict[str, Any] = {"organization": _name(c.name)}
        if c.given_name:
            body["fname"] = c.given_name[:NAME_LIMIT]
        if c.family_name:
            body["lname"] = c.family_name[:NAME_LIMIT]
        if c.email:
            body["email"] = c.email
        if c.phone:
            body["bus_phone"] = c.phone
        body.update(_address("p", c.billing_address))
        body.update(_address("s", c.shipping_address))
        return body

    @staticmethod
    def _item_body(item: Item) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": _name(item.name),
            "unit_cost": {"amount": _money(item.price), "code": CURRENCY},
            "qty": "1",
        }
        if item.description:
            body["description"] = item.description
        if item.sku:
            body["sku"] = item.sku
        return body

    def _invoice_body(self, s: Session, invoice: Invoice, customer: Ref, lines: list[LineRef]) -> dict[str, Any]:
        issued = invoice.issue_date or date.today()
        body: dict[str, Any] = {
            "customerid": int(customer.id),
            "create_date": issued.isoformat(),
            "invoice_number": invoice.number,
            "currency_code": CURRENCY,
            "notes": invoice_marker(invoice.id),
            "lines": [
                {
                    "type": 0,
                    "name": self._item_name(s, line.item.id) or line.description,
                    "description": line.description,
                    "qty": str(line.quantity),
                    "unit_cost": {"amount": _money(line.unit_price), "code": CURRENCY},
                }
                for line in lines
            ],
        }
        if invoice.due_date:
            body["due_offset_days"] = max(0, (invoice.due_date - issued).days)
        return body

    def _item_ref(self, s: Session, row: dict[str, Any]) -> Ref:
        with self._lock:
            self._item_names[(s.tenant_id, str(row["id"]))] = str(row.get("name") or "")
        return Ref(id=str(row["id"]))

    def _item_name(self, s: Session, item_id: str) -> str:
        """Lines are free text in FreshBooks: the line's name is the item's name (read once, then cached)."""
        with self._lock:
            cached = self._item_names.get((s.tenant_id, item_id))
        if cached is not None:
            return cached
        try:
            row = self._read(s, f"items/items/{item_id}", "item")
        except NotFoundUpstream:
            return ""
        self._item_ref(s, row)
        return str(row.get("name") or "")

    @staticmethod
    def _invoice_ref(row: dict[str, Any]) -> Ref:
        return Ref(id=str(row["id"]), number=row.get("invoice_number"), marker=row.get("notes"))

    def _business_uuid(self, s: Session) -> str:
        with self._lock:
            cached = self._business_uuids.get(s.tenant_id)
        if cached and cached[0] > time.time():
            return cached[1]
        data = self._send(s, "GET", f"{self.api_base}/auth/api/v1/users/me")
        for membership in (data.get("response") or {}).get("business_memberships") or []:
            business = membership.get("business") or {}
            if str(business.get("account_id")) == s.tenant_id:
                uuid = str(business["business_uuid"])
                with self._lock:
                    self._business_uuids[s.tenant_id] = (time.time() + 3600, uuid)
                return uuid
        raise Unauthorized("The FreshBooks user no longer belongs to this business")

    # ---- HTTP ---------------------------------------------------------------------------------------------------
    def _url(self, s: Session, path: str) -> str:
        return f"{self.api_base}/accounting/account/{s.tenant_id}/{path}"

    def _list(self, s: Session, path: str, plural: str, search: dict[str, str]) -> list[dict[str, Any]]:
        """Every row matching ``search`` (all pages). Callers re-check each row: filters are only a narrowing."""
        out: list[dict[str, Any]] = []
        page = 1
        while page <= MAX_PAGES:
            params = {**search, "page": str(page), "per_page": str(PER_PAGE)}
            result = self._result(self._send(s, "GET", self._url(s, path), params=params))
            out += list(result.get(plural) or [])
            if page >= int(result.get("pages") or 1):
                return out
            page += 1
        return out

    def _read(self, s: Session, path: str, kind: str) -> dict[str, Any]:
        return dict(self._result(self._send(s, "GET", self._url(s, path)))[kind])

    def _write(self, s: Session, method: str, path: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._result(self._send(s, method, self._url(s, path), body={kind: body}))[kind])

    @staticmethod
    def _result(data: dict[str, Any]) -> dict[str, Any]:
        return dict((data.get("response") or {}).get("result") or {})

    def _send(
        self,
        s: Session,
        method: str,
        url: str,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        resp = authorized_request(
            s,
            "freshbooks",
            "FreshBooks",
            method,
            url,
            params=params,
            body=body,
            http=self._http,
            on_attempt=self._count,
        )
        return self._parse(resp)

    def _count(self) -> None:
        self.round_trips += 1

    @staticmethod
    def _parse(resp: httpx.Response) -> dict[str, Any]:
        try:
            data = resp.json()
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        if resp.status_code < 400:
            return data
        if resp.status_code == 429:
            raise RateLimited("FreshBooks rate limit reached", retry_after=retry_after_or_none(resp))
        if resp.status_code >= 500:
            raise Unavailable(f"FreshBooks answered {resp.status_code}")
        if resp.status_code == 409:  # "resource being modified by another request": nothing was changed
            raise Unavailable("FreshBooks reported a conflicting concurrent change")
        errno, field, message = _first_error(data)
        text = message or f"HTTP {resp.status_code}"
        if resp.status_code in (401, 403) or errno in (401, 1003):
            raise Unauthorized(f"FreshBooks refused access: {text}")
        if resp.status_code == 404 or errno in NOT_FOUND_ERRNOS:
            raise NotFoundUpstream(text)
        if field == "invoice_number" and any(w in text.lower() for w in ("exist", "unique", "duplicate", "taken")):
            raise DuplicateNumber(text)
        raise Rejected(f"{text} (field {field})" if field else text)


def _first_error(data: dict[str, Any]) -> tuple[int | None, str | None, str]:
    """The three FreshBooks error envelopes: accounting, events/identity, and business (ledger) endpoints."""
    errors = (data.get("response") or {}).get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0] or {}
        return _int(first.get("errno")), first.get("field"), str(first.get("message") or "")
    if isinstance(data.get("errors"), dict):
        block = data["errors"]
        details = block.get("details") or [{}]
        reason = str((details[0] or {}).get("reason") or block.get("message") or "")
        return _int(block.get("status")), ((details[0] or {}).get("metadata") or {}).get("field"), reason
    if "errno" in data or "message" in data:
        return _int(data.get("errno")), None, str(data.get("message") or "")
    if "error" in data:
        return None, None, str(data.get("error_description") or data.get("error"))
    return None, None, ""


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


__all__ = ["FreshBooksAccounting"]
