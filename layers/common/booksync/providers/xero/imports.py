"""Xero importer: the :class:`~booksync.imports.ports.ImportSource` of the Xero adapter.

How it reads (../shared/providers/xero.md, cited X.md §n; the official OpenAPI ``xero_accounting.yaml``):

- One kind at a time (:class:`~booksync.imports.paging.KindPager`): Contacts, Items, Invoices, Payments.
- **Incremental**: the header ``If-Modified-Since: <UTC, to the second, RFC 3339>`` on every GET when the run has
  a ``since`` (the spec declares it on GET Contacts, Items, Invoices and Payments; X.md §3 "Incremental sync").
- **Paging** (X.md §3 "Listing, pagination"): Contacts, Invoices and Payments are read with ``page`` and
  ``pageSize=1000`` (the documented maximum) and ordered by their id, which never changes, so a record edited while
  the run pages cannot slide from an unread page into a read one. The answer's ``pagination.pageCount`` says when
  the last page has come: no empty page is asked for, so a kind of N records costs ceil(N / 1000) calls (one when
  N = 0); without ``pagination`` a short page ends the kind. **Items are not paged**: one call returns them all.
- Receivables only: ``where=Type=="ACCREC"`` on Invoices and ``where=PaymentType=="ACCRECPAYMENT"`` on Payments
  (bills and bill payments are not BlueClerk's). Contacts include archived ones (``includeArchived=true``; their
  invoices refer to them); a contact that is only a supplier is skipped.
- Deleted invoices come back with ``Status: DELETED`` (reported as deletions), voided ones as ``VOIDED`` (imported
  voided); a deleted payment (``Status: DELETED``) is imported voided (the service skips it). Draft and submitted
  invoices are not imported (BlueClerk's imported invoices are sent ones); once approved they are read next run.
- Invoice lines without an item (account-coded lines) are skipped, as the other importers do: BlueClerk's lines
  name items.
- Payments carry no method in Xero (X.md §3): BlueClerk writes ``method: <m>`` and its marker into the payment's
  ``Reference``; both are read back out of it, and the rest is the payment's reference.
- The watermark is Xero's clock: the answer's ``DateTimeUTC``.
- 401 once: the session's ``on_unauthorized`` refreshes the token and the call is sent again; 429 (with
  ``Retry-After`` and ``X-Rate-Limit-Problem``) and 5xx map to the port's errors exactly as the sync adapter does
  (the service waits a short ``Retry-After`` and leaves long ones to the queue; the run resumes at its checkpoint).

The cursor is :class:`KindPager`'s: ``{"k": <kind index>, "t": "<next page number>"}``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx

from booksync.catalog.models import Address
from booksync.config import provider_url
from booksync.imports.paging import KindPage, KindPager
from booksync.imports.parse import money as _money
from booksync.imports.parse import quantity as _qty
from booksync.imports.parse import text as _text
from booksync.imports.ports import (
    KINDS,
    Application,
    ImportedCustomer,
    ImportedInvoice,
    ImportedItem,
    ImportedLine,
    ImportedPayment,
    Kind,
)
from booksync.money import to_money
from booksync.providers.http import client
from booksync.providers.xero.accounting import API_PATH, XeroAccounting
from booksync.sync.ports import Session, Unauthorized, Unavailable

PAGE_SIZE = 1000  # Xero's pageSize ceiling (X.md §3)
RESOURCES: dict[Kind, str] = {"customer": "Contacts", "item": "Items", "invoice": "Invoices", "payment": "Payments"}
ID_FIELDS: dict[Kind, str] = {"customer": "ContactID", "item": "ItemID", "invoice": "InvoiceID", "payment": "PaymentID"}
PAGED: tuple[Kind, ...] = ("customer", "invoice", "payment")
FILTERS: dict[Kind, dict[str, str]] = {
    "customer": {"includeArchived": "true"},
    "item": {},
    "invoice": {"where": 'Type=="ACCREC"'},
    "payment": {"where": 'PaymentType=="ACCRECPAYMENT"'},
}
IMPORTED_INVOICE_STATUSES = ("AUTHORISED", "PAID", "VOIDED")
PHONE_ORDER = ("DEFAULT", "MOBILE", "DDI", "OFFICE")
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_MARKER = "BlueClerk payment "
_METHOD = "method: "
METHODS = ("cash", "check", "card", "ach", "other")


def if_modified_since(moment: dt.datetime) -> str:
    """Xero's ``If-Modified-Since``: UTC to the second (X.md §3), floored (never later than asked), with the ``Z``
    the spec's ``format: date-time`` (RFC 3339) requires: ``2026-03-01T00:00:00Z``."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def xero_time(value: Any) -> dt.datetime | None:
    """``/Date(1552327126117+0000)/`` (MS-JSON, X.md §2) or ISO 8601; None when absent or unreadable."""
    if not value:
        return None
    text = str(value).strip()
    match = _MS_DATE.match(text)
    if match:
        return dt.datetime.fromtimestamp(int(match.group(1)) / 1000, tz=dt.UTC)
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _date(row: dict[str, Any], key: str) -> dt.date | None:
    """Invoice dates: ``DateString`` (``2026-03-01T00:00:00``) when present, else the MS-JSON ``Date``."""
    text = row.get(f"{key}String")
    if text:
        try:
            return dt.date.fromisoformat(str(text)[:10])
        except ValueError:
            pass
    moment = xero_time(row.get(key))
    return moment.date() if moment else None


