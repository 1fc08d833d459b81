"""The sync engine: pushes a BlueClerk invoice and its payments to the connected provider exactly once.

One engine for every provider (the :class:`~booksync.sync.ports.AccountingProvider` port carries the differences).
Exactly once rests on four things, for every entity it creates (customer, item, invoice, payment):

1. a write-ahead **claim** (owner + lease, conditional write) so concurrent pushers cannot both create it;
2. an **idempotency key** derived from the entity (QuickBooks ``requestid``, Xero ``Idempotency-Key``) where the
   provider has them, so a retried write is replayed, not repeated;
3. **lookup before create** once an earlier attempt's outcome is unknown (or always where there are no keys), by what
   we sent: document number, name, or the marker written into the payment;
4. the provider id stored with a **conditional write** that only the claim holder can make — and a payment that has
   one is never pushed again.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from booksync.catalog.models import Customer, Item
from booksync.config import PROVIDER_DISPLAY_NAMES
from booksync.errors import AppError, Conflict, NotFound, ServiceUnavailable
from booksync.ids import utcnow
from booksync.integrations.models import Connection, ConnectionStatus, ProviderMapping
from booksync.integrations.tokens import needs_reauth_error, not_connected_error
from booksync.invoicing.models import PAYMENT_PROVIDER_ID_FIELDS, Invoice, InvoiceStatus, Payment, SyncError
from booksync.invoicing.service import primary_connection
from booksync.observability import logger
from booksync.sync.ports import (
    AccountingProvider,
    DuplicateName,
    DuplicateNumber,
    LineRef,
    NotFoundUpstream,
    ProviderError,
    Ref,
    Session,
    StaleObject,
    Unauthorized,
    Unavailable,
    invoice_marker,
)

T = TypeVar("T")

# Errors a person must act on: they become a notification at once and are not retried.
USER_ACTIONABLE = {
    "item_unmapped",
    "duplicate_invoice_number",
    "needs_reauth",
    "customer_missing",
    "item_missing",
    "provider_rejected",
    "not_connected",
}


class SyncFailed(AppError):
    """The invoice could not be pushed; ``outcome`` carries what happened to it and to each payment."""

    def __init__(self, error: SyncError, status: int, outcome: dict[str, Any], retryable: bool) -> None:
        super().__init__(error.message, code=error.code, details=[outcome])
        self.status = status
        self.error = error
        self.outcome = outcome
        self.retryable = retryable


_STATUS = {
    "item_missing": 400,
    "item_unmapped": 400,
    "duplicate_invoice_number": 409,
    "needs_reauth": 409,
    "not_connected": 409,
    "customer_missing": 400,
    "provider_rejected": 400,
    "provider_unavailable": 503,
}


class Tokens(Protocol):
    def access_token(self, company_id: str, provider: str) -> Any: ...
    def rejected(self, company_id: str, provider: str, access_token: str) -> Any: ...


@dataclass
class SyncEngine:
    invoices: Any  # InvoiceRepository
    customers: Any  # CustomerRepository
    items: Any  # ItemRepository
    mappings: Any  # MappingRepository
    connections: Any  # ConnectionRepository
    state: Any  # SyncStateRepository
    history: Any  # SyncHistoryRepository
    company: Any  # CompanyRepository
    notifier: Any  # NotificationService
    tokens: Tokens
    provider_for: Callable[[str], AccountingProvider]
    lease_seconds: float = 90.0
    max_attempts: int = 4
    backoff_cap: float = 8.0
    wait_for_other: float = 25.0
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    calls: dict[str, int] = field(default_factory=dict)

    # ---- entry points -------------------------------------------------------------------------------------------
    def sync_invoice(self, company_id: str, invoice_id: str, *, with_payments: bool = True) -> dict[str, Any]:
        """Push the invoice (create or update) and then every payment not yet in the books."""
        invoice = self.invoices.get(company_id, invoice_id)  # 404 first: other companies learn nothing
        conn = self._connection(company_id)
        outcome: dict[str, Any] = {"provider": conn.provider, "invoice": {"id": invoice_id}, "payments": []}
        if not conn.settings.sync_invoices:
            outcome["invoice"].update(status="skipped", reason="Invoice sync is off in Settings > Integrations.")
            return outcome
        if invoice.status not in (InvoiceStatus.SENT, InvoiceStatus.PAID):
            outcome["invoice"].update(
                status="skipped", reason=f"Only sent invoices are synced; this one is {invoice.status.value}."
            )
            return outcome
        provider = self.provider_for(conn.provider)
        try:
            session = self._session(company_id, conn)
            outcome["invoice"] = self._push_invoice(company_id, conn, provider, session, invoice)
        except ProviderError as exc:
            err = self._fail(company_id, conn.provider, "invoice", invoice_id, exc)
            outcome["invoice"] = {"id": invoice_id, "status": "failed", "error": _err(err)}
            raise SyncFailed(err, _STATUS.get(err.code, 502), outcome, exc.retryable) from exc
        except AppError as exc:  # needs_reauth / not_connected from the token manager
            err = self._fail_app(company_id, conn.provider, "invoice", invoice_id, exc)
            outcome["invoice"] = {"id": invoice_id, "status": "failed", "error": _err(err)}
            raise SyncFailed(err, exc.status, outcome, exc.code == "provider_unavailable") from exc
        if with_payments and outcome["invoice"].get("providerId"):
            for payment in sorted(self.invoices.list_payments(company_id, invoice_id), key=lambda p: p.created_at):
                outcome["payments"].append(
                    self._payment_outcome(company_id, conn, provider, session, payment, outcome["invoice"])
                )
        return outcome

    def sync_payment(self, company_id: str, invoice_id: str, payment_id: str) -> dict[str, Any]:
        """Push one payment. Its invoice is pushed first if it is not in the books yet."""
        payment = self.invoices.get_payment(company_id, invoice_id, payment_id)
        if payment is None:
            raise NotFound(f"Payment '{payment_id}' was not found.", code="payment_not_found")
        conn = self._connection(company_id)
        if payment.provider_ids().get(conn.provider):
            return {
                "id": payment_id,
                "status": "synced",
                "action": "unchanged",
                "providerId": payment.provider_ids()[conn.provider],
            }
        invoice = self.invoices.get(company_id, invoice_id)
        if not invoice.provider_ids.get(conn.provider):
            outcome = self.sync_invoice(company_id, invoice_id, with_payments=False)
            if outcome["invoice"].get("status") == "skipped":
                return {"id": payment_id, "status": "skipped", "reason": outcome["invoice"]["reason"]}
            invoice = self.invoices.get(company_id, invoice_id)
        provider = self.provider_for(conn.provider)
        session = self._session(company_id, conn)
        inv_ref = Ref(invoice.provider_ids[conn.provider])
        return self._payment_outcome(
            company_id,
            conn,
            provider,
            session,
            payment,
            {"providerId": inv_ref.id, "customerRef": None},
            raise_retryable=True,
        )

    def accounts(self, company_id: str, provider_name: str) -> list[dict[str, str]]:
        """Income accounts of the connected provider, for Settings > Account Mapping."""
        conn = self.connections.get(company_id, provider_name)
        if conn.status == ConnectionStatus.DISCONNECTED:
            raise not_connected_error(provider_name)
        if conn.status == ConnectionStatus.NEEDS_REAUTH:
            raise needs_reauth_error(provider_name)
        provider = self.provider_for(provider_name)
        try:
            rows = self._call(lambda: provider.income_accounts(self._session(company_id, conn)))
        except ProviderError as exc:
            raise ServiceUnavailable(
                f"{PROVIDER_DISPLAY_NAMES[provider_name]} did not return its accounts ({exc.message}); try again.",
                code="provider_unavailable",
            ) from exc
        return [{"id": a.id, "name": a.name, "type": a.type} for a in rows]

    # ---- invoice ------------------------------------------------------------------------------------------------
    def _push_invoice(
        self, company_id: str, conn: Connection, provider: AccountingProvider, s: Session, invoice: Invoice
    ) -> dict[str, Any]:
        owner = uuid.uuid4().hex
        attempt = self._claim(company_id, "invoice", invoice.id, owner)
        if attempt is None:
            return self._wait_for_other_push(company_id, conn.provider, invoice.id)
        try:
            invoice = self.invoices.get(company_id, invoice.id, consistent=True)  # re-read under the claim
            existing = invoice.provider_ids.get(conn.provider)
            customer = self.customers.get(company_id, invoice.customer_id)
            if existing and invoice.pushed_version == invoice.version:
                self.state.release(company_id, "invoice", invoice.id, owner)  # debounce: nothing changed
                return {
                    "id": invoice.id,
                    "status": "synced",
                    "action": "unchanged",
                    "providerId": existing,
                    "customerRef": customer.provider_ids.get(conn.provider),
                }
            lines = self._lines(company_id, conn, provider, s, invoice)
            cust_ref = self._ensure_customer(company_id, conn, provider, s, customer)
            key_base = f"bc-{invoice.id}"
            if existing:
                ref = Ref(existing, version=invoice.provider_sync_tokens.get(conn.provider))
                ref = self._with_customer_check(
                    customer,
                    conn.provider,
                    lambda: self._update_invoice(provider, s, ref, invoice, cust_ref, lines, key_base),
                )
                action = "updated"
            else:
                ref, action = self._with_customer_check(
                    customer,
                    conn.provider,
                    lambda: self._create_invoice(provider, s, invoice, cust_ref, lines, attempt, key_base),
                )
            if not self.state.link(
                company_id,
                "invoice",
                invoice.id,
                owner,
                conn.provider,
                ref.id,
                sync_token=ref.version,
                pushed_version=invoice.version,
            ):
                logger.warning("invoice claim lost before link", invoice_id=invoice.id)
            self.company.mark_has_synced_invoice(company_id)
            self.history.add(
                company_id,
                entity_type="invoice",
                entity_id=invoice.id,
                provider=conn.provider,
                action=action,
                result="synced",
                provider_id=ref.id,
            )
            self._health_ok(company_id, conn)
            return {
                "id": invoice.id,
                "status": "synced",
                "action": action,
                "providerId": ref.id,
                "customerRef": cust_ref.id,
            }
        except BaseException:
            self.state.release(company_id, "invoice", invoice.id, owner)
            raise

    def _update_invoice(
        self,
        provider: AccountingProvider,
        s: Session,
        ref: Ref,
        invoice: Invoice,
        cust: Ref,
        lines: list[LineRef],
        key_base: str,
    ) -> Ref:
        try:
            return self._call(
                lambda: provider.update_invoice(s, ref, invoice, cust, lines, f"{key_base}-v{invoice.version}")
            )
        except StaleObject:  # someone edited it in the books: re-read the SyncToken and retry once
            fresh = self._call(lambda: provider.get_invoice(s, ref))
            return self._call(
                lambda: provider.update_invoice(s, fresh, invoice, cust, lines, f"{key_base}-v{invoice.version}r")
            )

    def _with_customer_check(self, customer: Customer, provider_name: str, fn: Callable[[], T]) -> T:
        """A stored customer link the books no longer accept (deleted / made inactive) is a clear, fixable error."""
        try:
            return fn()
        except NotFoundUpstream as exc:
            name = PROVIDER_DISPLAY_NAMES[provider_name]
            raise _Rejected(
                "customer_missing",
                f"Customer '{customer.name}' no longer exists (or is inactive) in {name}. Reactivate it in {name}, "
                "then click Resync.",
            ) from exc

    def _create_invoice(
        self,
        provider: AccountingProvider,
        s: Session,
        invoice: Invoice,
        cust: Ref,
        lines: list[LineRef],
        attempt: int,
        key_base: str,
    ) -> tuple[Ref, str]:
        marker = invoice_marker(invoice.id)

        def ours(found: Ref | None) -> Ref | None:
            if found is None:
                return None
            if found.marker and marker in found.marker:
                return found
            raise DuplicateNumber(self._duplicate_message(provider.name, invoice.number))

        if attempt > 1 or not provider.capabilities.idempotency_keys:
            found = ours(self._call(lambda: provider.find_invoice(s, invoice.number)))
            if found is not None:
                return found, "linked"
        try:
            ref = self._create(
                lambda: provider.create_invoice(s, invoice, cust, lines, f"{key_base}-c"),
                lambda: ours(provider.find_invoice(s, invoice.number)),
                provider,
            )
            return ref, "created"
        except DuplicateNumber:
            found = ours(self._call(lambda: provider.find_invoice(s, invoice.number)))
            if found is None:
                raise DuplicateNumber(self._duplicate_message(provider.name, invoice.number)) from None
            return found, "linked"

    def _wait_for_other_push(self, company_id: str, provider: str, invoice_id: str) -> dict[str, Any]:
        """Another request is pushing this invoice: wait (bounded) and report what it did."""
        deadline = self.clock() + self.wait_for_other
        delay = 0.05
        while self.clock() < deadline:
            state = self.state.invoice_state(company_id, invoice_id)
            if state["claim_owner"] is None or (state["claim_until"] or 0) < self.clock():
                break
            self.sleep(delay)
            delay = min(delay * 2, 0.5)
        invoice = self.invoices.get(company_id, invoice_id)
        pid = invoice.provider_ids.get(provider)
        if pid:
            return {"id": invoice_id, "status": "synced", "action": "pushed_by_another_request", "providerId": pid}
        if invoice.last_sync_error is not None:
            return {"id": invoice_id, "status": "failed", "error": _err(invoice.last_sync_error)}
        return {"id": invoice_id, "status": "in_progress", "action": "pushed_by_another_request"}

    # ---- lines, customers, items --------------------------------------------------------------------------------
    def _lines(
        self, company_id: str, conn: Connection, provider: AccountingProvider, s: Session, invoice: Invoice
    ) -> list[LineRef]:
        mapping: ProviderMapping = self.mappings.get(company_id, conn.provider)
        items: dict[str, Item] = self.items.get_many(company_id, [line.item_id for line in invoice.lines])
        missing = [line.item_id for line in invoice.lines if line.item_id not in items]
        if missing:
            raise _Rejected("item_missing", f"Invoice lines use deleted items ({', '.join(missing)}); fix the lines.")
        accounts = {i: mapping.items.get(i) or mapping.default_account_id for i in items}
        unmapped = [items[i].name for i, acc in accounts.items() if not acc]
        if unmapped:
            name = PROVIDER_DISPLAY_NAMES[conn.provider]
            names = ", ".join(f"'{n}'" for n in sorted(unmapped))
            raise _ItemUnmapped(
                f"Item{'s' if len(unmapped) > 1 else ''} {names} ha{'ve' if len(unmapped) > 1 else 's'} no income "
                f"account for {name}. Map {'them' if len(unmapped) > 1 else 'it'} in Settings > Account Mapping, "
                "then click Resync. Nothing was sent to the books."
            )
        refs = {i: self._ensure_item(company_id, conn, provider, s, items[i], str(accounts[i])) for i in items}
        return [
            LineRef(
                item=refs[line.item_id],
                account_id=str(accounts[line.item_id]),
                quantity=line.quantity,
                unit_price=line.unit_price,
                amount=line.amount,
                description=line.description or items[line.item_id].name,
            )
            for line in invoice.lines
        ]

    def _ensure_customer(
        self, company_id: str, conn: Connection, provider: AccountingProvider, s: Session, customer: Customer
    ) -> Ref:
        return self._ensure(
            company_id,
            "customer",
            customer.id,
            conn.provider,
            current=lambda: self.customers.get(company_id, customer.id, consistent=True),
            initial=customer,
            find=lambda c: provider.find_customer(s, c),
            create=lambda c, key: provider.create_customer(s, c, key),
            update=(lambda c, ref: provider.update_customer(s, ref, c)) if conn.settings.sync_customers else None,
            provider=provider,
        )

    def _ensure_item(
        self, company_id: str, conn: Connection, provider: AccountingProvider, s: Session, item: Item, account_id: str
    ) -> Ref:
        return self._ensure(
            company_id,
            "item",
            item.id,
            conn.provider,
            current=lambda: self.items.get(company_id, item.id, consistent=True),
            initial=item,
            find=lambda i: provider.find_item(s, i),
            create=lambda i, key: provider.create_item(s, i, account_id, key),
            update=(lambda i, ref: provider.update_item(s, ref, i, account_id)) if conn.settings.sync_items else None,
            provider=provider,
        )

    def _ensure(
        self,
        company_id: str,
        kind: str,
        entity_id: str,
        provider_name: str,
        *,
        current: Callable[[], Any],
        find: Callable[[Any], Ref | None],
        create: Callable[[Any, str], Ref],
        update: Callable[[Any, Ref], Ref] | None,
        provider: AccountingProvider,
        initial: Any = None,
    ) -> Ref:
        """Linked → its ref (pushing later edits when the settings allow); else match it by name, else create it."""
        deadline = self.clock() + self.wait_for_other
        entity = initial
        while True:
            entity = entity if entity is not None else current()
            linked = entity.provider_ids.get(provider_name)
            if linked and not (update is not None and entity.changed_since_push()):
                return Ref(linked)
            owner = uuid.uuid4().hex
            attempt = self._claim(company_id, kind, entity_id, owner)
            if attempt is not None:
                break
            if self.clock() > deadline:
                raise Unavailable(f"Another push is holding this {kind}; it will be retried.")
            self.sleep(0.1)
            entity = None  # re-read: the holder may have linked it
        try:
            entity = current()
            linked = entity.provider_ids.get(provider_name)
            ref: Ref | None
            if linked:
                if update is None or not entity.changed_since_push():
                    self.state.release(company_id, kind, entity_id, owner)
                    return Ref(linked)
                ref = self._call(lambda: update(entity, Ref(linked)))
                action = "updated"
            else:
                ref = self._call(lambda: find(entity))  # match by name first: never a second customer/item
                action = "linked"
                if ref is None:
                    try:
                        ref = self._create(lambda: create(entity, f"bc-{entity_id}-c"), lambda: find(entity), provider)
                        action = "created"
                    except DuplicateName:
                        ref = self._call(lambda: find(entity))
                        if ref is None:
                            raise
            assert ref is not None
            self.state.link(company_id, kind, entity_id, owner, provider_name, ref.id, pushed_version=entity.version)
            self.history.add(
                company_id,
                entity_type=kind,
                entity_id=entity_id,
                provider=provider_name,
                action=action,
                result="synced",
                provider_id=ref.id,
            )
            return ref
        except BaseException:
            self.state.release(company_id, kind, entity_id, owner)
            raise

    def sync_entity(self, company_id: str, kind: str, entity_id: str) -> dict[str, Any]:
        """Push a customer or an item on its own (created or edited in BlueClerk), when the settings say so."""
        conn = self._connection(company_id)
        enabled = conn.settings.sync_customers if kind == "customer" else conn.settings.sync_items
        if not enabled:
            return {"id": entity_id, "status": "skipped", "reason": f"{kind.title()} sync is off in Settings."}
        provider = self.provider_for(conn.provider)
        try:
            s = self._session(company_id, conn)
            if kind == "customer":
                ref = self._ensure_customer(company_id, conn, provider, s, self.customers.get(company_id, entity_id))
            else:
                item = self.items.get(company_id, entity_id)
                mapping: ProviderMapping = self.mappings.get(company_id, conn.provider)
                account = mapping.items.get(item.id) or mapping.default_account_id
                if not account:
                    name = PROVIDER_DISPLAY_NAMES[conn.provider]
                    raise _ItemUnmapped(
                        f"Item '{item.name}' has no income account for {name}, so it was not sent. "
                        "Map it in Settings > Account Mapping."
                    )
                ref = self._ensure_item(company_id, conn, provider, s, item, account)
        except ProviderError as exc:
            err = self._fail(company_id, conn.provider, kind, entity_id, exc)
            if exc.retryable:
                raise
            return {"id": entity_id, "status": "failed", "error": _err(err)}
        return {"id": entity_id, "status": "synced", "providerId": ref.id}

    # ---- payments -----------------------------------------------------------------------------------------------
    def _payment_outcome(
        self,
        company_id: str,
        conn: Connection,
        provider: AccountingProvider,
        s: Session,
        payment: Payment,
        invoice_out: dict[str, Any],
        raise_retryable: bool = False,
    ) -> dict[str, Any]:
        try:
            return self._push_payment(company_id, conn, provider, s, payment, invoice_out)
        except ProviderError as exc:
            err = self._fail(company_id, conn.provider, "payment", payment.id, exc, invoice_id=payment.invoice_id)
            if raise_retryable and exc.retryable:
                raise
            return {"id": payment.id, "status": "failed", "error": _err(err)}
        except AppError as exc:
            err = self._fail_app(company_id, conn.provider, "payment", payment.id, exc, invoice_id=payment.invoice_id)
            if raise_retryable and exc.code == "provider_unavailable":
                raise
            return {"id": payment.id, "status": "failed", "error": _err(err)}

    def _push_payment(
        self,
        company_id: str,
        conn: Connection,
        provider: AccountingProvider,
        s: Session,
        payment: Payment,
        invoice_out: dict[str, Any],
    ) -> dict[str, Any]:
        field_name = PAYMENT_PROVIDER_ID_FIELDS[conn.provider]
        if getattr(payment, field_name):
            return {
                "id": payment.id,
                "status": "synced",
                "action": "unchanged",
                "providerId": getattr(payment, field_name),
            }
        owner = uuid.uuid4().hex
        attempt = self._claim(
            company_id, "payment", payment.id, owner, invoice_id=payment.invoice_id, provider=conn.provider
        )
        if attempt is None:  # linked meanwhile, or another pusher holds it
            latest = self.invoices.get_payment(company_id, payment.invoice_id, payment.id, consistent=True)
            pid = getattr(latest, field_name) if latest else None
            if pid:
                return {"id": payment.id, "status": "synced", "action": "unchanged", "providerId": pid}
            return {"id": payment.id, "status": "in_progress", "action": "pushed_by_another_request"}
        try:
            inv_ref = Ref(invoice_out["providerId"])
            cust_id = invoice_out.get("customerRef")
            if not cust_id:
                invoice = self.invoices.get(company_id, payment.invoice_id)
                cust_id = self.customers.get(company_id, invoice.customer_id).provider_ids.get(conn.provider)
            if not cust_id:
                raise _Rejected("customer_missing", "The invoice's customer is not in the books yet; click Resync.")
            cust_ref = Ref(cust_id)
            ref: Ref | None = None
            if attempt > 1 or not provider.capabilities.idempotency_keys:
                ref = self._call(lambda: provider.find_payment(s, payment, inv_ref))  # unknown earlier outcome
            action = "linked"
            if ref is None:
                ref = self._create(
                    lambda: provider.create_payment(s, payment, inv_ref, cust_ref, f"bc-{payment.id}"),
                    lambda: provider.find_payment(s, payment, inv_ref),
                    provider,
                )
                action = "created"
            if not self.state.link(
                company_id, "payment", payment.id, owner, conn.provider, ref.id, invoice_id=payment.invoice_id
            ):
                logger.warning("payment claim lost before link", payment_id=payment.id)
            self.history.add(
                company_id,
                entity_type="payment",
                entity_id=payment.id,
                provider=conn.provider,
                action=action,
                result="synced",
                provider_id=ref.id,
            )
            return {"id": payment.id, "status": "synced", "action": action, "providerId": ref.id}
        except BaseException:
            self.state.release(company_id, "payment", payment.id, owner, invoice_id=payment.invoice_id)
            raise

    # ---- plumbing -----------------------------------------------------------------------------------------------
    def _connection(self, company_id: str) -> Connection:
        conn = primary_connection(self.connections.for_company(company_id))
        if conn is None:
            raise Conflict(
                "No accounting provider is connected; connect one in Settings > Integrations, then click Sync.",
                code="not_connected",
            )
        if conn.status == ConnectionStatus.NEEDS_REAUTH:
            raise needs_reauth_error(conn.provider)
        return conn

    def _session(self, company_id: str, conn: Connection) -> Session:
        tokens = self.tokens.access_token(company_id, conn.provider)

        def on_unauthorized(rejected: str) -> str:
            return str(self.tokens.rejected(company_id, conn.provider, rejected).access_token)

        return Session(
            tenant_id=conn.tenant_id or "", access_token=tokens.access_token, on_unauthorized=on_unauthorized
        )

    def _claim(
        self,
        company_id: str,
        kind: str,
        entity_id: str,
        owner: str,
        invoice_id: str | None = None,
        provider: str | None = None,
    ) -> int | None:
        now = self.clock()
        return self.state.claim(
            company_id, kind, entity_id, owner, now + self.lease_seconds, now, invoice_id=invoice_id, provider=provider
        )

    def _call(self, fn: Callable[[], T]) -> T:
        """Call the provider, retrying transient failures with backoff that honours Retry-After (bounded)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except ProviderError as exc:
                self._backoff(exc, attempt)

    def _create(self, create: Callable[[], Ref], find: Callable[[], Ref | None], provider: AccountingProvider) -> Ref:
        """Create once: retries replay the same idempotency key; without keys, look before creating again."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return create()
            except ProviderError as exc:
                self._backoff(exc, attempt)
                if isinstance(exc, Unavailable) and not provider.capabilities.idempotency_keys:
                    found = self._call(find)  # the write may have landed before the connection dropped
                    if found is not None:
                        return found

    def _backoff(self, exc: ProviderError, attempt: int) -> None:
        """Sleep before the next attempt, or re-raise: not retryable, out of attempts, or a wait (e.g. a day limit)
        too long to hold a Lambda for — then the queue defers it instead."""
        if not exc.retryable or attempt >= self.max_attempts:
            raise exc
        wait = exc.retry_after if exc.retry_after is not None else min(self.backoff_cap, 0.2 * 2**attempt)
        if wait > self.backoff_cap * 4:
            raise exc
        logger.info("provider call retried", error=exc.code, wait=round(wait, 2), attempt=attempt)
        self.sleep(wait)

    def _fail(
        self,
        company_id: str,
        provider: str,
        kind: str,
        entity_id: str,
        exc: ProviderError,
        invoice_id: str | None = None,
    ) -> SyncError:
        code = exc.code if exc.code in USER_ACTIONABLE or exc.retryable else "provider_rejected"
        if isinstance(exc, Unauthorized):
            code = "needs_reauth"
        name = PROVIDER_DISPLAY_NAMES[provider]
        message = exc.message
        if exc.retryable:
            message = (
                f"{name} is not answering right now ({exc.message}). The sync will be retried "
                "automatically; nothing was lost."
            )
        elif code == "provider_rejected":
            message = f"{name} rejected the {kind}: {exc.message}. Correct it in BlueClerk, then click Resync."
        return self._record_failure(company_id, provider, kind, entity_id, code, message, exc.retryable, invoice_id)

    def _fail_app(
        self, company_id: str, provider: str, kind: str, entity_id: str, exc: AppError, invoice_id: str | None = None
    ) -> SyncError:
        return self._record_failure(
            company_id, provider, kind, entity_id, exc.code, exc.message, exc.code == "provider_unavailable", invoice_id
        )

    def _record_failure(
        self,
        company_id: str,
        provider: str,
        kind: str,
        entity_id: str,
        code: str,
        message: str,
        retryable: bool,
        invoice_id: str | None,
    ) -> SyncError:
        err = SyncError(code=code, message=message, provider=provider, at=utcnow())
        self.state.record_error(company_id, kind, entity_id, err, invoice_id=invoice_id)
        self.history.add(
            company_id,
            entity_type=kind,
            entity_id=entity_id,
            provider=provider,
            action="push",
            result="failed",
            error=err,
        )
        self._health_failed(company_id, provider, code)
        if not retryable and code != "needs_reauth":  # needs_reauth is notified once per connection
            self.notifier.notify(
                company_id, code=code, message=message, provider=provider, entity_type=kind, entity_id=entity_id
            )
        logger.warning("sync failed", kind=kind, code=code, retryable=retryable)
        return err

    def _health_ok(self, company_id: str, conn: Connection) -> None:
        health = conn.health.model_copy(
            update={"last_success_at": utcnow(), "consecutive_failures": 0, "last_error": None}
        )
        self.connections.save_health(company_id, conn.provider, health)

    def _health_failed(self, company_id: str, provider: str, code: str) -> None:
        conn = self.connections.get(company_id, provider)
        health = conn.health.model_copy(
            update={
                "last_failure_at": utcnow(),
                "last_error": code,
                "consecutive_failures": conn.health.consecutive_failures + 1,
            }
        )
        self.connections.save_health(company_id, provider, health)

    @staticmethod
    def _duplicate_message(provider: str, number: str) -> str:
        name = PROVIDER_DISPLAY_NAMES.get(provider, provider)
        return (
            f"Invoice number {number} is already used in {name} by another invoice. Change the number in "
            "BlueClerk (or the other invoice in the books), then click Resync."
        )


class _ItemUnmapped(ProviderError):
    code = "item_unmapped"


class _Rejected(ProviderError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _err(e: SyncError) -> dict[str, Any]:
    return {"code": e.code, "message": e.message}


__all__ = ["SyncEngine", "SyncFailed", "not_connected_error"]
