"""The import port: what the import service needs from a provider to read its books page by page.

One adapter per provider implements :class:`ImportSource` (QuickBooks: ``providers/quickbooks/imports.py``). The
service never branches on a provider's name; the adapter maps the provider's records to the neutral records below
and decides how to page (QuickBooks: change data capture, else queries). A provider whose API pages each kind
separately can build on :class:`booksync.imports.paging.KindPager` and implement one method.

Records are the provider's view, already in BlueClerk's vocabulary (money as ``Decimal``, dates as ``date``).
Provider ids are strings. Nothing here writes anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, Protocol

from booksync.catalog.models import Address
from booksync.sync.ports import Session

Kind = Literal["customer", "item", "invoice", "payment"]
# Dependency order: invoices need their customers and items, payments their invoices.
KINDS: tuple[Kind, ...] = ("customer", "item", "invoice", "payment")


@dataclass(frozen=True)
class ImportedCustomer:
    provider_id: str
    name: str  # display name
    company_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    phone: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    active: bool = True
    parent_id: str | None = None  # provider id of the parent customer (a job / sub-customer)
    parent_name: str | None = None
    customer_type: str | None = None  # the provider's customer type / industry, when it has one
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class ImportedItem:
    provider_id: str
    name: str
    price: Decimal
    description: str | None = None
    sku: str | None = None
    active: bool = True
    income_account_id: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class ImportedLine:
    item_id: str  # provider id of the item
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    description: str | None = None
    # Set when the provider's line names its item instead of referencing it (FreshBooks lines are free text):
    # ``item_id`` is then ``named_item(item_name)`` and the service picks BlueClerk's item of that name.
    item_name: str | None = None


def named_item(name: str) -> str:
    """The ``ImportedLine.item_id`` of a line that only names its item (see ``ImportedLine.item_name``)."""
    return "name:" + " ".join(name.split()).casefold()


@dataclass(frozen=True)
class ImportedInvoice:
    provider_id: str
    number: str | None
    customer_id: str  # provider id of the customer
    lines: tuple[ImportedLine, ...]
    total: Decimal
    balance: Decimal
    issue_date: dt.date | None = None
    due_date: dt.date | None = None
    voided: bool = False
    version: str | None = None  # the provider's optimistic-lock token (QuickBooks SyncToken)
    marker: str | None = None  # private note / reference, where BlueClerk writes `invoice_marker(id)`
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class Application:
    """The part of a payment applied to one invoice."""

    invoice_id: str  # provider id of the invoice
    amount: Decimal


@dataclass(frozen=True)
class ImportedPayment:
    provider_id: str
    date: dt.date
    total: Decimal
    applications: tuple[Application, ...]
    method: str = "other"  # BlueClerk's PaymentMethod value (cash/check/card/ach/other)
    reference: str | None = None
    marker: str | None = None  # where BlueClerk writes `payment_marker(id)`
    voided: bool = False
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


@dataclass(frozen=True)
class Deleted:
    kind: Kind
    provider_id: str


@dataclass
class ImportPage:
    """One provider answer (or a few, for a provider that needs them to make one page)."""

    customers: list[ImportedCustomer] = field(default_factory=list)
    items: list[ImportedItem] = field(default_factory=list)
    invoices: list[ImportedInvoice] = field(default_factory=list)
    payments: list[ImportedPayment] = field(default_factory=list)
    deleted: list[Deleted] = field(default_factory=list)
    next_cursor: str | None = None  # None: the run has read everything
    provider_time: dt.datetime | None = None  # the provider's clock when it answered (the next run's watermark)
    calls: int = 1  # provider requests this page cost
    label: str = ""  # what was read, for logs and run status ("cdc", "customer 1-1000")

    def size(self) -> int:
        return len(self.customers) + len(self.items) + len(self.invoices) + len(self.payments) + len(self.deleted)


class ImportSource(Protocol):
    """Reads a provider's customers, items, invoices and payments changed since a time, a page at a time."""

    name: str
    max_page_size: int  # the most records one provider request returns (QuickBooks MAXRESULTS 1000)
    kinds: tuple[Kind, ...]  # what this provider exposes, in KINDS order

    def read(self, s: Session, kinds: Sequence[Kind], since: dt.datetime | None, cursor: str | None) -> ImportPage:
        """The next page of ``kinds`` changed at or after ``since`` (None: everything). ``cursor`` is the
        ``next_cursor`` of the previous page (None to start); it is opaque to the caller and survives a restart.
        Records of a page come in KINDS order when a page mixes kinds. Raises the port's ``ProviderError``s."""
        ...
