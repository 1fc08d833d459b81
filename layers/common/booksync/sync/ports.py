"""The accounting port: what the sync engine needs from a provider. One adapter per provider implements it.

The engine never branches on a provider's name: differences (idempotency keys or not, how a payment is found again,
whether lines carry accounts) live in the adapters and in :class:`Capabilities`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from booksync.catalog.models import Customer, Item
from booksync.invoicing.models import Invoice, Payment


@dataclass(frozen=True)
class Ref:
    """A provider object: its id, and its optimistic-lock version where the provider has one (QuickBooks SyncToken)."""

    id: str
    version: str | None = None
    number: str | None = None
    marker: str | None = None  # what we wrote to recognise our own object (private note / reference)


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    type: str


@dataclass(frozen=True)
class LineRef:
    item: Ref
    account_id: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    description: str


@dataclass(frozen=True)
class Capabilities:
    idempotency_keys: bool  # provider replays a retried write (QuickBooks requestid, Xero Idempotency-Key)
    idempotency_key_max: int = 50
    # > 1: the adapter implements :class:`BatchingProvider` and ``push_many`` takes up to this many writes per call
    # (QuickBooks ``/batch`` 30, Xero arrays 50). 1: the engine pushes one object per call.
    max_batch: int = 1
    batch_mixes_kinds: bool = False  # one batch may carry customers and items together (QuickBooks), or not (Xero)


@dataclass
class Session:
    """Who we talk to and how to authenticate; ``on_unauthorized`` gets a fresh token once after a 401."""

    tenant_id: str
    access_token: str
    on_unauthorized: Callable[[str], str] = field(repr=False, default=lambda rejected: rejected)

    def __repr__(self) -> str:
        return f"Session(tenant_id={self.tenant_id!r})"


# ---- provider-neutral errors the adapters raise ------------------------------------------------------------------
class ProviderError(Exception):
    """A provider said no. ``retryable`` errors are retried with backoff; the others need a person."""

    code = "provider_rejected"
    retryable = False

    def __init__(self, message: str, *, retry_after: float | None = None, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.detail = detail


class Unavailable(ProviderError):
    """5xx, timeout, dropped connection: the outcome of a write is unknown."""

    code = "provider_unavailable"
    retryable = True


class RateLimited(ProviderError):
    code = "provider_unavailable"
    retryable = True


class Unauthorized(ProviderError):
    code = "needs_reauth"


class StaleObject(ProviderError):
    code = "stale_object"


class DuplicateNumber(ProviderError):
    code = "duplicate_invoice_number"


class DuplicateName(ProviderError):
    code = "duplicate_name"


class NotFoundUpstream(ProviderError):
    code = "provider_not_found"


class Rejected(ProviderError):
    code = "provider_rejected"


class PaymentAccountRefused(Rejected):
    """The deposit account mapped for a payment method (Settings > Account Mapping) was refused by the provider
    (deleted, archived, or not an account payments can go to). The message names the method and where to fix it."""

    code = "payment_account_invalid"


def payment_account_refused(provider_name: str, method: str, account_id: str, detail: str) -> PaymentAccountRefused:
    return PaymentAccountRefused(
        f"{provider_name} refused the deposit account mapped for {method} payments ({account_id}): {detail}. "
        f"Choose another account for '{method}' in Settings > Account Mapping (or clear it to use the default), "
        "then click Resync.",
        detail=detail,
    )


class AccountingProvider(Protocol):
    name: str
    capabilities: Capabilities

    def income_accounts(self, s: Session) -> list[Account]: ...

    # accounts a payment can be deposited to (Settings > Account Mapping, per payment method); [] when the provider
    # has no deposit account on payments
    def deposit_accounts(self, s: Session) -> list[Account]: ...

    # customers
    def find_customer(self, s: Session, customer: Customer) -> Ref | None: ...
    def create_customer(self, s: Session, customer: Customer, key: str) -> Ref: ...
    def update_customer(self, s: Session, ref: Ref, customer: Customer) -> Ref: ...

    # items (each carries the income account its invoice lines post to)
    def find_item(self, s: Session, item: Item) -> Ref | None: ...
    def create_item(self, s: Session, item: Item, account_id: str, key: str) -> Ref: ...
    def update_item(self, s: Session, ref: Ref, item: Item, account_id: str) -> Ref: ...

    # invoices
    def find_invoice(self, s: Session, number: str) -> Ref | None: ...
    def get_invoice(self, s: Session, ref: Ref) -> Ref: ...
    def create_invoice(self, s: Session, invoice: Invoice, customer: Ref, lines: list[LineRef], key: str) -> Ref: ...
    def update_invoice(
        self, s: Session, ref: Ref, invoice: Invoice, customer: Ref, lines: list[LineRef], key: str
    ) -> Ref: ...

    # payments
    def find_payment(self, s: Session, payment: Payment, invoice: Ref) -> Ref | None: ...
    def create_payment(
        self, s: Session, payment: Payment, invoice: Ref, customer: Ref, key: str, account_id: str | None = None
    ) -> Ref:
        """``account_id``: the deposit account mapped for the payment's method, or None (the adapter's default)."""
        ...


# ---- batches (optional capability, ``Capabilities.max_batch > 1``) -------------------------------------------------
@dataclass(frozen=True)
class Op:
    """One write of a batch. ``key`` is the element's own idempotency key (the adapter folds the keys of a batch
    into the batch's request id). Creates: customer, item (``account_id``), invoice (``customer`` + ``lines``),
    payment (``invoice`` + ``customer``; ``account_id`` = the mapped deposit account or None). Updates: invoice
    (``ref`` carries its id and version)."""

    kind: str  # customer | item | invoice | payment
    action: str  # create | update
    entity: Any  # Customer | Item | Invoice | Payment
    key: str
    ref: Ref | None = None
    account_id: str | None = None
    customer: Ref | None = None
    lines: tuple[LineRef, ...] = ()
    invoice: Ref | None = None


@dataclass(frozen=True)
class OpResult:
    """The outcome of one element: its object, or the provider-neutral error that element alone got."""

    ref: Ref | None = None
    error: ProviderError | None = None


class BatchingProvider(Protocol):
    def push_many(self, s: Session, ops: list[Op]) -> list[OpResult]:
        """Send up to ``capabilities.max_batch`` writes in as few calls as the provider allows; one result per op,
        in order. Raises a :class:`ProviderError` when the call itself failed (then every element's outcome is
        unknown, exactly as for a single write)."""
        ...


def payment_marker(payment_id: str) -> str:
    """Written into every payment we push (note / reference) so it can be found again after an unknown outcome."""
    return f"BlueClerk payment {payment_id}"


def invoice_marker(invoice_id: str) -> str:
    return f"BlueClerk invoice {invoice_id}"
