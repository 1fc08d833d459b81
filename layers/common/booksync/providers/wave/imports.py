"""Wave importer: the :class:`~booksync.imports.ports.ImportSource` of the Wave adapter (a :class:`KindPager`).

How it reads (../shared/providers/wave.md §3 "Listing and pagination"; docs/providers/wave-import.md):

- One GraphQL query per page of one kind: ``business(id) { customers | products | invoices(page, pageSize: 200,
  sort: [CREATED_AT_ASC], modifiedAtAfter) { pageInfo { currentPage totalPages totalCount } edges { node } } }``.
  ``pageSize`` is Wave's cap (200, secondary). The first page's ``pageInfo.totalPages`` says how many pages the kind
  has, so the importer never asks for an empty page: a kind of N records costs exactly ceil(N / 200) calls (one call
  when N = 0), and an unchanged week costs one call per kind.
- Ordering by creation time keeps offsets stable while the books change during a run: an edited record keeps its
  place and a new one is appended (ordered by name, a rename would shift every later record by one and skip one).
- **Payments** have no list of their own in Wave's public API: they come nested in their invoice
  (``invoice.payments``), so they ride on the invoice pages (``nested_kinds = {"payment": "invoice"}``) and cost no
  call of their own. A payment added in Wave also changes its invoice's ``modifiedAt`` in the sandbox (UNCONFIRMED for
  Wave itself: if it does not, a payment reaches BlueClerk the next time its invoice changes).
- **Archived** customers and products are imported as inactive (``active=False``): invoices still refer to them.
  Products that are not sold (no income account: bought-only) are not BlueClerk items and are skipped.
- **Draft** invoices are not in the books yet (Wave posts an invoice when it is approved) and are skipped; approving one
  changes its ``modifiedAt``, so it comes with the next run. Wave has no void status: ``voided`` is always False.
- Wave's API has no server clock: ``provider_time`` is our clock taken *before* the kind's first request (the
  service's 10-minute overlap covers clock skew).

The cursor token is the next page number of the current kind (the service's cursor survives a restart).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from booksync.catalog.models import Address
from booksync.ids import utcnow
from booksync.imports.paging import KindPage, KindPager
from booksync.imports.parse import iso_date as _date
from booksync.imports.parse import iso_time as _time
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
from booksync.providers.wave.accounting import WaveAccounting
from booksync.sync.ports import NotFoundUpstream, RateLimited, Session

MAX_PAGE_SIZE = 200  # Wave's pageSize cap (secondary)
RATE_LIMIT_WAIT = 60  # a 429 without Retry-After: Wave's window is "~60 requests/minute" (secondary)

_ADDRESS = "address { addressLine1 addressLine2 city postalCode province { code name } country { code name } }"
_PAGE_INFO = "pageInfo { currentPage totalPages totalCount }"
_PAYMENT = "payments { id amount paymentDate paymentMethod memo createdAt modifiedAt }"
_ITEMS = "items { product { id } description quantity unitPrice subtotal { value } total { value } }"
# Root field, document. ``$after`` is left out of the variables for a full import (no filter at all).
DOCUMENTS: dict[Kind, tuple[str, str]] = {
    "customer": (
        "customers",
        f"""
query ImportCustomers($businessId: ID!, $page: Int!, $pageSize: Int!, $after: DateTime) {{
  business(id: $businessId) {{
    id
    customers(page: $page, pageSize: $pageSize, sort: [CREATED_AT_ASC], modifiedAtAfter: $after) {{
      {_PAGE_INFO}
      edges {{ node {{
        id name firstName lastName displayId email mobile phone isArchived createdAt modifiedAt
        {_ADDRESS}
      }} }}
    }}
  }}
}}""",
    ),
    "item": (
        "products",
        f"""
query ImportProducts($businessId: ID!, $page: Int!, $pageSize: Int!, $after: DateTime) {{
  business(id: $businessId) {{
    id
    products(page: $page, pageSize: $pageSize, sort: [CREATED_AT_ASC], modifiedAtAfter: $after) {{
      {_PAGE_INFO}
      edges {{ node {{
        id name description unitPrice isSold isArchived createdAt modifiedAt incomeAccount {{ id }}
      }} }}
    }}
  }}
}}""",
    ),
    "invoice": (
        "invoices",
        f"""
