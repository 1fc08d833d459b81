"""A helper for providers that page each kind on its own (Xero ``page=``, FreshBooks ``page``/``per_page``, Wave
GraphQL ``page``): implement :meth:`KindPager.read_kind`; :meth:`KindPager.read` walks the kinds in dependency
order and keeps the cursor (``{"k": kind index, "t": provider token}``) opaque to the service.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from booksync.imports.ports import (
    KINDS,
    Deleted,
    ImportedCustomer,
    ImportedInvoice,
    ImportedItem,
    ImportedPayment,
    ImportPage,
    Kind,
)
from booksync.sync.ports import Session


@dataclass
class KindPage:
    """One page of one kind: its records (all of that kind), deletions, and the token of the next page."""

    records: list[Any] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # provider ids of that kind deleted upstream
    next_token: str | None = None  # None: this kind is done
    provider_time: dt.datetime | None = None
    calls: int = 1
    # records of a kind that came nested in these (Wave: each invoice's payments); see KindPager.nested_kinds
    nested: dict[Kind, list[Any]] = field(default_factory=dict)


def page_of(kind: Kind, records: list[Any]) -> ImportPage:
    page = ImportPage()
    target: dict[str, list[Any]] = {
        "customer": page.customers,
        "item": page.items,
        "invoice": page.invoices,
        "payment": page.payments,
    }
    target[kind].extend(records)
    return page


_FIELDS = {"customer": "customers", "item": "items", "invoice": "invoices", "payment": "payments"}
_TYPES = {"customer": ImportedCustomer, "item": ImportedItem, "invoice": ImportedInvoice, "payment": ImportedPayment}


class KindPager:
    """Base for kind-by-kind adapters. Subclasses set ``name``, ``max_page_size``, ``kinds`` and ``read_kind``."""

    name = "abstract"
    max_page_size = 100
    kinds: tuple[Kind, ...] = KINDS
    # kind -> the kind whose pages carry it (Wave: {"payment": "invoice"}): never walked on its own; its records come
    # in ``KindPage.nested`` of the carrier's pages and are kept when it is wanted
    nested_kinds: dict[Kind, Kind] = {}  # noqa: RUF012 - read-only class default

    def read_kind(self, s: Session, kind: Kind, since: dt.datetime | None, token: str | None) -> KindPage:
        raise NotImplementedError

    def read(self, s: Session, kinds: Sequence[Kind], since: dt.datetime | None, cursor: str | None) -> ImportPage:
        carriers = {c for n, c in self.nested_kinds.items() if n in kinds and n in self.kinds}
        wanted = [k for k in KINDS if (k in kinds or k in carriers) and k in self.kinds and k not in self.nested_kinds]
        state = json.loads(cursor) if cursor else {"k": 0, "t": None}
        index = int(state["k"])
        if index >= len(wanted):
            return ImportPage(calls=0, label="nothing to read")
        kind = wanted[index]
        got = self.read_kind(s, kind, since, state.get("t"))
        for record in got.records:
            if not isinstance(record, _TYPES[kind]):  # a mixed-up adapter must fail loudly, not import garbage
                raise TypeError(f"{self.name}.read_kind({kind!r}) returned a {type(record).__name__}")
        page = page_of(kind, got.records if kind in kinds else [])
        for inner, records in got.nested.items():
            if self.nested_kinds.get(inner) != kind or any(not isinstance(r, _TYPES[inner]) for r in records):
                raise TypeError(f"{self.name}.read_kind({kind!r}) nested {inner!r} records it does not carry")
            if inner in kinds:
                getattr(page, _FIELDS[inner]).extend(records)
        page.deleted = [Deleted(kind, pid) for pid in got.deleted]
        page.provider_time = got.provider_time
        page.calls = got.calls
        page.label = f"{kind} page"
        if got.next_token is not None:
            page.next_cursor = json.dumps({"k": index, "t": got.next_token})
        elif index + 1 < len(wanted):
            page.next_cursor = json.dumps({"k": index + 1, "t": None})
        return page
