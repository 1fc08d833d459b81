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
from dataclasses import dataclass, field, replace
from typing import Any, Protocol, TypeVar, cast

from booksync.catalog.models import Customer, Item
from booksync.config import PROVIDER_DISPLAY_NAMES
from booksync.errors import AppError, Conflict, NotFound, ServiceUnavailable
from booksync.ids import utcnow
from booksync.integrations.models import Connection, ConnectionStatus, ProviderMapping
from booksync.integrations.tokens import needs_reauth_error, not_connected_error
from booksync.invoicing.models import PAYMENT_PROVIDER_ID_FIELDS, Invoice, InvoiceStatus, Payment, SyncError
from booksync.invoicing.service import primary_connection
from booksync.observability import logger
from booksync.ratelimit import DEADLINE_RESERVE
from booksync.ratelimit import time_left as request_time_left
from booksync.sync.ports import (
    AccountingProvider,
    BatchingProvider,
    DuplicateName,
    DuplicateNumber,
    LineRef,
    NotFoundUpstream,
    Op,
    OpResult,
    ProviderError,
    RateLimited,
    Ref,
    Session,
    StaleObject,
    Unauthorized,
    Unavailable,
    invoice_marker,
)

T = TypeVar("T")
PATIENT_WAITS = 10  # rate-limit pauses one batch of a backfill may wait out before the run continues later

