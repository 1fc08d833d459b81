"""FreshBooks importer: the :class:`~booksync.imports.ports.ImportSource` of the FreshBooks adapter.

How it reads (../shared/providers/freshbooks.md §3 "Lists, pagination", "Incremental sync"):

- Kind by kind (:class:`~booksync.imports.paging.KindPager`): ``GET /accounting/account/{account_id}/users/clients``,
  ``items/items``, ``invoices/invoices?include[]=lines`` (lines are not returned by default) and
  ``payments/payments``, each with ``page`` (1-based) and ``per_page=100`` (FreshBooks' cap; a larger value is cut
  silently, so the importer never assumes it: it follows the ``pages`` of each answer).
- Every answer carries ``page``/``pages``/``per_page``/``total``: the importer stops at ``page == pages`` and never
  asks for the empty page after the last one. A kind of N records costs ceil(N / 100) calls (one call when N = 0).
- Changes since the last run: ``search[updated_min]=YYYY-MM-DD``. The filter is **day-granular** and FreshBooks'
  dates are **US/Eastern** (no offset): the importer asks from the Eastern date of ``since`` minus
  :data:`DAY_OVERLAP` (so a wrong guess of the zone, or DST, can only re-read, never miss). What is re-read is matched
  by provider id and found unchanged by the service.
- FreshBooks has no server time in its answers, so ``provider_time`` is our clock before the first request (the
  service subtracts its overlap from it next week; the day overlap above dwarfs any clock skew).
- Invoice lines carry **no item id** (they are free text: ``name``, ``description``, ``qty``, ``unit_cost``): each
  line names its item (``ImportedLine.item_name``) and the service matches BlueClerk's item of that name. BlueClerk
  writes the item's name as the line name when it pushes an invoice, so its own invoices round-trip.
- Deleted objects (``vis_state`` 1) are not listed by default and not asked for (how to list them is UNCONFIRMED);
  archived ones (``vis_state`` 2) are imported as inactive.

The cursor token of a kind is the next page number.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from booksync.catalog.models import Address
from booksync.ids import utcnow
from booksync.imports import parse
from booksync.imports.paging import KindPage, KindPager
from booksync.imports.parse import iso_date as _date
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
    named_item,
)
from booksync.money import to_money
from booksync.providers.freshbooks.accounting import PER_PAGE, FreshBooksAccounting
from booksync.sync.ports import Session

# kind -> (path below /accounting/account/{account_id}/, the list's key in the answer)
RESOURCES: dict[Kind, tuple[str, str]] = {
    "customer": ("users/clients", "clients"),
    "item": ("items/items", "items"),
    "invoice": ("invoices/invoices", "invoices"),
    "payment": ("payments/payments", "payments"),
}
DAY_OVERLAP = dt.timedelta(days=1)  # updated_min is a US/Eastern *date*: ask one more day than the watermark says


def _eastern() -> dt.tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("America/New_York")
    except Exception:  # no tz database: a fixed offset (the day overlap covers DST)
        return dt.timezone(dt.timedelta(hours=-5))


EASTERN = _eastern()


def updated_min(since: dt.datetime) -> str:
    """The ``search[updated_min]`` date for changes at or after ``since``."""
    moment = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
    return (moment.astimezone(EASTERN) - DAY_OVERLAP).date().isoformat()


def _time(value: Any) -> dt.datetime | None:
    """FreshBooks' accounting times: ``2020-11-16 21:27:03`` in US/Eastern without an offset (an ISO time with an
    offset is honoured)."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=EASTERN)
    return parsed.astimezone(dt.UTC)


def _money(value: Any) -> Decimal:
    """FreshBooks money is an object, ``{"amount": "12.50", "code": "USD"}``; the shared reader does the rest."""
    return parse.money(value.get("amount") if isinstance(value, dict) else value)


def _address(row: dict[str, Any], prefix: str) -> Address | None:
    addr = Address(
        line1=_text(row.get(f"{prefix}_street"), 200),
        line2=_text(row.get(f"{prefix}_street2"), 200),
        city=_text(row.get(f"{prefix}_city"), 100),
        region=_text(row.get(f"{prefix}_province"), 100),
        postal_code=_text(row.get(f"{prefix}_code"), 30),
        country=_text(row.get(f"{prefix}_country"), 100),
    )
    return addr if any(addr.model_dump().values()) else None


def _active(row: dict[str, Any]) -> bool:
    return str(row.get("vis_state", 0)) == "0"


def _method(kind: Any) -> str:
    name = str(kind or "").casefold()
    if name == "cash":
        return "cash"
    if name in ("check", "cheque"):
        return "check"
    if name in ("ach", "bank transfer", "debit"):
        return "ach"
    if name in ("credit card", "visa", "mastercard", "discover", "nova", "amex", "diners", "eurocard", "jcb"):
        return "card"
    return "other"


