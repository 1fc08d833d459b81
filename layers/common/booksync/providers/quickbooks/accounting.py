"""QuickBooks Online Accounting API v3 adapter of the sync engine's port.

Wire rules followed (../shared/providers/quickbooks.md): ``/v3/company/{realmId}/<entity>?minorversion=75``;
``requestid`` (≤ 50 chars) on every write so a retry is replayed; ``SyncToken`` on updates (5010 when stale);
``sparse: true`` partial updates; SQL-like ``query``; errors in the ``Fault`` envelope, possibly with HTTP 200.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from decimal import Decimal
from typing import Any

import httpx

from booksync.catalog.models import Address, Customer, Item
from booksync.config import provider_url
from booksync.invoicing.models import Invoice, Payment, PaymentMethod
from booksync.providers.http import retry_after
from booksync.providers.send import authorized_request
from booksync.sync.ports import (
    Account,
    Capabilities,
    DuplicateName,
    DuplicateNumber,
    LineRef,
    NotFoundUpstream,
    Op,
    OpResult,
    ProviderError,
    RateLimited,
    Ref,
    Rejected,
    Session,
    StaleObject,
    Unauthorized,
    Unavailable,
    invoice_marker,
    payment_account_refused,
    payment_marker,
)

MINOR_VERSION = "75"
BATCH_MAX = 30  # QB.md §5: at most 30 payloads per batch
BATCH_REQUESTID_MAX = 36  # QB.md §4: a batch requestid is at most 36 chars (each bId at most 10)
NAME_LIMIT = 100


def _num(value: Decimal) -> float:
    """JSON number for the wire. Amounts are at most 2-4 decimal places, so the float prints exactly."""
    return float(value)


def _display_name(name: str) -> str:
    return name.replace(":", "-").strip()[:NAME_LIMIT]  # QuickBooks forbids ':' in names


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _addr(a: Address | None) -> dict[str, str] | None:
    if a is None:
        return None
    out = {
        "Line1": a.line1,
        "Line2": a.line2,
        "City": a.city,
        "CountrySubDivisionCode": a.region,
        "PostalCode": a.postal_code,
        "Country": a.country,
    }
    return {k: v for k, v in out.items() if v}


def _ref(entity: dict[str, Any]) -> Ref:
    return Ref(
        id=str(entity["Id"]),
        version=str(entity.get("SyncToken", "0")),
        number=entity.get("DocNumber"),
        marker=entity.get("PrivateNote"),
    )


class QuickBooksAccounting:
    name = "quickbooks"
    capabilities = Capabilities(
        idempotency_keys=True, idempotency_key_max=50, max_batch=BATCH_MAX, batch_mixes_kinds=True
    )

    def __init__(self, api_base: str | None = None, http: httpx.Client | None = None) -> None:
        self.api_base = (api_base or provider_url("QUICKBOOKS_API_URL")).rstrip("/")
        self._http = http
        self._methods: dict[str, tuple[float, dict[str, str]]] = {}
        self._lock = threading.Lock()
        self.round_trips = 0

    # ---- port ---------------------------------------------------------------------------------------------------
    def income_accounts(self, s: Session) -> list[Account]:
        rows = self._query_all(s, "Account", "select * from Account where AccountType = 'Income'")
        return [Account(id=str(r["Id"]), name=r.get("Name", ""), type=r.get("AccountType", "Income")) for r in rows]

    def deposit_accounts(self, s: Session) -> list[Account]:
        """Where a payment can be deposited (QB.md Payment: DepositToAccountRef = a bank account or Undeposited
        Funds): Bank and Other Current Asset accounts, banks first."""
        sql = "select * from Account where AccountType in ('Bank', 'Other Current Asset')"
        rows = [r for r in self._query_all(s, "Account", sql) if r.get("Active", True) is not False]
        rows.sort(key=lambda r: (r.get("AccountType") != "Bank", str(r.get("Name", ""))))
        return [Account(id=str(r["Id"]), name=r.get("Name", ""), type=r.get("AccountType", "")) for r in rows]

    def find_customer(self, s: Session, customer: Customer) -> Ref | None:
        rows = self._query(s, f"select * from Customer where DisplayName = {_quote(_display_name(customer.name))}")
        return _ref(rows[0]) if rows else None

    def create_customer(self, s: Session, customer: Customer, key: str) -> Ref:
        return _ref(self._write(s, "customer", self._customer_body(customer), key)["Customer"])

    def update_customer(self, s: Session, ref: Ref, customer: Customer) -> Ref:
        current = self._read(s, "customer", ref.id)["Customer"]
        body = self._customer_body(customer) | {"Id": ref.id, "SyncToken": current["SyncToken"], "sparse": True}
        return _ref(self._write(s, "customer", body, None)["Customer"])

    def find_item(self, s: Session, item: Item) -> Ref | None:
        rows = self._query(s, f"select * from Item where Name = {_quote(_display_name(item.name))}")
        return _ref(rows[0]) if rows else None

    def create_item(self, s: Session, item: Item, account_id: str, key: str) -> Ref:
        return _ref(self._write(s, "item", self._item_body(item, account_id), key)["Item"])

    def update_item(self, s: Session, ref: Ref, item: Item, account_id: str) -> Ref:
        # Intuit documents a full update for Item: read it, change it, send it whole with the current SyncToken.
        current = self._read(s, "item", ref.id)["Item"]
        body = current | self._item_body(item, account_id)
        return _ref(self._write(s, "item", body, None)["Item"])

    def find_invoice(self, s: Session, number: str) -> Ref | None:
        rows = self._query(s, f"select * from Invoice where DocNumber = {_quote(number)}")
        return _ref(rows[0]) if rows else None

    def get_invoice(self, s: Session, ref: Ref) -> Ref:
        return _ref(self._read(s, "invoice", ref.id)["Invoice"])

    def create_invoice(self, s: Session, invoice: Invoice, customer: Ref, lines: list[LineRef], key: str) -> Ref:
        return _ref(self._write(s, "invoice", self._invoice_body(invoice, customer, lines), key)["Invoice"])

    def update_invoice(
        self, s: Session, ref: Ref, invoice: Invoice, customer: Ref, lines: list[LineRef], key: str
    ) -> Ref:
        body = self._invoice_body(invoice, customer, lines) | {
            "Id": ref.id,
            "SyncToken": ref.version or "0",
            "sparse": True,
        }
        return _ref(self._write(s, "invoice", body, key)["Invoice"])

    def find_payment(self, s: Session, payment: Payment, invoice: Ref) -> Ref | None:
        marker = payment_marker(payment.id)
        rows = self._query_all(s, "Payment", f"select * from Payment where TxnDate = '{payment.date.isoformat()}'")
        for row in rows:
            if marker in (row.get("PrivateNote") or ""):
                return Ref(id=str(row["Id"]), version=str(row.get("SyncToken", "0")), marker=row.get("PrivateNote"))
        return None

    def create_payment(
        self, s: Session, payment: Payment, invoice: Ref, customer: Ref, key: str, account_id: str | None = None
    ) -> Ref:
        body = self._payment_body(s, payment, invoice, customer, account_id)
        try:
            return _ref(self._write(s, "payment", body, key)["Payment"])
        except ProviderError as exc:
            raise _account_refused(exc, payment, account_id) from exc

    # ---- batches (QB.md §5) ---------------------------------------------------------------------------------------
    def push_many(self, s: Session, ops: list[Op]) -> list[OpResult]:
        """Up to 30 writes in one ``POST /batch``. Items run independently: each answers its object or its own
        ``Fault``. The batch's ``requestid`` is a digest of the whole body, so a retry of the same batch is replayed
        and a batch whose content changed is a new request (elements that may have landed are looked up first)."""
        results: list[OpResult] = []
        for start in range(0, len(ops), BATCH_MAX):
            results += self._batch(s, ops[start : start + BATCH_MAX])
        return results

    def _batch(self, s: Session, ops: list[Op]) -> list[OpResult]:
        items: list[dict[str, Any]] = []
        entities: list[str | None] = []
        out: list[OpResult | None] = []
        for i, op in enumerate(ops):
            try:
                entity, operation, body = self._batch_body(s, op)
            except ProviderError as exc:
                entities.append(None)
                out.append(OpResult(error=exc))
                continue
            items.append({"bId": str(i), "operation": operation, entity: body})
            entities.append(entity)
            out.append(None)
        if items:
            payload = {"BatchItemRequest": items}
            digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
            request_id = f"bcb-{digest}"[:BATCH_REQUESTID_MAX]
            data = self._send(s, "POST", "batch", params={"requestid": request_id}, body=payload)
            answers = {str(r.get("bId")): r for r in data.get("BatchItemResponse") or [] if isinstance(r, dict)}
            for i, name in enumerate(entities):
                if name is None:
                    continue
                answer = answers.get(str(i))
                if answer is None:
                    out[i] = OpResult(error=Unavailable("QuickBooks answered the batch without this element"))
                elif answer.get("Fault") is not None:
                    error = _fault_error(answer["Fault"], 400)
                    if ops[i].kind == "payment":
                        error = _account_refused(error, ops[i].entity, ops[i].account_id)
                    out[i] = OpResult(error=error)
                elif isinstance(answer.get(name), dict):
                    out[i] = OpResult(ref=_ref(answer[name]))
                else:
                    out[i] = OpResult(error=Unavailable(f"QuickBooks answered the batch without the {name}"))
        return [r if r is not None else OpResult(error=Unavailable("no answer")) for r in out]

    def _batch_body(self, s: Session, op: Op) -> tuple[str, str, dict[str, Any]]:
        if op.action == "create":
            if op.kind == "customer":
                return "Customer", "create", self._customer_body(op.entity)
            if op.kind == "item" and op.account_id:
                return "Item", "create", self._item_body(op.entity, op.account_id)
            if op.kind == "invoice" and op.customer is not None:
                return "Invoice", "create", self._invoice_body(op.entity, op.customer, list(op.lines))
            if op.kind == "payment" and op.invoice is not None and op.customer is not None:
                return "Payment", "create", self._payment_body(s, op.entity, op.invoice, op.customer, op.account_id)
        if op.action == "update" and op.kind == "invoice" and op.ref is not None and op.customer is not None:
            body = self._invoice_body(op.entity, op.customer, list(op.lines)) | {
                "Id": op.ref.id,
                "SyncToken": op.ref.version or "0",
                "sparse": True,
            }
            return "Invoice", "update", body
        raise Rejected(f"{op.action} of a {op.kind} cannot be batched")

        # ---- payloads -----------------------------------------------------------------------------------------------

    @staticmethod
    def _customer_body(c: Customer) -> dict[str, Any]:
        body: dict[str, Any] = {"DisplayName": _display_name(c.name)}
        if c.company_name:
            body["CompanyName"] = c.company_name[:100]
        if c.given_name:
            body["GivenName"] = c.given_name[:25]
        if c.family_name:
            body["FamilyName"] = c.family_name[:25]
        if c.email:
            body["PrimaryEmailAddr"] = {"Address": c.email}
        if c.phone:
            body["PrimaryPhone"] = {"FreeFormNumber": c.phone}
        if bill := _addr(c.billing_address):
            body["BillAddr"] = bill
        if ship := _addr(c.shipping_address):
            body["ShipAddr"] = ship
        return body

    @staticmethod
    def _item_body(item: Item, account_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Name": _display_name(item.name),
            "Type": "Service",
            "UnitPrice": _num(item.price),
            "IncomeAccountRef": {"value": account_id},
        }
        if item.description:
            body["Description"] = item.description[:4000]
        if item.sku:
            body["Sku"] = item.sku[:100]
        return body

    def _payment_body(
        self, s: Session, payment: Payment, invoice: Ref, customer: Ref, account_id: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "CustomerRef": {"value": customer.id},
            "TotalAmt": _num(payment.amount),
            "TxnDate": payment.date.isoformat(),
            "PrivateNote": payment_marker(payment.id),
            "Line": [{"Amount": _num(payment.amount), "LinkedTxn": [{"TxnId": invoice.id, "TxnType": "Invoice"}]}],
        }
        if account_id:  # the account mapped for this method; absent, QuickBooks deposits to Undeposited Funds
            body["DepositToAccountRef"] = {"value": account_id}
        method = self._payment_method(s, payment.method)
        if method:
            body["PaymentMethodRef"] = {"value": method}
        else:
            body["PrivateNote"] += f" (method: {payment.method.value})"
        if payment.reference:
            body["PaymentRefNum"] = payment.reference[:21]
        return body

    @staticmethod
    def _invoice_body(invoice: Invoice, customer: Ref, lines: list[LineRef]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "CustomerRef": {"value": customer.id},
            "DocNumber": invoice.number,
            "PrivateNote": invoice_marker(invoice.id),
            "Line": [
                {
                    "DetailType": "SalesItemLineDetail",
                    "Amount": _num(line.amount),
                    "Description": line.description[:4000],
                    "SalesItemLineDetail": {
                        "ItemRef": {"value": line.item.id},
                        "Qty": _num(line.quantity),
                        "UnitPrice": _num(line.unit_price),
                    },
                }
                for line in lines
            ],
        }
        if invoice.issue_date:
            body["TxnDate"] = invoice.issue_date.isoformat()
        if invoice.due_date:
            body["DueDate"] = invoice.due_date.isoformat()
        return body

    def _payment_method(self, s: Session, method: PaymentMethod) -> str | None:
        with self._lock:
            cached = self._methods.get(s.tenant_id)
        if cached is None or cached[0] < time.time():
            rows = self._query(s, "select * from PaymentMethod")
            by_name = {str(r.get("Name", "")).casefold(): str(r["Id"]) for r in rows}
            card = next((str(r["Id"]) for r in rows if r.get("Type") == "CREDIT_CARD"), None)
            table = {
                "cash": by_name.get("cash"),
                "check": by_name.get("check") or by_name.get("cheque"),
                "card": by_name.get("credit card") or card,
                "ach": by_name.get("ach") or by_name.get("eft") or by_name.get("direct deposit"),
            }
            cached = (time.time() + 3600, {k: v for k, v in table.items() if v})
            with self._lock:
                self._methods[s.tenant_id] = cached
        return cached[1].get(method.value)

    # ---- HTTP ---------------------------------------------------------------------------------------------------
    def _query(self, s: Session, sql: str) -> list[dict[str, Any]]:
        data = self._send(s, "GET", "query", params={"query": sql})
        resp = data.get("QueryResponse") or {}
        return next((v for k, v in resp.items() if isinstance(v, list)), [])

    def _query_all(self, s: Session, entity: str, sql: str, page: int = 1000) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start = 1
        while True:
            rows = self._query(s, f"{sql} STARTPOSITION {start} MAXRESULTS {page}")
            out += rows
            if len(rows) < page:
                return out
            start += page

    def _read(self, s: Session, entity: str, entity_id: str) -> dict[str, Any]:
        return self._send(s, "GET", f"{entity}/{entity_id}")

    def _write(self, s: Session, entity: str, body: dict[str, Any], key: str | None) -> dict[str, Any]:
        params = {"requestid": key[:50]} if key else {}
        return self._send(s, "POST", entity, params=params, body=body)

    def _send(
        self,
        s: Session,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        url = f"{self.api_base}/v3/company/{s.tenant_id}/{path}"
        query = {"minorversion": MINOR_VERSION, **(params or {})}
        resp = authorized_request(
            s, "quickbooks", "QuickBooks", method, url, params=query, body=body, http=self._http, on_attempt=self._count
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
        if resp.status_code == 429:
            raise RateLimited("QuickBooks rate limit reached", retry_after=retry_after(resp, 60.0))
        if resp.status_code >= 500:
            raise Unavailable(f"QuickBooks answered {resp.status_code}")
        fault = data.get("Fault") or data.get("fault")
        if resp.status_code == 401:
            raise Unauthorized("QuickBooks refused the access token")
        if fault is None and resp.status_code < 400:
            return dict(data)
        raise _fault_error(fault or {}, resp.status_code)


def _fault_error(fault: dict[str, Any], status: int) -> ProviderError:
    """The provider-neutral error of a ``Fault`` (a whole answer's, or one batch element's)."""
    errors = fault.get("Error") or fault.get("error") or [{}]
    first = {k.lower(): v for k, v in errors[0].items()}
    code = str(first.get("code", ""))
    message = str(first.get("message", "")) or f"HTTP {status}"
    detail = str(first.get("detail", ""))
    text = f"{message}: {detail}" if detail else message
    if "DepositToAccountRef" in str(first.get("element", "")):
        return _DepositRefused(text, detail=detail)
    if code == "5010":
        return StaleObject(text)
    if code == "6240":
        return DuplicateName(text)
    if "duplicate document number" in message.lower():
        return DuplicateNumber(text)
    if code in ("610", "2500"):
        return NotFoundUpstream(text)
    if code in ("3200", "3100", "120") or status == 403:
        return Unauthorized(text)
    if code in ("3001", "003001"):
        return RateLimited(text, retry_after=60.0)
    err = Rejected(text, detail=detail)
    err.code = "provider_rejected"
    return err


class _DepositRefused(NotFoundUpstream):
    """QuickBooks refused the payment's DepositToAccountRef (``element``): unknown, inactive or the wrong type."""


def _account_refused(exc: ProviderError, payment: Payment, account_id: str | None) -> ProviderError:
    """A payment refused for its mapped deposit account says which method's mapping to fix (QuickBooks names the
    element; without it, an invalid reference to an account naming our id)."""
    if not account_id:
        return exc
    if isinstance(exc, _DepositRefused) or (
        isinstance(exc, NotFoundUpstream | Rejected)
        and "account" in exc.message.lower()
        and re.search(rf"\b{re.escape(account_id)}\b", exc.message) is not None
    ):
        return payment_account_refused("QuickBooks", payment.method.value, account_id, exc.message)
    return exc


__all__ = ["ProviderError", "QuickBooksAccounting"]