# Errors a person must act on: they become a notification at once and are not retried.
USER_ACTIONABLE = {
    "item_unmapped",
    "duplicate_invoice_number",
    "needs_reauth",
    "customer_missing",
    "item_missing",
    "provider_rejected",
    "not_connected",
    "payment_account_invalid",
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
    "payment_account_invalid": 400,
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
    # optional bulk reads for batches (consistent ``get_entities(company, kind, ids)`` and ``all_payments(company)``,
    # the import repository has both): one request per 100 entities instead of one each
    bulk: Any = None

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
        batching = provider.capabilities.max_batch > 1
        payments: list[Payment] = []
        if with_payments and batching:
            payments = sorted(self.invoices.list_payments(company_id, invoice_id), key=lambda p: p.created_at)
        batched: dict[str, dict[str, Any]] = {}  # payments pushed in the invoice's own batch
        try:
            session = self._session(company_id, conn)
            outcome["invoice"] = self._push_invoice(
                company_id, conn, provider, session, invoice, payments=payments, batched=batched
            )
        except ProviderError as exc:
            err = self._fail(company_id, conn.provider, "invoice", invoice_id, exc)
            outcome["invoice"] = {"id": invoice_id, "status": "failed", "error": _err(err)}
            outcome["payments"] = list(batched.values())
            raise SyncFailed(err, _STATUS.get(err.code, 502), outcome, exc.retryable) from exc
        except AppError as exc:  # needs_reauth / not_connected from the token manager
            err = self._fail_app(company_id, conn.provider, "invoice", invoice_id, exc)
            outcome["invoice"] = {"id": invoice_id, "status": "failed", "error": _err(err)}
            outcome["payments"] = list(batched.values())
            raise SyncFailed(err, exc.status, outcome, exc.code == "provider_unavailable") from exc
        if batching and outcome["invoice"].get("providerId"):
            outcome["payments"] = self._push_payments_batched(
                company_id, conn, provider, session, payments, outcome["invoice"], batched
            )
        elif with_payments and outcome["invoice"].get("providerId"):
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

    def accounts(self, company_id: str, provider_name: str, purpose: str = "income") -> list[dict[str, str]]:
        """Accounts of the connected provider for Settings > Account Mapping: ``income`` (lines and items) or
        ``payment`` (where a payment can be deposited; empty where the provider has no such account)."""
        conn = self.connections.get(company_id, provider_name)
        if conn.status == ConnectionStatus.DISCONNECTED:
            raise not_connected_error(provider_name)
        if conn.status == ConnectionStatus.NEEDS_REAUTH:
            raise needs_reauth_error(provider_name)
        provider = self.provider_for(provider_name)
        try:
            if purpose == "payment":
                deposit = getattr(provider, "deposit_accounts", None)  # optional in the port: none -> no choice
                rows = self._call(lambda: deposit(self._session(company_id, conn))) if deposit is not None else []
            else:
                rows = self._call(lambda: provider.income_accounts(self._session(company_id, conn)))
        except ProviderError as exc:
            raise ServiceUnavailable(
                f"{PROVIDER_DISPLAY_NAMES[provider_name]} did not return its accounts ({exc.message}); try again.",
                code="provider_unavailable",
            ) from exc
        return [{"id": a.id, "name": a.name, "type": a.type} for a in rows]

    # ---- invoice ------------------------------------------------------------------------------------------------
    def _push_invoice(
        self,
        company_id: str,
        conn: Connection,
        provider: AccountingProvider,
        s: Session,
        invoice: Invoice,
        payments: list[Payment] | None = None,
        batched: dict[str, dict[str, Any]] | None = None,
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
                field_name = PAYMENT_PROVIDER_ID_FIELDS[conn.provider]
                unsynced = [p for p in payments or [] if not getattr(p, field_name)]
                if unsynced and batched is not None:  # the update and the new payments in one batch
                    ref = self._with_customer_check(
                        customer,
                        conn.provider,
                        lambda: self._update_with_payments(
                            company_id, conn, provider, s, (owner, attempt), ref, invoice, cust_ref, lines, unsynced,
                            batched,
                        ),
                    )  # fmt: skip
                else:
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

    def _update_with_payments(
        self,
        company_id: str,
        conn: Connection,
        provider: AccountingProvider,
        s: Session,
        claim: tuple[str, int],
        ref: Ref,
        invoice: Invoice,
        cust: Ref,
        lines: list[LineRef],
        payments: list[Payment],
        batched: dict[str, dict[str, Any]],
    ) -> Ref:
        """Resync of a linked invoice with new payments: its update and every payment in one batch (the payments
        need only the invoice's id, which it already has). Each payment keeps its own claim, key and link; the
        invoice's claim is the caller's, so its result is handed back (a stale version is re-read once)."""
        owner, attempt = claim
        key = f"bc-{invoice.id}-v{invoice.version}"
        inv_el = _Element(
            "invoice",
            invoice.id,
            Op("invoice", "update", invoice, key, ref=ref, customer=cust, lines=tuple(lines)),
            owner=owner,
            attempt=attempt,
            claimed=True,
        )
        deposit = self._deposit_accounts(company_id, conn.provider) if payments else {}
        elements = [inv_el] + [
            _deposit_to(self._payment_element(provider, s, p, ref, cust), deposit.get(p.method.value)) for p in payments
        ]
        done = self._push_batch(company_id, conn, provider, s, elements)
        for p in payments:
            batched[p.id] = self._payment_result(company_id, conn, p, done[("payment", p.id)])
        result = done[("invoice", invoice.id)]
        if result.ref is not None:
            return result.ref
        if isinstance(result.error, StaleObject):  # edited in the books meanwhile: re-read the version, once
            fresh = self._call(lambda: provider.get_invoice(s, ref))
            return self._call(lambda: provider.update_invoice(s, fresh, invoice, cust, lines, f"{key}r"))
        raise result.error or Unavailable("the batch did not answer for the invoice")

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

    def _other_push_wait(self) -> float:
        """How long to wait for another push's claim: ``wait_for_other``, cut to a synchronous request's deadline
        (the Sync button must answer before API Gateway's 29 s)."""
        left = request_time_left()
        if left is None:
            return self.wait_for_other
        return max(0.0, min(self.wait_for_other, left - DEADLINE_RESERVE))

    def _wait_for_other_push(self, company_id: str, provider: str, invoice_id: str) -> dict[str, Any]:
        """Another request is pushing this invoice: wait (bounded) and report what it did."""
        deadline = self.clock() + self._other_push_wait()
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
        deadline = self.clock() + self._other_push_wait()
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
                account = self._deposit_accounts(company_id, conn.provider).get(payment.method.value)
                ref = self._create(
                    lambda: provider.create_payment(s, payment, inv_ref, cust_ref, f"bc-{payment.id}", account),
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

    # ---- batches (providers with Capabilities.max_batch > 1) ----------------------------------------------------
    def _push_payments_batched(
        self,
        company_id: str,
        conn: Connection,
        provider: AccountingProvider,
        s: Session,
        payments: list[Payment],
        invoice_out: dict[str, Any],
        batched: dict[str, dict[str, Any]],
    ) -> list[dict[str, Any]]:
        """Every payment of the invoice not in the books yet, in one batch (per element: claim, key, link)."""
        field_name = PAYMENT_PROVIDER_ID_FIELDS[conn.provider]
        out: dict[str, dict[str, Any]] = dict(batched)
        pending: list[Payment] = []
        for p in payments:
            if p.id in out:
                continue
            if getattr(p, field_name):
                out[p.id] = {
                    "id": p.id,
                    "status": "synced",
                    "action": "unchanged",
                    "providerId": getattr(p, field_name),
                }
            else:
                pending.append(p)
        if pending:
            cust_id = invoice_out.get("customerRef")
            if not cust_id:
                invoice = self.invoices.get(company_id, pending[0].invoice_id)
                cust_id = self.customers.get(company_id, invoice.customer_id).provider_ids.get(conn.provider)
            if not cust_id:
                for p in pending:
                    exc = _Rejected("customer_missing", "The invoice's customer is not in the books yet; click Resync.")
                    out[p.id] = self._payment_result(company_id, conn, p, _Done(error=exc))
            else:
                inv_ref, cust_ref = Ref(invoice_out["providerId"]), Ref(cust_id)
                deposit = self._deposit_accounts(company_id, conn.provider)
                elements = [
                    _deposit_to(self._payment_element(provider, s, p, inv_ref, cust_ref), deposit.get(p.method.value))
                    for p in pending
                ]
                done = self._push_batch(company_id, conn, provider, s, elements)
                for p in pending:
                    out[p.id] = self._payment_result(company_id, conn, p, done[("payment", p.id)])
        return [out[p.id] for p in payments if p.id in out]

    def _deposit_accounts(self, company_id: str, provider: str) -> dict[str, str]:
        """Payment method -> the deposit account mapped for it in Settings > Account Mapping (absent: the adapter's
        default)."""
        mapping: ProviderMapping = self.mappings.get(company_id, provider)
        return dict(mapping.payment_accounts)

    def _payment_element(self, provider: AccountingProvider, s: Session, p: Payment, inv: Ref, cust: Ref) -> _Element:
        return _Element(
            "payment",
            p.id,
            Op("payment", "create", p, f"bc-{p.id}", invoice=inv, customer=cust),
            find=lambda: provider.find_payment(s, p, inv),
            invoice_id=p.invoice_id,
        )

    def _payment_result(self, company_id: str, conn: Connection, p: Payment, done: _Done) -> dict[str, Any]:
        if done.ref is not None:
            return {"id": p.id, "status": "synced", "action": done.action, "providerId": done.ref.id}
        if done.error is None:  # another request holds it: linked meanwhile, or still being pushed
            latest = self.invoices.get_payment(company_id, p.invoice_id, p.id, consistent=True)
            pid = getattr(latest, PAYMENT_PROVIDER_ID_FIELDS[conn.provider]) if latest else None
            if pid:
                return {"id": p.id, "status": "synced", "action": "unchanged", "providerId": pid}
            return {"id": p.id, "status": "in_progress", "action": "pushed_by_another_request"}
        err = self._fail(company_id, conn.provider, "payment", p.id, done.error, invoice_id=p.invoice_id)
        return {"id": p.id, "status": "failed", "error": _err(err)}

    def _push_batch(
        self,
        company_id: str,
        conn: Connection,
        provider: AccountingProvider,
        s: Session,
        elements: list[_Element],
        patient_until: float | None = None,
    ) -> dict[tuple[str, str], _Done]:
        """Push elements in as few calls as the provider allows, with the guarantees of a single push per element:

        * each element takes its own claim (one already held by the caller is marked ``claimed``); an element
          someone else holds is left alone (``_Done()`` without ref or error);
        * an element whose earlier attempt may have landed (attempt > 1, or a provider without keys) is looked up
          first and linked if found, never re-sent;
        * the batch carries an idempotency key derived from what it sends, so a retried batch is replayed;
        * each success is linked with a conditional write; a failed element releases only its own claim and is
          handed back with its own error (the caller records it) — the other elements still link.

        A duplicate name/number answer is resolved by a lookup (ours → linked); an element without an answer, or a
        call that failed as a whole, has an unknown outcome: its claim is released and its next attempt looks first.
        """
        out: dict[tuple[str, str], _Done] = {}
        held: list[_Element] = []
        try:
            for el in elements:
                if not el.claimed:
                    el.owner = uuid.uuid4().hex
                    el.attempt = self._claim(
                        company_id,
                        el.kind,
                        el.entity_id,
                        el.owner,
                        invoice_id=el.invoice_id,
                        provider=conn.provider if el.kind == "payment" else None,
                    )
                    if el.attempt is None:
                        out[el.key] = _Done()
                        continue
                held.append(el)
            for el, linked in self._linked_meanwhile(company_id, conn.provider, held):  # before our claim?
                self.state.release(company_id, el.kind, el.entity_id, el.owner, invoice_id=el.invoice_id)
                out[el.key] = _Done(ref=Ref(linked), action="unchanged")
            send: list[_Element] = []
            for el in held:
                if el.key in out:
                    continue
                if el.find is not None and ((el.attempt or 1) > 1 or not provider.capabilities.idempotency_keys):
                    try:
                        found = self._call(el.find)
                    except ProviderError as exc:
                        out[el.key] = self._element_failed(company_id, el, exc)
                        continue
                    if found is not None:
                        out[el.key] = self._element_linked(company_id, conn, el, found, "linked")
                        continue
                send.append(el)
            batcher = cast(BatchingProvider, provider)
            size = max(1, provider.capabilities.max_batch)
            for start in range(0, len(send), size):
                chunk = send[start : start + size]
                refused: list[bool] = []
                try:
                    results = self._send_batch(batcher, s, [el.op for el in chunk], patient_until, refused)
                except ProviderError as exc:
                    unsent = bool(refused) and all(refused)
                    for el in chunk:
                        out[el.key] = self._element_failed(company_id, el, exc, unsent=unsent)
                    continue
                for el, result in zip(chunk, results, strict=True):
                    out[el.key] = self._element_result(company_id, conn, el, result)
                if any(el.kind == "invoice" and not el.claimed and out[el.key].ref is not None for el in chunk):
                    self.company.mark_has_synced_invoice(company_id)
        except BaseException:
            for el in held:
                if el.key not in out and not el.claimed:
                    self.state.release(company_id, el.kind, el.entity_id, el.owner, invoice_id=el.invoice_id)
            raise
        return out

    def _linked_meanwhile(self, company_id: str, provider: str, held: list[_Element]) -> list[tuple[_Element, str]]:
        """Elements another push linked between our read and our claim (consistent re-read, in bulk if we can)."""
        check = [el for el in held if el.reread is not None and not el.claimed]
        out: list[tuple[_Element, str]] = []
        if self.bulk is not None:
            by_kind: dict[str, list[_Element]] = {}
            for el in check:
                by_kind.setdefault(el.kind, []).append(el)
            for kind, els in by_kind.items():
                stored = self.bulk.get_entities(company_id, kind, [el.entity_id for el in els])
                for el in els:
                    local = stored.get(el.entity_id)
                    linked = local.entity.provider_ids.get(provider) if local is not None else None
                    if linked:
                        out.append((el, linked))
            return out
        for el in check:
            assert el.reread is not None
            linked = el.reread().provider_ids.get(provider)
            if linked:
                out.append((el, linked))
        return out

    def _send_batch(
        self,
        provider: BatchingProvider,
        s: Session,
        ops: list[Op],
        patient_until: float | None,
        refused: list[bool] | None = None,
    ) -> list[OpResult]:
        """One batch call (retried like any call). A backfill may wait out a long rate-limit pause while its Lambda
        has time left (``patient_until``); the retry replays the same batch key. ``refused`` gets one entry per failed
        try: True where a rate limit refused it (a 429, ours or the provider's: nothing ran), False where its outcome
        is unknown."""

        def push() -> list[OpResult]:
            try:
                return provider.push_many(s, ops)
            except BaseException as exc:
                if refused is not None:
                    refused.append(isinstance(exc, RateLimited))
                raise

        waits = 0
        while True:
            try:
                results = self._call(push)
            except ProviderError as exc:
                wait = exc.retry_after
                if (
                    patient_until is None
                    or not exc.retryable
                    or wait is None
                    or self.clock() + wait > patient_until
                    or waits >= PATIENT_WAITS
                ):
                    raise
                waits += 1
                logger.info("batch waits out a rate limit", wait=round(wait, 2))
                self.sleep(wait)
                continue
            if len(results) != len(ops):
                raise Unavailable("the provider answered a batch with a different number of results")
            return results

    def _element_result(self, company_id: str, conn: Connection, el: _Element, result: OpResult) -> _Done:
        if result.ref is not None:
            action = "updated" if el.op.action == "update" else "created"
            return self._element_linked(company_id, conn, el, result.ref, action)
        exc = result.error or Unavailable("no answer for this element")
        if el.find is not None and isinstance(exc, DuplicateName | DuplicateNumber | Unavailable):
            try:  # the books have it already (ours from an earlier attempt, or a same-name record to link)
                found = self._call(el.find)
            except ProviderError as again:
                exc = again
            else:
                if found is not None:
                    return self._element_linked(company_id, conn, el, found, "linked")
        return self._element_failed(company_id, el, exc)

    def _element_linked(self, company_id: str, conn: Connection, el: _Element, ref: Ref, action: str) -> _Done:
        if el.claimed:
            return _Done(ref=ref, action=action)  # the caller links what it claimed
        if not self.state.link(
            company_id,
            el.kind,
            el.entity_id,
            el.owner,
            conn.provider,
            ref.id,
            invoice_id=el.invoice_id,
            sync_token=ref.version if el.kind == "invoice" else None,
            pushed_version=el.pushed_version,
        ):
            logger.warning("claim lost before link", kind=el.kind)
        self.history.add(
            company_id,
            entity_type=el.kind,
            entity_id=el.entity_id,
            provider=conn.provider,
            action=action,
            result="synced",
            provider_id=ref.id,
        )
        return _Done(ref=ref, action=action)

    def _element_failed(self, company_id: str, el: _Element, exc: ProviderError, unsent: bool = False) -> _Done:
        if not el.claimed:
            self.state.release(company_id, el.kind, el.entity_id, el.owner, invoice_id=el.invoice_id, unsent=unsent)
        return _Done(error=exc)

    # ---- backfill ------------------------------------------------------------------------------------------------
    def backfill(
        self,
        company_id: str,
        provider_name: str | None = None,
        *,
        time_left: Callable[[], float] | None = None,
        reserve: float = 15.0,
    ) -> dict[str, Any]:
        """Push every sent invoice not in the books yet, with its customer, items and payments, in batches.

        Progress is the links themselves: a pushed entity is linked (conditional write) and never selected again,
        so an interrupted run resumes where it stopped, and the normal sync and a backfill de-duplicate through the
        same claims. ``time_left()`` (seconds) lets the run stop between batches before the Lambda's limit; it then
        answers ``status = "continued"`` and the caller re-enqueues it. Providers without batching take the normal
        one-invoice-at-a-time path.
        """
        conn = self._connection(company_id)
        counts: dict[str, Any] = {"provider": conn.provider, "status": "done", "pushed": {}, "failed": {}}
        if provider_name and provider_name != conn.provider:
            return counts | {"status": "skipped", "reason": f"{provider_name} is not the connected provider"}
        if not conn.settings.sync_invoices:
            return counts | {"status": "skipped", "reason": "Invoice sync is off in Settings > Integrations."}
        provider = self.provider_for(conn.provider)

        slowest = [0.0]  # seconds of the slowest batch so far: stop while two more would still fit

        def out_of_time() -> bool:
            return time_left is not None and time_left() < max(reserve, 2 * slowest[0])

        def tally(kind: str, done: _Done) -> None:
            bucket = "failed" if done.error is not None else "pushed"
            if done.ref is not None or done.error is not None:
                counts[bucket][kind] = counts[bucket].get(kind, 0) + 1

        invoices = [
            inv
            for inv in self._all(self.invoices, company_id)
            if inv.status in (InvoiceStatus.SENT, InvoiceStatus.PAID)
        ]
        customers = {c.id: c for c in self._all(self.customers, company_id)}
        items = {i.id: i for i in self._all(self.items, company_id)}
        mapping: ProviderMapping = self.mappings.get(company_id, conn.provider)
        refs: dict[tuple[str, str], Ref] = {}
        for c in customers.values():
            if c.provider_ids.get(conn.provider):
                refs[("customer", c.id)] = Ref(c.provider_ids[conn.provider])
        for i in items.values():
            if i.provider_ids.get(conn.provider):
                refs[("item", i.id)] = Ref(i.provider_ids[conn.provider])
        todo = [inv for inv in invoices if not inv.provider_ids.get(conn.provider)]

        # invoices that cannot be pushed fail alone (a person must act), the rest go on
        ready: list[Invoice] = []
        unmapped = 0
        for inv in todo:
            problem = self._unpushable(conn, inv, customers, items, mapping)
            if problem is None:
                ready.append(inv)
            elif isinstance(problem, _ItemUnmapped):  # typical right after a connect: one notification, not one each
                err = SyncError(code=problem.code, message=problem.message, provider=conn.provider, at=utcnow())
                self.state.record_error(company_id, "invoice", inv.id, err)
                unmapped += 1
                tally("invoice", _Done(error=problem))
            else:
                self._fail(company_id, conn.provider, "invoice", inv.id, problem)
                tally("invoice", _Done(error=problem))
        if unmapped:
            name = PROVIDER_DISPLAY_NAMES[conn.provider]
            self.notifier.notify(
                company_id,
                code="item_unmapped",
                message=f"{unmapped} sent invoice{'s' if unmapped > 1 else ''} could not be sent to {name}: their "
                "items have no income account. Map them in Settings > Account Mapping; saving the mapping starts the "
                "backfill again.",
                provider=conn.provider,
                entity_type="backfill",
                entity_id=conn.provider,
            )

        if provider.capabilities.max_batch <= 1:  # the one-object path: each invoice as a Sync click would push it
            linked = [inv for inv in invoices if inv.provider_ids.get(conn.provider)]  # for their payments
            for inv in ready + linked:
                if out_of_time():
                    return counts | {"status": "continued"}
                try:
                    self.sync_invoice(company_id, inv.id)
                    tally("invoice", _Done(ref=Ref(inv.id)))
                except SyncFailed as exc:
                    if exc.retryable:
                        raise
                    tally("invoice", _Done(error=ProviderError(exc.error.message)))
            return counts

        s = self._session(company_id, conn)
        size = provider.capabilities.max_batch
        # 1. customers and items of those invoices (created; a same-name record in the books is linked instead)
        level1: list[_Element] = []
        for cid in dict.fromkeys(inv.customer_id for inv in ready):
            if ("customer", cid) not in refs:
                level1.append(self._customer_element(company_id, provider, s, customers[cid]))
        for iid in dict.fromkeys(line.item_id for inv in ready for line in inv.lines):
            if ("item", iid) not in refs:
                account = str(mapping.items.get(iid) or mapping.default_account_id)
                level1.append(self._item_element(company_id, provider, s, items[iid], account))

        # 2. the invoices, 3. the payments of every linked invoice: built once the level before is linked
        def invoice_elements() -> list[_Element]:
            out: list[_Element] = []
            for inv in ready:
                cust = refs.get(("customer", inv.customer_id))
                item_refs = [refs.get(("item", line.item_id)) for line in inv.lines]
                if cust is None or any(r is None for r in item_refs):
                    continue  # its customer or an item failed: that failure is already recorded
                lines = [
                    LineRef(
                        item=cast(Ref, r),
                        account_id=str(mapping.items.get(line.item_id) or mapping.default_account_id),
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        amount=line.amount,
                        description=line.description or items[line.item_id].name,
                    )
                    for line, r in zip(inv.lines, item_refs, strict=True)
                ]
                out.append(self._invoice_element(company_id, provider, s, inv, cust, lines))
            return out

        def payment_elements() -> list[_Element]:
            out: list[_Element] = []
            field_name = PAYMENT_PROVIDER_ID_FIELDS[conn.provider]
            every = self.bulk.all_payments(company_id) if self.bulk is not None else None
            for inv in invoices:
                inv_ref = refs.get(("invoice", inv.id))
                if inv_ref is None and inv.provider_ids.get(conn.provider):
                    inv_ref = Ref(inv.provider_ids[conn.provider])
                cust_ref = refs.get(("customer", inv.customer_id))
                if inv_ref is None or cust_ref is None:
                    continue
                listed = every.get(inv.id, []) if every is not None else self.invoices.list_payments(company_id, inv.id)
                for p in sorted(listed, key=lambda p: p.created_at):
                    if not getattr(p, field_name):
                        account = mapping.payment_accounts.get(p.method.value)
                        out.append(_deposit_to(self._payment_element(provider, s, p, inv_ref, cust_ref), account))
            return out

        mixes = provider.capabilities.batch_mixes_kinds
        for build in (lambda: level1, invoice_elements, payment_elements):
            groups: dict[str, list[_Element]] = {}
            for el in build():
                groups.setdefault("all" if mixes else el.kind, []).append(el)
            for group in groups.values():
                for start in range(0, len(group), size):
                    if out_of_time():
                        return counts | {"status": "continued"}
                    chunk = group[start : start + size]
                    # a rate-limit pause is waited out while the invocation has time left (else the run continues
                    # in a new invocation)
                    budget = (time_left() - reserve) if time_left is not None else self.backoff_cap * 60
                    started = time.monotonic()
                    done = self._push_batch(company_id, conn, provider, s, chunk, patient_until=self.clock() + budget)
                    slowest[0] = max(slowest[0], time.monotonic() - started)
                    for el in chunk:
                        result = done[el.key]
                        if result.ref is not None:
                            refs[el.key] = result.ref
                        elif result.error is not None:
                            self._fail(company_id, conn.provider, el.kind, el.entity_id, result.error, el.invoice_id)
                        tally(el.kind, result)
                    if any(d.error is not None and d.error.retryable for d in done.values()):
                        return counts | {"status": "continued"}  # the provider is struggling: resume later
        if counts["pushed"].get("invoice"):
            self._health_ok(company_id, conn)
        return counts

    @staticmethod
    def _all(repo: Any, company_id: str) -> list[Any]:
        out: list[Any] = []
        cursor: str | None = None
        while True:
            rows, cursor = repo.page(company_id, 100, cursor)
            out += rows
            if not cursor:
                return out

    def _unpushable(
        self,
        conn: Connection,
        inv: Invoice,
        customers: dict[str, Customer],
        items: dict[str, Item],
        mapping: ProviderMapping,
    ) -> ProviderError | None:
        if inv.customer_id not in customers:
            return _Rejected("customer_missing", f"Invoice {inv.number}'s customer no longer exists in BlueClerk.")
        missing = [line.item_id for line in inv.lines if line.item_id not in items]
        if missing:
            return _Rejected("item_missing", f"Invoice lines use deleted items ({', '.join(missing)}); fix the lines.")
        unmapped = sorted(
            {
                items[line.item_id].name
                for line in inv.lines
                if not (mapping.items.get(line.item_id) or mapping.default_account_id)
            }
        )
        if unmapped:
            name = PROVIDER_DISPLAY_NAMES[conn.provider]
            return _ItemUnmapped(
                f"Item(s) {', '.join(repr(n) for n in unmapped)} have no income account for {name}. Map them in "
                "Settings > Account Mapping, then click Resync. Nothing was sent to the books."
            )
        return None

    def _customer_element(self, company_id: str, provider: AccountingProvider, s: Session, c: Customer) -> _Element:
        return _Element(
            "customer",
            c.id,
            Op("customer", "create", c, f"bc-{c.id}-c"),
            find=lambda: provider.find_customer(s, c),
            pushed_version=c.version,
            reread=lambda: self.customers.get(company_id, c.id, consistent=True),
        )

    def _item_element(
        self, company_id: str, provider: AccountingProvider, s: Session, i: Item, account_id: str
    ) -> _Element:
        return _Element(
            "item",
            i.id,
            Op("item", "create", i, f"bc-{i.id}-c", account_id=account_id),
            find=lambda: provider.find_item(s, i),
            pushed_version=i.version,
            reread=lambda: self.items.get(company_id, i.id, consistent=True),
        )

    def _invoice_element(
        self, company_id: str, provider: AccountingProvider, s: Session, inv: Invoice, cust: Ref, lines: list[LineRef]
    ) -> _Element:
        marker = invoice_marker(inv.id)

        def find() -> Ref | None:
            found = provider.find_invoice(s, inv.number)
            if found is None or (found.marker and marker in found.marker):
                return found
            raise DuplicateNumber(self._duplicate_message(provider.name, inv.number))

        return _Element(
            "invoice",
            inv.id,
            Op("invoice", "create", inv, f"bc-{inv.id}-c", customer=cust, lines=tuple(lines)),
            find=find,
            pushed_version=inv.version,
            reread=lambda: self.invoices.get(company_id, inv.id, consistent=True),
        )

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
        left = request_time_left()  # a synchronous request's deadline (the Sync button; API Gateway gives up at 29 s)
        if left is not None and wait > left - DEADLINE_RESERVE:
            logger.info("provider call not retried: past the request deadline", error=exc.code, wait=round(wait, 2))
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
        if exc.retryable and exc.retry_after is not None and exc.retry_after > self.backoff_cap * 4:
            # a provider-named wait too long to hold a Lambda for (a day limit): say when the retry happens
            when = time.strftime("%Y-%m-%d %H:%M", time.gmtime(time.time() + exc.retry_after))
            message = (
                f"{name} asked us to wait ({exc.message}). The sync will be retried automatically after {when} UTC; "
                "nothing was lost."
            )
        elif exc.retryable:
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


@dataclass
class _Element:
    """One entity of a batch push: what to send, how to find it again, and its own claim."""

    kind: str
    entity_id: str
    op: Op
    find: Callable[[], Ref | None] | None = None  # None: nothing to look up (an update)
    invoice_id: str | None = None  # payments live under their invoice
    pushed_version: int | None = None
    reread: Callable[[], Any] | None = None  # the entity as stored now (linked meanwhile?)
    owner: str = ""
    attempt: int | None = None
    claimed: bool = False  # the caller holds the claim and links the result itself

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.entity_id)


def _deposit_to(el: _Element, account_id: str | None) -> _Element:
    """A payment element carrying the deposit account mapped for its method (None: the adapter's default)."""
    if account_id:
        el.op = replace(el.op, account_id=account_id)
    return el


@dataclass(frozen=True)
class _Done:
    """An element's outcome: ``ref`` (linked), ``error`` (failed alone), or neither (another push holds it)."""

    ref: Ref | None = None
    action: str = ""
    error: ProviderError | None = None


def _err(e: SyncError) -> dict[str, Any]:
    return {"code": e.code, "message": e.message}


__all__ = ["SyncEngine", "SyncFailed", "not_connected_error"]