def customer(row: dict[str, Any]) -> ImportedCustomer:
    organization = _text(row.get("organization"), 100)
    given, family = _text(row.get("fname"), 100), _text(row.get("lname"), 100)
    person = " ".join(p for p in (given, family) if p) or None
    email = _text(row.get("email"), 100)
    return ImportedCustomer(
        provider_id=str(row["id"]),
        name=organization or person or email or str(row["id"]),
        # BlueClerk writes every customer's name as `organization`: a company name only when it is not the person's
        company_name=organization if not person or (organization or "").casefold() != person.casefold() else None,
        given_name=given,
        family_name=family,
        email=email,
        phone=_text(row.get("bus_phone") or row.get("mob_phone") or row.get("home_phone"), 30),
        billing_address=_address(row, "p"),
        shipping_address=_address(row, "s"),
        active=_active(row),
        created_at=_time(row.get("signup_date") or row.get("created_at")),
        updated_at=_time(row.get("updated")),
    )


def item(row: dict[str, Any]) -> ImportedItem:
    return ImportedItem(
        provider_id=str(row["id"]),
        name=str(_text(row.get("name"), 100) or row["id"]),
        price=_money(row.get("unit_cost")),
        description=_text(row.get("description"), 4000),
        sku=_text(row.get("sku"), 100),
        active=_active(row),
        created_at=_time(row.get("created_at")),
        updated_at=_time(row.get("updated")),
    )


def invoice(row: dict[str, Any]) -> ImportedInvoice:
    lines = []
    for line in row.get("lines") or []:
        name = _text(line.get("name"), 100) or _text(line.get("description"), 100)
        if not name:
            continue
        qty = parse.quantity(line.get("qty"))
        price = _money(line.get("unit_cost"))
        amount = _money(line.get("amount")) if line.get("amount") is not None else to_money(qty * price)
        lines.append(
            ImportedLine(
                item_id=named_item(name),
                item_name=name,
                quantity=qty,
                unit_price=price,
                amount=amount,
                description=_text(line.get("description"), 4000),
            )
        )
    return ImportedInvoice(
        provider_id=str(row["id"]),
        number=_text(row.get("invoice_number"), 50),
        customer_id=str(row.get("customerid") or ""),
        lines=tuple(lines),
        total=_money(row.get("amount")),
        balance=_money(row.get("outstanding")),
        issue_date=_date(row.get("create_date")),
        due_date=_date(row.get("due_date")),
        voided=str(row.get("vis_state", 0)) == "1",
        marker=row.get("notes"),
        created_at=_time(row.get("created_at")),
        updated_at=_time(row.get("updated")),
    )


def payment(row: dict[str, Any]) -> ImportedPayment:
    note = str(row.get("note") or "")
    amount = _money(row.get("amount"))
    if "BlueClerk payment " in note:  # ours: "BlueClerk payment pay_… (ref CHK-1)"
        reference = _text(note.split("(ref ", 1)[1].rsplit(")", 1)[0], 21) if "(ref " in note else None
    else:
        reference = _text(note, 21)
    applications = (Application(invoice_id=str(row["invoiceid"]), amount=amount),) if row.get("invoiceid") else ()
    return ImportedPayment(
        provider_id=str(row["id"]),
        date=_date(row.get("date")) or utcnow().date(),
        total=amount,
        applications=applications,
        method=_method(row.get("type")),
        reference=reference,
        marker=note or None,
        voided=not _active(row) or amount == 0,
        created_at=_time(row.get("created_at")),
        updated_at=_time(row.get("updated")),
    )


MAPPERS: dict[Kind, Any] = {"customer": customer, "item": item, "invoice": invoice, "payment": payment}


class FreshBooksImporter(KindPager):
    name = "freshbooks"
    max_page_size = PER_PAGE  # FreshBooks silently caps per_page at 100
    kinds: tuple[Kind, ...] = KINDS

    def __init__(self, api: FreshBooksAccounting | None = None, clock: Any = utcnow) -> None:
        self.api = api or FreshBooksAccounting()  # its HTTP, error mapping and 401-refresh; its own call counter
        self.clock = clock

    def read_kind(self, s: Session, kind: Kind, since: dt.datetime | None, token: str | None) -> KindPage:
        path, plural = RESOURCES[kind]
        page = int(token) if token else 1
        params = {"page": str(page), "per_page": str(self.max_page_size)}
        if since is not None:
            params["search[updated_min]"] = updated_min(since)
        if kind == "invoice":
            params["include[]"] = "lines"
        asked_at = self.clock()
        before = self.api.round_trips
        result = self.api._result(self.api._send(s, "GET", self.api._url(s, path), params=params))
        rows = [r for r in result.get(plural) or [] if isinstance(r, dict) and r.get("id") is not None]
        answered = int(result.get("page") or page)
        pages = int(result.get("pages") or 0)
        return KindPage(
            records=[MAPPERS[kind](r) for r in rows],
            next_token=str(answered + 1) if answered < pages else None,
            provider_time=asked_at,
            calls=self.api.round_trips - before,
        )