def _address(addresses: Any, kind: str) -> Address | None:
    raw = next((a for a in addresses or [] if isinstance(a, dict) and a.get("AddressType") == kind), None)
    if raw is None:
        return None
    extra = " ".join(str(raw[k]).strip() for k in ("AddressLine2", "AddressLine3", "AddressLine4") if raw.get(k))
    addr = Address(
        line1=_text(raw.get("AddressLine1"), 200),
        line2=_text(extra, 200),
        city=_text(raw.get("City"), 100),
        region=_text(raw.get("Region"), 100),
        postal_code=_text(raw.get("PostalCode"), 30),
        country=_text(raw.get("Country"), 100),
    )
    return addr if any(addr.model_dump().values()) else None


def _phone(phones: Any) -> str | None:
    rows = {p.get("PhoneType"): p for p in phones or [] if isinstance(p, dict) and p.get("PhoneNumber")}
    for kind in PHONE_ORDER:
        p = rows.get(kind)
        if p:
            parts = [str(p.get(k) or "").strip() for k in ("PhoneCountryCode", "PhoneAreaCode", "PhoneNumber")]
            return _text(" ".join(x for x in parts if x), 30)
    return None


def customer(row: dict[str, Any]) -> ImportedCustomer:
    return ImportedCustomer(
        provider_id=str(row["ContactID"]),
        name=str(row.get("Name") or row["ContactID"]).strip(),
        given_name=_text(row.get("FirstName"), 100),
        family_name=_text(row.get("LastName"), 100),
        email=_text(row.get("EmailAddress"), 100),
        phone=_phone(row.get("Phones")),
        billing_address=_address(row.get("Addresses"), "POBOX"),  # the adapter pushes billing as POBOX
        shipping_address=_address(row.get("Addresses"), "STREET"),
        active=row.get("ContactStatus", "ACTIVE") == "ACTIVE",
        updated_at=xero_time(row.get("UpdatedDateUTC")),
    )


def item(row: dict[str, Any]) -> ImportedItem:
    sales = row.get("SalesDetails") or {}
    name = str(row.get("Name") or row.get("Code") or row["ItemID"]).strip()
    code = _text(row.get("Code"), 100)
    # BlueClerk pushes an item without a SKU with its name as the Code: that Code is not a SKU
    sku = None if code is None or code.casefold() == name[:30].strip().casefold() else code
    return ImportedItem(
        provider_id=str(row["ItemID"]),
        name=name,
        price=_money(sales.get("UnitPrice")),
        description=_text(row.get("Description"), 4000),
        sku=sku,
        income_account_id=_text(sales.get("AccountCode"), 50),  # BlueClerk maps Xero accounts by Code
        updated_at=xero_time(row.get("UpdatedDateUTC")),
    )


def invoice(row: dict[str, Any]) -> ImportedInvoice:
    lines = []
    for line in row.get("LineItems") or []:
        item_id = (line.get("Item") or {}).get("ItemID")
        if not item_id:
            continue  # account-coded lines without an item (see the module doc)
        amount = _money(line.get("LineAmount"))
        qty = _qty(line.get("Quantity"))
        price = (
            _money(line.get("UnitAmount"))
            if line.get("UnitAmount") is not None
            else (to_money(amount / qty) if qty else amount)
        )
        lines.append(
            ImportedLine(
                item_id=str(item_id),
                quantity=qty,
                unit_price=price,
                amount=amount,
                description=_text(line.get("Description"), 4000),
            )
        )
    status = str(row.get("Status") or "")
    return ImportedInvoice(
        provider_id=str(row["InvoiceID"]),
        number=_text(row.get("InvoiceNumber"), 255),
        customer_id=str((row.get("Contact") or {}).get("ContactID") or ""),
        lines=tuple(lines),
        total=_money(row.get("Total")),
        balance=_money(row.get("AmountDue")),
        issue_date=_date(row, "Date"),
        due_date=_date(row, "DueDate"),
        voided=status == "VOIDED",
        version=status or None,  # the sync adapter's Ref.version for Xero invoices is their Status
        marker=row.get("Reference"),
        updated_at=xero_time(row.get("UpdatedDateUTC")),
    )


