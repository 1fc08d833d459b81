"""QuickBooks Online importer: the :class:`~booksync.imports.ports.ImportSource` of the QuickBooks adapter.

How it reads (../shared/providers/quickbooks.md §3 "Queries", "Incremental sync", §5 batch):

- **Change data capture** when the run has a ``since`` inside CDC's 30-day look-back (29 days by our clock, for
  skew): ONE ``GET /cdc?entities=Customer,Item,Invoice,Payment&changedSince=...`` — an unchanged week costs one
  call. CDC answers at most 1000 objects in all and says nothing when it cut the list, so an answer of 1000 or more
  objects is treated as cut: its deletions are kept and the run falls back to queries from the same ``since``.
  A CDC refused for its ``changedSince`` (the company's clock ran further than ours) also falls back to queries.
- **Queries** for a first full import, or when ``since`` is older than the look-back:
  ``select * from <Entity> [where Metadata.LastUpdatedTime >= '<since>'] [and Active IN (true, false)]
  orderby Id startposition N maxresults 1000``. Ordering by ``Id`` keeps positions stable while the books change
  (an edited record keeps its place; new ones are appended). The first page of each kind is sent as a **batch**
  together with ``select count(*)`` of the same filter, so the importer knows when the last page has come and never
  asks for an empty page: a kind of N records costs exactly ceil(N / 1000) calls (one call when N = 0).
- Name-list queries return only active records unless the query names ``Active``; inactive customers and items are
  imported too (their invoices refer to them).

The cursor is JSON: ``{"m": "q", "k": <kind index>, "s": <start position>, "n": <total from count(*)>}``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from booksync.catalog.models import Address
from booksync.ids import utcnow
from booksync.imports.parse import iso_date as _date
from booksync.imports.parse import iso_time as _time
from booksync.imports.parse import money as _money
from booksync.imports.parse import quantity as _qty
from booksync.imports.parse import text as _text
from booksync.imports.ports import (
    KINDS,
    Application,
    Deleted,
    ImportedCustomer,
    ImportedInvoice,
    ImportedItem,
    ImportedLine,
    ImportedPayment,
    ImportPage,
    Kind,
)
from booksync.money import to_money
from booksync.providers.quickbooks.accounting import QuickBooksAccounting
from booksync.sync.ports import Rejected, Session

ENTITIES: dict[Kind, str] = {"customer": "Customer", "item": "Item", "invoice": "Invoice", "payment": "Payment"}
_KIND_OF = {v: k for k, v in ENTITIES.items()}
MAX_RESULTS = 1000  # QuickBooks' MAXRESULTS ceiling
CDC_MAX_OBJECTS = 1000  # CDC's cap on one answer, over all entities
CDC_LOOKBACK = dt.timedelta(days=30)
CDC_SAFETY = dt.timedelta(days=1)
NAME_LISTS = ("customer", "item")
IMPORTED_ITEM_TYPES = ("Service", "NonInventory", "Inventory")  # Category / Group items are not sellable lines


def qbo_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _address(raw: Any) -> Address | None:
    if not isinstance(raw, dict):
        return None
    extra = " ".join(str(raw[k]) for k in ("Line2", "Line3", "Line4", "Line5") if raw.get(k))
    addr = Address(
        line1=_text(raw.get("Line1"), 200),
        line2=_text(extra, 200),
        city=_text(raw.get("City"), 100),
        region=_text(raw.get("CountrySubDivisionCode"), 100),
        postal_code=_text(raw.get("PostalCode"), 30),
        country=_text(raw.get("Country"), 100),
    )
    return addr if any(addr.model_dump().values()) else None


def _ref(raw: Any) -> str | None:
    if isinstance(raw, dict) and raw.get("value") not in (None, ""):
        return str(raw["value"])
    return None


def _method(raw: Any) -> str:
    name = str(raw.get("name", "")).casefold() if isinstance(raw, dict) else ""
    if name == "cash":
        return "cash"
    if name in ("check", "cheque"):
        return "check"
    if any(w in name for w in ("visa", "mastercard", "master card", "american express", "amex", "discover", "card")):
        return "card"
    if any(w in name for w in ("ach", "eft", "direct deposit", "bank transfer")):
        return "ach"
    return "other"  # QuickBooks often sends only the id; BlueClerk does not look the name up per payment


def _voided(row: dict[str, Any]) -> bool:
    return str(row.get("PrivateNote") or "").startswith("Voided")


def customer(row: dict[str, Any]) -> ImportedCustomer:
    meta = row.get("MetaData") or {}
    parent_ref = row.get("ParentRef") or {}
    parent_id = _ref(parent_ref)
    parent_name = None
    if parent_id:  # a job / sub-customer; ParentRef.name is the parent's fully qualified name ("A:B")
        if parent_ref.get("name"):
            parent_name = str(parent_ref["name"]).split(":")[-1]
        else:
            parts = str(row.get("FullyQualifiedName") or "").split(":")
            parent_name = parts[-2] if len(parts) > 1 else None
    return ImportedCustomer(
        provider_id=str(row["Id"]),
        name=str(row.get("DisplayName") or row.get("FullyQualifiedName") or row["Id"]),
        company_name=_text(row.get("CompanyName"), 100),
        given_name=_text(row.get("GivenName"), 100),
        family_name=_text(row.get("FamilyName"), 100),
        email=_text((row.get("PrimaryEmailAddr") or {}).get("Address"), 100),
        phone=_text((row.get("PrimaryPhone") or {}).get("FreeFormNumber"), 30),
        billing_address=_address(row.get("BillAddr")),
        shipping_address=_address(row.get("ShipAddr")),
        active=row.get("Active") not in (False, "false"),
        parent_id=parent_id,
        parent_name=parent_name,
        customer_type=_text((row.get("CustomerTypeRef") or {}).get("name"), 100),
        created_at=_time(meta.get("CreateTime")),
        updated_at=_time(meta.get("LastUpdatedTime")),
    )


def item(row: dict[str, Any]) -> ImportedItem:
    meta = row.get("MetaData") or {}
    return ImportedItem(
        provider_id=str(row["Id"]),
        name=str(row.get("Name") or row["Id"]),
        price=_money(row.get("UnitPrice")),
        description=_text(row.get("Description"), 4000),
        sku=_text(row.get("Sku"), 100),
        active=row.get("Active") not in (False, "false"),
        income_account_id=_ref(row.get("IncomeAccountRef")),
        created_at=_time(meta.get("CreateTime")),
        updated_at=_time(meta.get("LastUpdatedTime")),
    )


def invoice(row: dict[str, Any]) -> ImportedInvoice:
    meta = row.get("MetaData") or {}
    lines = []
    for line in row.get("Line") or []:
        detail = line.get("SalesItemLineDetail") if line.get("DetailType") == "SalesItemLineDetail" else None
        if not detail or not _ref(detail.get("ItemRef")):
            continue  # sub-totals, discounts, description-only lines
        amount = _money(line.get("Amount"))
        qty = _qty(detail.get("Qty"))
        price = (
            _money(detail.get("UnitPrice"))
            if detail.get("UnitPrice") is not None
            else (to_money(amount / qty) if qty else amount)
        )
        lines.append(
            ImportedLine(
                item_id=str(_ref(detail.get("ItemRef"))),
                quantity=qty,
                unit_price=price,
                amount=amount,
                description=_text(line.get("Description"), 4000),
            )
        )
    return ImportedInvoice(
        provider_id=str(row["Id"]),
        number=_text(row.get("DocNumber"), 21),
        customer_id=str(_ref(row.get("CustomerRef")) or ""),
        lines=tuple(lines),
        total=_money(row.get("TotalAmt")),
        balance=_money(row.get("Balance")),
        issue_date=_date(row.get("TxnDate")),
        due_date=_date(row.get("DueDate")),
        voided=_voided(row),
        version=str(row.get("SyncToken")) if row.get("SyncToken") is not None else None,
        marker=row.get("PrivateNote"),
        created_at=_time(meta.get("CreateTime")),
        updated_at=_time(meta.get("LastUpdatedTime")),
    )


def payment(row: dict[str, Any]) -> ImportedPayment:
    meta = row.get("MetaData") or {}
    applications = []
    for line in row.get("Line") or []:
        for linked in line.get("LinkedTxn") or []:
            if linked.get("TxnType") == "Invoice" and linked.get("TxnId"):
                applications.append(Application(invoice_id=str(linked["TxnId"]), amount=_money(line.get("Amount"))))
    total = _money(row.get("TotalAmt"))
    return ImportedPayment(
        provider_id=str(row["Id"]),
        date=_date(row.get("TxnDate")) or utcnow().date(),
        total=total,
        applications=tuple(applications),
        method=_method(row.get("PaymentMethodRef")),
        reference=_text(row.get("PaymentRefNum"), 21),
        marker=row.get("PrivateNote"),
        voided=_voided(row) or total == 0,
        created_at=_time(meta.get("CreateTime")),
        updated_at=_time(meta.get("LastUpdatedTime")),
    )


def _put(page: ImportPage, kind: Kind, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        if row.get("status") == "Deleted":
            page.deleted.append(Deleted(kind, str(row["Id"])))
        elif kind == "customer":
            page.customers.append(customer(row))
        elif kind == "item":
            if row.get("Type", "Service") in IMPORTED_ITEM_TYPES:
                page.items.append(item(row))
        elif kind == "invoice":
            page.invoices.append(invoice(row))
        else:
            page.payments.append(payment(row))


class QuickBooksImporter:
    name = "quickbooks"
    max_page_size = MAX_RESULTS
    kinds: tuple[Kind, ...] = KINDS

    def __init__(self, api: QuickBooksAccounting | None = None, clock: Any = utcnow) -> None:
        self.api = api or QuickBooksAccounting()  # its HTTP, error mapping and 401-refresh; its own call counter
        self.clock = clock

    def read(self, s: Session, kinds: Sequence[Kind], since: dt.datetime | None, cursor: str | None) -> ImportPage:
        wanted = [k for k in KINDS if k in kinds]
        if not wanted:
            return ImportPage(calls=0, label="nothing to read")
        if cursor is None:
            if since is not None and self.clock() - since < CDC_LOOKBACK - CDC_SAFETY:
                return self._cdc(s, wanted, since)
            return self._query(s, wanted, since, {"m": "q", "k": 0, "s": 1, "n": None})
        return self._query(s, wanted, since, json.loads(cursor))

    # ---- CDC ------------------------------------------------------------------------------------------------------
    def _cdc(self, s: Session, wanted: list[Kind], since: dt.datetime) -> ImportPage:
        before = self.api.round_trips
        params = {"entities": ",".join(ENTITIES[k] for k in wanted), "changedSince": qbo_time(since)}
        try:
            data = self.api._send(s, "GET", "cdc", params=params)
        except Rejected as exc:  # changedSince refused (look-back): read the same window by queries instead
            fallback = {"m": "q", "k": 0, "s": 1, "n": None}
            return ImportPage(
                next_cursor=json.dumps(fallback),
                calls=self.api.round_trips - before,
                label=f"cdc refused ({exc.message[:80]}); falling back to queries",
            )
        page = ImportPage(provider_time=_time(data.get("time")), calls=self.api.round_trips - before, label="cdc")
        total = 0
        for block in data.get("CDCResponse") or []:
            for response in block.get("QueryResponse") or []:
                for entity, rows in response.items():
                    kind = _KIND_OF.get(entity)
                    if kind is None or not isinstance(rows, list):
                        continue
                    total += len(rows)
                    _put(page, kind, rows)
        if total >= CDC_MAX_OBJECTS:  # possibly cut: keep the deletions, read the changes by queries
            page.customers, page.items, page.invoices, page.payments = [], [], [], []
            page.next_cursor = json.dumps({"m": "q", "k": 0, "s": 1, "n": None})
            page.label = f"cdc answered {total} objects (its cap); reading the window by queries"
        return page

    # ---- queries --------------------------------------------------------------------------------------------------
    def _query(self, s: Session, wanted: list[Kind], since: dt.datetime | None, state: dict[str, Any]) -> ImportPage:
        index, start, total = int(state["k"]), int(state["s"]), state.get("n")
        if index >= len(wanted):
            return ImportPage(calls=0, label="nothing to read")
        kind = wanted[index]
        entity = ENTITIES[kind]
        where = []
        if since is not None:
            where.append(f"Metadata.LastUpdatedTime >= '{qbo_time(since)}'")
        if kind in NAME_LISTS:
            where.append("Active IN (true, false)")
        source = f"from {entity}" + (" where " + " and ".join(where) if where else "")
        select = f"select * {source} orderby Id startposition {start} maxresults {MAX_RESULTS}"
        before = self.api.round_trips
        if total is None:
            data = self.api._send(
                s,
                "POST",
                "batch",
                body={
                    "BatchItemRequest": [
                        {"bId": "count", "Query": f"select count(*) {source}"},
                        {"bId": "page", "Query": select},
                    ]
                },
            )
            answers = {a.get("bId"): a for a in data.get("BatchItemResponse") or []}
            for answer in answers.values():
                if answer.get("Fault"):
                    error = (answer["Fault"].get("Error") or [{}])[0]
                    raise Rejected(
                        f"QuickBooks refused the import query: {error.get('Message')}: {error.get('Detail')}"
                    )
            total = int((answers.get("count", {}).get("QueryResponse") or {}).get("totalCount", 0))
            response = answers.get("page", {}).get("QueryResponse") or {}
        else:
            data = self.api._send(s, "GET", "query", params={"query": select})
            response = data.get("QueryResponse") or {}
        rows = response.get(entity) or []
        page = ImportPage(
            provider_time=_time(data.get("time")),
            calls=self.api.round_trips - before,
            label=f"{kind} {start}-{start + len(rows) - 1} of {total}",
        )
        _put(page, kind, rows)
        read = start - 1 + len(rows)
        if len(rows) == MAX_RESULTS and read < int(total):
            page.next_cursor = json.dumps({"m": "q", "k": index, "s": start + MAX_RESULTS, "n": total})
        elif index + 1 < len(wanted):
            page.next_cursor = json.dumps({"m": "q", "k": index + 1, "s": 1, "n": None})
        return page
