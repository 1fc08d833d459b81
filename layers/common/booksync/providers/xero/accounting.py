"""Xero Accounting API 2.0 adapter of the sync engine's port.

Wire rules followed (../shared/providers/xero.md, cited X.md §n): ``<XERO_API_URL>/api.xro/2.0/<Resource>``;
``Authorization: Bearer`` + ``xero-tenant-id`` on every call; writes wrap arrays (``{"Invoices": [...]}``), PUT =
create, POST = update; ``summarizeErrors=false`` so each element carries its own ``ValidationErrors``;
``Idempotency-Key`` (≤ 128 chars) on every create so a retried write is replayed (§4); ``unitdp=4`` so unit prices
keep 4 decimals. Contacts are matched by name, items by code, invoices by number; the invoice ``Reference`` and the
payment ``Reference`` carry our markers (Xero has no private note and no payment-method field, §3). 429 carries
``Retry-After`` and ``X-Rate-Limit-Problem``: a day limit becomes a long ``retry_after`` so the engine defers.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import replace
from decimal import Decimal
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
    Unauthorized,
    Unavailable,
    invoice_marker,
    payment_account_refused,
    payment_marker,
)

API_PATH = "/api.xro/2.0"
CONTACT_NAME_MAX = 255
ITEM_CODE_MAX = 30
ITEM_NAME_MAX = 50
IDEMPOTENCY_KEY_MAX = 128
BATCH_MAX = 50  # X.md §5: ~50 elements per array write (summarizeErrors=false)
RESOURCES = {"customer": "Contacts", "item": "Items", "invoice": "Invoices", "payment": "Payments"}
DAY_LIMIT_RETRY = 3600.0  # no Retry-After on a day limit: come back in an hour, never hammer
EDITABLE_WITH_PAYMENTS = "DueDate"
# Words in a bank account's name that say which payment method lands there (first match wins, else the first bank
# account). Xero has no payment-method field, so the method itself is written into the payment's Reference.
METHOD_ACCOUNT_WORDS: dict[str, tuple[str, ...]] = {
    "cash": ("petty cash", "cash"),
    "check": ("undeposited", "cheque", "check"),
    "card": ("card clearing", "merchant", "stripe", "square", "card"),
    "ach": ("ach", "eft", "direct deposit"),
    "other": (),
}


def _num(value: Decimal) -> float:
    """JSON number for the wire. Amounts are at most 2-4 decimal places, so the float prints exactly."""
    return float(value)


def contact_name(customer: Customer) -> str:
    return customer.name.strip()[:CONTACT_NAME_MAX]


def item_code(item: Item) -> str:
    """The Xero item Code (≤ 30 chars): our SKU, else the name."""
    return (item.sku or item.name).strip()[:ITEM_CODE_MAX]


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _address(kind: str, a: Address | None) -> dict[str, str] | None:
    if a is None:
        return None
    out = {
        "AddressType": kind,
        "AddressLine1": a.line1,
        "AddressLine2": a.line2,
        "City": a.city,
        "Region": a.region,
        "PostalCode": a.postal_code,
        "Country": a.country,
    }
    return {k: v[:255] for k, v in out.items() if v}


def _messages(element: dict[str, Any]) -> list[str]:
    return [str(e.get("Message", "")) for e in element.get("ValidationErrors") or [] if isinstance(e, dict)]


class XeroAccounting:
    name = "xero"
    capabilities = Capabilities(idempotency_keys=True, idempotency_key_max=IDEMPOTENCY_KEY_MAX, max_batch=BATCH_MAX)

    def __init__(self, api_base: str | None = None, http: httpx.Client | None = None) -> None:
        self.api_base = (api_base or provider_url("XERO_API_URL")).rstrip("/")
        self._http = http
        self._accounts: dict[str, tuple[float, list[dict[str, Any]]]] = {}
        self._lock = threading.Lock()
        self.round_trips = 0

    # ---- port ---------------------------------------------------------------------------------------------------
    def income_accounts(self, s: Session) -> list[Account]:
        data = self._send(s, "GET", "Accounts", params={"where": 'Status=="ACTIVE" AND Class=="REVENUE"'})
        rows = [r for r in data.get("Accounts") or [] if r.get("Code")]
        # the account "id" the mappings store is Xero's account Code: lines and items refer to accounts by code
        return [Account(id=str(r["Code"]), name=str(r.get("Name", "")), type=str(r.get("Type", ""))) for r in rows]

    def deposit_accounts(self, s: Session) -> list[Account]:
        """Accounts a payment can be paid into (X.md §3 Payments: a BANK account, or one with
        EnablePaymentsToAccount); the id is the AccountID (bank accounts need not have a code)."""
        data = self._send(s, "GET", "Accounts", params={"where": 'Status=="ACTIVE"'})
        rows = [r for r in data.get("Accounts") or [] if r.get("Type") == "BANK" or r.get("EnablePaymentsToAccount")]
        rows.sort(key=lambda r: (r.get("Type") != "BANK", str(r.get("Code") or "~"), str(r.get("Name"))))
        return [Account(id=str(r["AccountID"]), name=str(r.get("Name", "")), type=str(r.get("Type", ""))) for r in rows]

    def find_customer(self, s: Session, customer: Customer) -> Ref | None:
        name = contact_name(customer)
        data = self._send(s, "GET", "Contacts", params={"where": f"Name=={_quote(name)}", "page": "1"})
        rows = [r for r in data.get("Contacts") or [] if r.get("ContactStatus", "ACTIVE") == "ACTIVE"]
        match = next((r for r in rows if str(r.get("Name", "")).strip().casefold() == name.casefold()), None)
        return Ref(id=str(match["ContactID"])) if match else None

    def create_customer(self, s: Session, customer: Customer, key: str) -> Ref:
        body = {"Contacts": [self._contact_body(customer)]}
        element = self._write(s, "PUT", "Contacts", body, key)
        return Ref(id=str(element["ContactID"]))

    def update_customer(self, s: Session, ref: Ref, customer: Customer) -> Ref:
        body = {"Contacts": [{"ContactID": ref.id, **self._contact_body(customer)}]}
        element = self._write(s, "POST", f"Contacts/{ref.id}", body, None)
        return Ref(id=str(element["ContactID"]))

    def find_item(self, s: Session, item: Item) -> Ref | None:
        code = item_code(item)
        data = self._send(s, "GET", "Items", params={"where": f"Code=={_quote(code)}"})
        match = next((r for r in data.get("Items") or [] if str(r.get("Code", "")).casefold() == code.casefold()), None)
        return Ref(id=str(match["ItemID"]), number=str(match["Code"])) if match else None

    def create_item(self, s: Session, item: Item, account_id: str, key: str) -> Ref:
        element = self._write(s, "PUT", "Items", {"Items": [self._item_body(item, account_id)]}, key, unitdp=True)
        return Ref(id=str(element["ItemID"]), number=str(element.get("Code")))

    def update_item(self, s: Session, ref: Ref, item: Item, account_id: str) -> Ref:
        body = {"Items": [{"ItemID": ref.id, **self._item_body(item, account_id)}]}
        element = self._write(s, "POST", f"Items/{ref.id}", body, None, unitdp=True)
        return Ref(id=str(element["ItemID"]), number=str(element.get("Code")))

    def find_invoice(self, s: Session, number: str) -> Ref | None:
        data = self._send(s, "GET", "Invoices", params={"InvoiceNumbers": number, "page": "1"})
        for row in data.get("Invoices") or []:
            if (
                row.get("Type") == "ACCREC"
                and row.get("Status") != "DELETED"
                and (str(row.get("InvoiceNumber", "")).casefold() == number.casefold())
            ):
                return self._invoice_ref(row)
        return None

    def get_invoice(self, s: Session, ref: Ref) -> Ref:
        return self._invoice_ref(self._read_invoice(s, ref.id))

    def create_invoice(self, s: Session, invoice: Invoice, customer: Ref, lines: list[LineRef], key: str) -> Ref:
        body = {"Invoices": [{"Type": "ACCREC", **self._invoice_body(s, invoice, customer, lines)}]}
        return self._invoice_ref(self._write(s, "PUT", "Invoices", body, key, unitdp=True))

    def update_invoice(
        self, s: Session, ref: Ref, invoice: Invoice, customer: Ref, lines: list[LineRef], key: str
    ) -> Ref:
        """Update in the ways Xero allows for the invoice's status (X.md §3 "Update"); a clear Rejected otherwise."""
        current = self._read_invoice(s, ref.id)
        status = str(current.get("Status", ""))
        number = current.get("InvoiceNumber") or invoice.number
        if status in ("VOIDED", "DELETED"):
            raise Rejected(
                f"Invoice {number} is {status} in Xero, and Xero does not allow changing a {status.lower()} invoice. "
                "Create a new invoice in BlueClerk (with a new number) instead."
            )
        wanted = self._invoice_body(s, invoice, customer, lines)
        differs = self._differences(current, wanted)
        has_money = bool(current.get("Payments")) or any(
            Decimal(str(current.get(k) or 0)) > 0 for k in ("AmountPaid", "AmountCredited")
        )
        if status == "PAID" or has_money:
            blocked = differs - {EDITABLE_WITH_PAYMENTS}
            if blocked:
                raise Rejected(
                    f"Invoice {number} has payments in Xero ({status}), so Xero only lets its due date change; this "
                    f"edit changes {', '.join(sorted(blocked))}. Remove the payments in Xero (or credit the invoice) "
                    "and click Resync."
                )
            if not differs:
                return self._invoice_ref(current)
            body = {"Invoices": [{"InvoiceID": ref.id, "DueDate": wanted["DueDate"]}]}
            return self._invoice_ref(self._write(s, "POST", f"Invoices/{ref.id}", body, f"{key}-due"))
        if not differs and status == "AUTHORISED":
            return self._invoice_ref(current)  # nothing to send
        old_lines = current.get("LineItems") or []
        if len(old_lines) == len(wanted["LineItems"]):  # keep Xero's line ids stable when the shape is the same
            for old, new in zip(old_lines, wanted["LineItems"], strict=True):
                if old.get("LineItemID"):
                    new["LineItemID"] = old["LineItemID"]
        body = {"Invoices": [{"InvoiceID": ref.id, **wanted}]}
        return self._invoice_ref(self._write(s, "POST", f"Invoices/{ref.id}", body, key, unitdp=True))

    def find_payment(self, s: Session, payment: Payment, invoice: Ref) -> Ref | None:
        marker = payment_marker(payment.id)
        for row in self._read_invoice(s, invoice.id).get("Payments") or []:
            if marker in str(row.get("Reference") or ""):
                return Ref(id=str(row["PaymentID"]), marker=row.get("Reference"))
        return None

    def create_payment(
        self, s: Session, payment: Payment, invoice: Ref, customer: Ref, key: str, account_id: str | None = None
    ) -> Ref:
        element = self._payment_element(s, payment, invoice, account_id)
        try:
            saved = self._write(s, "PUT", "Payments", {"Payments": [element]}, key)
        except ProviderError as exc:
            raise _account_refused(exc, payment, account_id) from exc
        return Ref(id=str(saved["PaymentID"]), marker=saved.get("Reference"))

    def _payment_element(
        self, s: Session, payment: Payment, invoice: Ref, account_id: str | None = None
    ) -> dict[str, Any]:
        reference = " | ".join(
            part for part in (payment.reference, f"method: {payment.method.value}", payment_marker(payment.id)) if part
        )
        return {
            "Invoice": {"InvoiceID": invoice.id},
            "Account": {"AccountID": account_id or self._payment_account(s, payment.method)},
            "Date": payment.date.isoformat(),
            "Amount": _num(payment.amount),
            "Reference": reference,
        }

    # ---- arrays (X.md §5) -----------------------------------------------------------------------------------------
    def push_many(self, s: Session, ops: list[Op]) -> list[OpResult]:
        """Creates go as arrays, one ``PUT /<Resource>?summarizeErrors=false`` per kind and 50 elements, each element
        answered with its own ``ValidationErrors``; the array's Idempotency-Key is a digest of its body (a retry is
        replayed). An invoice update keeps its single-call path (it reads the invoice to respect Xero's rules)."""
        results: list[OpResult | None] = [None] * len(ops)
        groups: dict[str, list[int]] = {}
        for i, op in enumerate(ops):
            if op.action == "create" and op.kind in RESOURCES:
                groups.setdefault(op.kind, []).append(i)
            else:
                results[i] = self._single(s, op)
        for kind, positions in groups.items():
            for start in range(0, len(positions), BATCH_MAX):
                part = positions[start : start + BATCH_MAX]
                for i, result in zip(part, self._put_array(s, kind, [ops[i] for i in part]), strict=True):
                    results[i] = result
        return [r if r is not None else OpResult(error=Unavailable("no answer")) for r in results]

    def _single(self, s: Session, op: Op) -> OpResult:
        if op.kind == "invoice" and op.action == "update" and op.ref is not None and op.customer is not None:
            try:
                return OpResult(ref=self.update_invoice(s, op.ref, op.entity, op.customer, list(op.lines), op.key))
            except ProviderError as exc:
                return OpResult(error=exc)
        return OpResult(error=Rejected(f"{op.action} of a {op.kind} cannot be batched"))

    def _array_element(self, s: Session, op: Op, codes: dict[str, str]) -> dict[str, Any]:
        if op.kind == "customer":
            return self._contact_body(op.entity)
        if op.kind == "item" and op.account_id:
            return self._item_body(op.entity, op.account_id)
        if op.kind == "invoice" and op.customer is not None:
            lines = [replace(line, item=Ref(line.item.id, number=codes[line.item.id])) for line in op.lines]
            return {"Type": "ACCREC", **self._invoice_body(s, op.entity, op.customer, lines)}
        if op.kind == "payment" and op.invoice is not None:
            return self._payment_element(s, op.entity, op.invoice, op.account_id)
        raise Rejected(f"a {op.kind} is missing what Xero needs to create it")

    def _put_array(self, s: Session, kind: str, ops: list[Op]) -> list[OpResult]:
        resource = RESOURCES[kind]
        codes = self._item_codes(s, [line for op in ops for line in op.lines]) if kind == "invoice" else {}
        out: list[OpResult | None] = []
        sent: list[tuple[int, dict[str, Any]]] = []
        for i, op in enumerate(ops):
            try:
                element = self._array_element(s, op, codes)
            except ProviderError as exc:
                out.append(OpResult(error=exc))
                continue
            sent.append((i, element))
            out.append(None)
        if sent:
            body = {resource: [element for _, element in sent]}
            params = {"summarizeErrors": "false"}
            if kind in ("item", "invoice"):
                params["unitdp"] = "4"
            data = self._send(s, "PUT", resource, params=params, body=body, key=self._key("bcb", body))
            answers = [a for a in data.get(resource) or [] if isinstance(a, dict)]
            for position, (i, element) in enumerate(sent):
                answer = _answer_for(kind, element, answers, position)
                if answer is None:
                    out[i] = OpResult(error=Unavailable(f"Xero answered the array without this {kind}"))
                    continue
                messages = _messages(answer)
                if messages or answer.get("StatusAttributeString") == "ERROR" or answer.get("HasErrors"):
                    error = self._rejection(messages or ["Xero reported an error without a message"])
                    if kind == "payment":
                        error = _account_refused(error, ops[i].entity, ops[i].account_id)
                    out[i] = OpResult(error=error)
                else:
                    out[i] = OpResult(ref=_array_ref(kind, answer))
        return [r if r is not None else OpResult(error=Unavailable("no answer")) for r in out]

    # ---- payloads -----------------------------------------------------------------------------------------------
    @staticmethod
    def _contact_body(c: Customer) -> dict[str, Any]:
        body: dict[str, Any] = {"Name": contact_name(c), "ContactNumber": c.id[:50]}
        if c.given_name:
            body["FirstName"] = c.given_name[:255]
        if c.family_name:
            body["LastName"] = c.family_name[:255]
        if c.email:
            body["EmailAddress"] = c.email[:255]
        if c.phone:
            body["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": c.phone[:50]}]
        addresses = [a for a in (_address("POBOX", c.billing_address), _address("STREET", c.shipping_address)) if a]
        if addresses:
            body["Addresses"] = addresses
        return body

    @staticmethod
    def _item_body(item: Item, account_code: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "Code": item_code(item),
            "Name": item.name.strip()[:ITEM_NAME_MAX],
            "IsSold": True,
            "SalesDetails": {"UnitPrice": _num(item.price), "AccountCode": account_code},
        }
        if item.description:
            body["Description"] = item.description[:4000]
        return body

    def _invoice_body(self, s: Session, invoice: Invoice, customer: Ref, lines: list[LineRef]) -> dict[str, Any]:
        codes = self._item_codes(s, lines)
        issued = invoice.issue_date
        due = invoice.due_date or issued or time.strftime("%Y-%m-%d")
        body: dict[str, Any] = {
            "Contact": {"ContactID": customer.id},  # only the id: other fields would update the contact (X.md §3)
            "InvoiceNumber": invoice.number,
            "Reference": invoice_marker(invoice.id),
            "DueDate": due if isinstance(due, str) else due.isoformat(),
            "LineAmountTypes": "NoTax",
            "Status": "AUTHORISED",
            "LineItems": [
                {
                    "Description": line.description[:4000] or line.item.id,
                    "Quantity": _num(line.quantity),
                    "UnitAmount": _num(line.unit_price),
                    "ItemCode": codes[line.item.id],
                    "AccountCode": line.account_id,
                    "TaxType": "NONE",
                }
                for line in lines
            ],
        }
        if issued:
            body["Date"] = issued.isoformat()
        return body

    def _item_codes(self, s: Session, lines: list[LineRef]) -> dict[str, str]:
        """Lines name items by Code; the engine links items by ItemID. One read resolves them (Items are not paged)."""
        codes = {line.item.id: line.item.number for line in lines if line.item.number}
        missing = sorted({line.item.id for line in lines} - set(codes))
        if missing:
            where = " OR ".join(f"ItemID==Guid({_quote(i)})" for i in missing)
            for row in self._send(s, "GET", "Items", params={"where": where}).get("Items") or []:
                codes[str(row["ItemID"])] = str(row["Code"])
        gone = [i for i in missing if i not in codes]
        if gone:
            raise NotFoundUpstream(f"Xero has no item with id {', '.join(gone)} any more")
        return {k: str(v) for k, v in codes.items()}

    @staticmethod
    def _differences(current: dict[str, Any], wanted: dict[str, Any]) -> set[str]:
        """Which of the fields we send differ from Xero's invoice (amounts compared as decimals)."""
        out: set[str] = set()
        if str((current.get("Contact") or {}).get("ContactID", "")).lower() != wanted["Contact"]["ContactID"].lower():
            out.add("Contact")
        for key in ("InvoiceNumber", "Reference"):
            if str(current.get(key) or "") != wanted[key]:
                out.add(key)
        if str(current.get("DateString", ""))[:10] != wanted.get("Date", str(current.get("DateString", ""))[:10]):
            out.add("Date")
        if str(current.get("DueDateString", ""))[:10] != wanted["DueDate"]:
            out.add("DueDate")
        old = current.get("LineItems") or []
        new = wanted["LineItems"]
        if len(old) != len(new):
            out.add("LineItems")
        else:
            for a, b in zip(old, new, strict=True):
                same = (
                    str(a.get("Description", "")) == b["Description"]
                    and str(a.get("ItemCode", "")) == b["ItemCode"]
                    and str(a.get("AccountCode", "")) == b["AccountCode"]
                    and Decimal(str(a.get("Quantity", 0))) == Decimal(str(b["Quantity"]))
                    and Decimal(str(a.get("UnitAmount", 0))) == Decimal(str(b["UnitAmount"]))
                )
                if not same:
                    out.add("LineItems")
                    break
        return out

    def _payment_account(self, s: Session, method: PaymentMethod) -> str:
        """The bank account a payment of this method is deposited to (cached per organisation for an hour)."""
        with self._lock:
            cached = self._accounts.get(s.tenant_id)
        if cached is None or cached[0] < time.time():
            data = self._send(s, "GET", "Accounts", params={"where": 'Status=="ACTIVE"'})
            rows = [
                r
                for r in data.get("Accounts") or []
                if (r.get("Type") == "BANK" or r.get("EnablePaymentsToAccount"))
                and r.get("BankAccountType") not in ("CREDITCARD", "PAYPAL")
            ]
            rows.sort(key=lambda r: (r.get("Type") != "BANK", str(r.get("Code") or "~"), str(r.get("Name"))))
            cached = (time.time() + 3600, rows)
            with self._lock:
                self._accounts[s.tenant_id] = cached
        rows = cached[1]
        if not rows:
            raise Rejected(
                "Xero has no bank account to receive payments into; add one in Xero (Accounting > Bank accounts), "
                "then click Resync."
            )
        for word in METHOD_ACCOUNT_WORDS.get(method.value, ()):
            match = next((r for r in rows if word in str(r.get("Name", "")).casefold()), None)
            if match is not None:
                return str(match["AccountID"])
        return str(rows[0]["AccountID"])

    @staticmethod
    def _invoice_ref(row: dict[str, Any]) -> Ref:
        return Ref(
            id=str(row["InvoiceID"]),
            version=str(row.get("Status") or "") or None,
            number=row.get("InvoiceNumber"),
            marker=row.get("Reference"),
        )

    # ---- HTTP ---------------------------------------------------------------------------------------------------
    def _read_invoice(self, s: Session, invoice_id: str) -> dict[str, Any]:
        rows = self._send(s, "GET", f"Invoices/{invoice_id}").get("Invoices") or []
        if not rows:
            raise NotFoundUpstream(f"Xero has no invoice {invoice_id}")
        return dict(rows[0])

    @staticmethod
    def _key(key: str, body: Any) -> str:
        """The engine's key plus a digest of what we send: a retry of the same write replays, a changed write (the
        invoice was edited between attempts) is a new request instead of Xero's "key used with a different request"."""
        digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
        return f"{key[: IDEMPOTENCY_KEY_MAX - 17]}-{digest}"

    def _write(
        self, s: Session, method: str, path: str, body: dict[str, Any], key: str | None, unitdp: bool = False
    ) -> dict[str, Any]:
        params = {"summarizeErrors": "false"} if method == "PUT" or path in ("Contacts", "Items", "Invoices") else {}
        if unitdp:
            params["unitdp"] = "4"
        data = self._send(s, method, path, params=params, body=body, key=self._key(key, body) if key else None)
        resource = next(iter(body))
        elements = data.get(resource) or []
        if not elements:
            raise Rejected(f"Xero answered without any {resource}")
        element = dict(elements[0])
        messages = _messages(element)
        if messages or element.get("StatusAttributeString") == "ERROR" or element.get("HasErrors"):
            raise self._rejection(messages or ["Xero reported an error without a message"])
        return element

    @staticmethod
    def _rejection(messages: list[str]) -> ProviderError:
        text = "; ".join(messages)
        lowered = text.lower()
        if "invoice # must be unique" in lowered:
            return DuplicateNumber(text)
        if "already assigned to another contact" in lowered or "already exists" in lowered:
            return DuplicateName(text)
        if "contact" in lowered and ("could not be found" in lowered or "archived" in lowered):
            return NotFoundUpstream(text)
        if "supplied id was not found" in lowered:
            return NotFoundUpstream(text)
        return Rejected(text)

    def _send(
        self,
        s: Session,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        url = f"{self.api_base}{API_PATH}/{path}"
        headers = {"xero-tenant-id": s.tenant_id, **({"Idempotency-Key": key} if key else {})}
        resp = authorized_request(
            s, "xero", "Xero", method, url, params=params, body=body, headers=headers, http=self._http,
            on_attempt=self._count,
        )  # fmt: skip
        return self._parse(resp)

    def _count(self) -> None:
        self.round_trips += 1

    @staticmethod
    def _parse(resp: httpx.Response) -> dict[str, Any]:
        if resp.status_code == 429:
            raise _rate_limited(resp)
        if resp.status_code >= 500:
            raise Unavailable(f"Xero answered {resp.status_code}")
        if resp.status_code == 401:
            raise Unauthorized("Xero refused the access token")
        if resp.status_code == 403:
            raise Unauthorized("Xero refused access to the organisation (the app was disconnected in Xero?)")
        if resp.status_code == 404:
            raise NotFoundUpstream("Xero has no such object")
        try:
            data = resp.json()
        except ValueError:
            data = None
        if resp.status_code < 300 and isinstance(data, dict):
            return data
        if not isinstance(data, dict):
            raise Rejected(f"Xero answered {resp.status_code}")
        messages = [m for el in data.get("Elements") or [] if isinstance(el, dict) for m in _messages(el)]
        raise XeroAccounting._rejection(messages or [str(data.get("Message") or f"HTTP {resp.status_code}")])


_IDENTITY = {"customer": "Name", "item": "Code", "invoice": "InvoiceNumber", "payment": "Reference"}


def _answer_for(
    kind: str, element: dict[str, Any], answers: list[dict[str, Any]], position: int
) -> dict[str, Any] | None:
    """The answer to one element: by position (Xero echoes the array in order), checked against what identifies it
    (contact name, item code, invoice number, payment reference carrying our marker); else searched by it."""
    field = _IDENTITY[kind]
    wanted = str(element.get(field) or "").strip().casefold()

    def same(answer: dict[str, Any]) -> bool:
        return str(answer.get(field) or "").strip().casefold() == wanted

    if position < len(answers) and same(answers[position]):
        return answers[position]
    return next((a for a in answers if same(a)), None)


def _array_ref(kind: str, answer: dict[str, Any]) -> Ref:
    if kind == "customer":
        return Ref(id=str(answer["ContactID"]))
    if kind == "item":
        return Ref(id=str(answer["ItemID"]), number=str(answer.get("Code")))
    if kind == "invoice":
        return XeroAccounting._invoice_ref(answer)
    return Ref(id=str(answer["PaymentID"]), marker=answer.get("Reference"))


def _account_refused(exc: ProviderError, payment: Payment, account_id: str | None) -> ProviderError:
    """A payment refused for its mapped deposit account (archived, deleted, not a bank account) says which method's
    mapping to fix; any other refusal is unchanged."""
    if account_id and isinstance(exc, Rejected | NotFoundUpstream) and "account" in exc.message.lower():
        return payment_account_refused("Xero", payment.method.value, account_id, exc.message)
    return exc


def _rate_limited(resp: httpx.Response) -> RateLimited:
    """Minute and concurrency limits pass quickly; a day limit must not be retried for a long while."""
    problem = resp.headers.get("X-Rate-Limit-Problem", "").lower()
    header = retry_after_or_none(resp)
    if "day" in problem or "daily" in problem:
        wait = max(header or 0.0, DAY_LIMIT_RETRY if header is None else 0.0, 600.0)
        return RateLimited(f"Xero's daily API limit for this organisation is used up ({problem})", retry_after=wait)
    if "concurren" in problem:
        return RateLimited("Xero's concurrent-call limit was hit", retry_after=header if header is not None else 1.0)
    wait = header if header is not None else 60.0
    return RateLimited(f"Xero's {problem or 'minute'} limit was hit", retry_after=wait)


__all__ = ["XeroAccounting"]