query ImportInvoices($businessId: ID!, $page: Int!, $pageSize: Int!, $after: DateTime) {{
  business(id: $businessId) {{
    id
    invoices(page: $page, pageSize: $pageSize, sort: [CREATED_AT_ASC], modifiedAtAfter: $after) {{
      {_PAGE_INFO}
      edges {{ node {{
        id invoiceNumber status invoiceDate dueDate memo createdAt modifiedAt
        customer {{ id }}
        total {{ value }}
        amountDue {{ value }}
        {_ITEMS}
        {_PAYMENT}
      }} }}
    }}
  }}
}}""",
    ),
}
PAYMENT_METHODS = {"CASH": "cash", "CHEQUE": "check", "CREDIT_CARD": "card", "BANK_TRANSFER": "ach"}
NOT_IN_THE_BOOKS = ("DRAFT",)


def wave_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _value(money: Any) -> Decimal:
    """A ``Money { value }`` object (a decimal string) as cents."""
    return _money(money.get("value") if isinstance(money, dict) else None)


def _address(raw: Any) -> Address | None:
    if not isinstance(raw, dict):
        return None
    province = (raw.get("province") or {}).get("code") or ""
    addr = Address(
        line1=_text(raw.get("addressLine1"), 200),
        line2=_text(raw.get("addressLine2"), 200),
        city=_text(raw.get("city"), 100),
        region=_text(province.split("-", 1)[-1], 100),  # ISO 3166-2 "US-CA" -> "CA"
        postal_code=_text(raw.get("postalCode"), 30),
        country=_text((raw.get("country") or {}).get("code"), 100),
    )
    return addr if any(addr.model_dump().values()) else None


def customer(row: dict[str, Any]) -> ImportedCustomer:
    return ImportedCustomer(
        provider_id=str(row["id"]),
        name=str(row.get("name") or row["id"]),
        given_name=_text(row.get("firstName"), 100),
        family_name=_text(row.get("lastName"), 100),
        email=_text(row.get("email"), 100),
        phone=_text(row.get("phone") or row.get("mobile"), 30),
        billing_address=_address(row.get("address")),
        active=not row.get("isArchived"),
        created_at=_time(row.get("createdAt")),
        updated_at=_time(row.get("modifiedAt")),
    )


def item(row: dict[str, Any]) -> ImportedItem:
    return ImportedItem(
        provider_id=str(row["id"]),
        name=str(row.get("name") or row["id"]),
        price=_money(row.get("unitPrice")),
        description=_text(row.get("description"), 4000),
        active=not row.get("isArchived"),
        income_account_id=(row.get("incomeAccount") or {}).get("id"),
        created_at=_time(row.get("createdAt")),
        updated_at=_time(row.get("modifiedAt")),
    )


def _reference(memo: str | None) -> str | None:
    """BlueClerk writes ``BlueClerk payment <id> (ref <reference>)`` into the memo; another memo is the reference."""
    if not memo:
        return None
    if memo.startswith("BlueClerk payment "):
        _, _, ref = memo.partition(" (ref ")
        return _text(ref[:-1] if ref.endswith(")") else ref, 21)
    return _text(memo, 21)


def payment(row: dict[str, Any], invoice_id: str) -> ImportedPayment:
    amount = _money(row.get("amount"))
    memo = row.get("memo")
    return ImportedPayment(
        provider_id=str(row["id"]),
        date=_date(row.get("paymentDate")) or utcnow().date(),
        total=amount,
        applications=(Application(invoice_id=invoice_id, amount=amount),),
        method=PAYMENT_METHODS.get(str(row.get("paymentMethod") or ""), "other"),
        reference=_reference(memo),
        marker=memo,
        voided=amount <= 0,
        created_at=_time(row.get("createdAt")),
        updated_at=_time(row.get("modifiedAt")),
    )


def invoice(row: dict[str, Any]) -> ImportedInvoice:
    lines = []
    for line in row.get("items") or []:
        product_id = (line.get("product") or {}).get("id")
        if not product_id:
            continue
        lines.append(
            ImportedLine(
                item_id=str(product_id),
                quantity=_qty(line.get("quantity")),
                unit_price=_money(line.get("unitPrice")),
                amount=_value(line.get("subtotal")),
                description=_text(line.get("description"), 4000),
            )
        )
    return ImportedInvoice(
        provider_id=str(row["id"]),
        number=_text(row.get("invoiceNumber"), 21),
        customer_id=str((row.get("customer") or {}).get("id") or ""),
        lines=tuple(lines),
        total=_value(row.get("total")),
        balance=_value(row.get("amountDue")),
        issue_date=_date(row.get("invoiceDate")),
        due_date=_date(row.get("dueDate")),
        marker=row.get("memo"),
        created_at=_time(row.get("createdAt")),
        updated_at=_time(row.get("modifiedAt")),
    )


class WaveImporter(KindPager):
    name = "wave"
    max_page_size = MAX_PAGE_SIZE
    kinds: tuple[Kind, ...] = KINDS
    nested_kinds: dict[Kind, Kind] = {"payment": "invoice"}  # noqa: RUF012 - read-only class attribute

    def __init__(
        self,
        api_base: str | None = None,
        http: httpx.Client | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.api = WaveAccounting(api_base=api_base, http=http)  # its HTTP, 401 refresh and error mapping
        self.clock = clock  # None: booksync.ids.utcnow (looked up per call)
        self.page_size = MAX_PAGE_SIZE  # what every request asks for (tests may lower it with the sandbox's cap)
        self.round_trips = 0
        self.sent: list[str] = []  # kinds asked for, in order (tests validate every document against the schema)

    def read_kind(self, s: Session, kind: Kind, since: dt.datetime | None, token: str | None) -> KindPage:
        page = int(token or 1)
        before, asked_at = self.round_trips, (self.clock or utcnow)()
        field, document = DOCUMENTS[kind]
        variables: dict[str, Any] = {"businessId": s.tenant_id, "page": page, "pageSize": self.page_size}
        if since is not None:
            variables["after"] = wave_time(since)
        data = self._send(s, kind, document, variables)
        business = data.get("business")
        if business is None:
            raise NotFoundUpstream("Wave no longer gives this connection access to the business")
        block = business.get(field) or {}
        rows = [edge["node"] for edge in block.get("edges") or [] if isinstance(edge, dict) and edge.get("node")]
        out = KindPage(provider_time=asked_at if page == 1 else None)
        if kind == "customer":
            out.records = [customer(r) for r in rows]
        elif kind == "item":
            out.records = [item(r) for r in rows if r.get("isSold", True)]
        else:
            booked = [r for r in rows if r.get("status") not in NOT_IN_THE_BOOKS]
            out.records = [invoice(r) for r in booked]
            out.nested["payment"] = [payment(p, str(r["id"])) for r in booked for p in r.get("payments") or []]
        total_pages = int((block.get("pageInfo") or {}).get("totalPages") or 0)
        if page < total_pages and rows:
            out.next_token = str(page + 1)
        out.calls = self.round_trips - before
        return out

    # ---- GraphQL: WaveAccounting's request (401 refresh, error mapping) with this module's documents ---------------
    def _send(self, s: Session, kind: Kind, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        self.sent.append(kind)
        before = self.api.round_trips
        try:
            return self.api._send(s, f"{kind} import query", variables, document=document)
        except RateLimited as exc:  # no Retry-After: Wave's window is about a minute
            if exc.retry_after is None:
                raise RateLimited("Wave rate limit reached", retry_after=RATE_LIMIT_WAIT) from exc
            raise
        finally:
            self.round_trips += self.api.round_trips - before


__all__ = ["DOCUMENTS", "MAX_PAGE_SIZE", "WaveImporter"]