def split_reference(reference: str | None) -> tuple[str | None, str]:
    """BlueClerk's pushed Reference is ``<reference> | method: <m> | BlueClerk payment <id>``: the person's
    reference and the method, back out of it."""
    method = "other"
    kept = []
    for part in (reference or "").split(" | "):
        part = part.strip()
        if part.startswith(_METHOD) and part[len(_METHOD) :] in METHODS:
            method = part[len(_METHOD) :]
        elif part and _MARKER not in part:
            kept.append(part)
    return (" | ".join(kept) or None), method


def payment(row: dict[str, Any]) -> ImportedPayment:
    amount = _money(row.get("Amount"))
    invoice_id = (row.get("Invoice") or {}).get("InvoiceID")
    applications = (Application(invoice_id=str(invoice_id), amount=amount),) if invoice_id else ()
    reference, method = split_reference(row.get("Reference"))
    moment = xero_time(row.get("Date"))
    updated = xero_time(row.get("UpdatedDateUTC"))
    return ImportedPayment(
        provider_id=str(row["PaymentID"]),
        date=moment.date() if moment else (updated or dt.datetime.now(dt.UTC)).date(),
        total=amount,
        applications=applications,
        method=method,
        reference=_text(reference, 100),
        marker=row.get("Reference"),
        voided=row.get("Status") == "DELETED" or amount == 0,
        updated_at=updated,
    )


class XeroImporter(KindPager):
    name = "xero"
    max_page_size = PAGE_SIZE
    kinds: tuple[Kind, ...] = KINDS

    def __init__(self, api_base: str | None = None, http: httpx.Client | None = None) -> None:
        self.api_base = (api_base or provider_url("XERO_API_URL")).rstrip("/")
        self._http = http
        self.round_trips = 0

    def read_kind(self, s: Session, kind: Kind, since: dt.datetime | None, token: str | None) -> KindPage:
        resource = RESOURCES[kind]
        params = dict(FILTERS[kind])
        page_number = int(token or 1)
        if kind in PAGED:
            params |= {"page": str(page_number), "pageSize": str(PAGE_SIZE), "order": f"{ID_FIELDS[kind]} ASC"}
        before = self.round_trips
        data = self._get(s, resource, params, since)
        rows = [r for r in data.get(resource) or [] if isinstance(r, dict)]
        got = KindPage(provider_time=xero_time(data.get("DateTimeUTC")), calls=self.round_trips - before)
        for row in rows:
            self._put(got, kind, row)
        if kind in PAGED and len(rows) >= PAGE_SIZE:
            pagination = data.get("pagination") or {}
            count = pagination.get("pageCount")
            if not isinstance(count, int) or page_number < count:
                got.next_token = str(page_number + 1)
        return got

    @staticmethod
    def _put(got: KindPage, kind: Kind, row: dict[str, Any]) -> None:
        if kind == "customer":
            if row.get("IsSupplier") is True and row.get("IsCustomer") is not True:
                return  # a supplier only: not a BlueClerk customer
            got.records.append(customer(row))
        elif kind == "item":
            got.records.append(item(row))
        elif kind == "invoice":
            status = str(row.get("Status") or "")
            if status == "DELETED":
                got.deleted.append(str(row["InvoiceID"]))
            elif status in IMPORTED_INVOICE_STATUSES and row.get("Type", "ACCREC") == "ACCREC":
                got.records.append(invoice(row))
        elif row.get("PaymentType", "ACCRECPAYMENT") == "ACCRECPAYMENT":
            got.records.append(payment(row))

    # ---- HTTP ---------------------------------------------------------------------------------------------------
    def _get(self, s: Session, resource: str, params: dict[str, str], since: dt.datetime | None) -> dict[str, Any]:
        url = f"{self.api_base}{API_PATH}/{resource}"
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {s.access_token}",
                "xero-tenant-id": s.tenant_id,
                "Accept": "application/json",
            }
            if since is not None:
                headers["If-Modified-Since"] = if_modified_since(since)
            self.round_trips += 1
            try:
                resp = (self._http or client("xero")).get(url, params=params, headers=headers)
            except httpx.TimeoutException as exc:
                raise Unavailable("Xero timed out") from exc
            except httpx.HTTPError as exc:
                raise Unavailable("Xero connection failed") from exc
            if resp.status_code == 401 and attempt == 1:
                s.access_token = s.on_unauthorized(s.access_token)
                continue
            if resp.status_code == 304:  # nothing modified since (a list answers 200 with no rows; both mean none)
                return {}
            return XeroAccounting._parse(resp)
        raise Unauthorized("Xero refused the access token twice")  # pragma: no cover - loop always returns


__all__ = ["XeroImporter"]
