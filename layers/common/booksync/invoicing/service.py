"""Invoices and payments: the rules a plumber's office lives by, before anything reaches the books."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from booksync.catalog.models import Customer, Item
from booksync.config import PROVIDER_DISPLAY_NAMES, PROVIDERS
from booksync.errors import BadRequest, Conflict
from booksync.ids import new_id, utcnow
from booksync.integrations.models import Connection, ConnectionStatus
from booksync.invoicing.models import Invoice, InvoiceLine, InvoiceStatus, Payment, SyncStatus
from booksync.invoicing.schemas import (
    NUMBER_LIMIT,
    InvoiceCreate,
    InvoiceDetail,
    InvoiceLineOut,
    InvoicePage,
    InvoicePatch,
    InvoiceSummary,
    LineIn,
    PaymentCreate,
    PaymentOut,
    SyncButton,
    SyncHistoryEntry,
)
from booksync.money import ZERO, check_amount, to_money
from booksync.ports import SyncQueue

REFERENCE_LIMIT = 21  # QuickBooks PaymentRefNum: the strictest provider limit


class InvoiceRepo(Protocol):
    def add(self, company_id: str, invoice: Invoice) -> None: ...
    def get(self, company_id: str, invoice_id: str) -> Invoice: ...
    def save(self, company_id: str, invoice: Invoice, previous_number: str | None = None) -> Invoice: ...
    def page(self, company_id: str, limit: int, cursor: str | None) -> tuple[list[Invoice], str | None]: ...
    def add_payment(self, company_id: str, invoice: Invoice, payment: Payment) -> None: ...
    def get_payment(self, company_id: str, invoice_id: str, payment_id: str) -> Payment | None: ...
    def list_payments(self, company_id: str, invoice_id: str) -> list[Payment]: ...


class CustomerLookup(Protocol):
    def get(self, company_id: str, customer_id: str) -> Customer: ...


class ItemLookup(Protocol):
    def get_many(self, company_id: str, item_ids: Iterable[str]) -> dict[str, Item]: ...


class ConnectionLookup(Protocol):
    def for_company(self, company_id: str) -> list[Connection]: ...


class HistoryLookup(Protocol):
    def list_for(self, company_id: str, entity_type: str, entity_id: str, limit: int = 20) -> list[dict[str, Any]]: ...


class CompanyFlags(Protocol):
    def has_synced_invoice(self, company_id: str) -> bool: ...


def amount_paid(payments: Iterable[Payment]) -> Decimal:
    """The paid total is always the sum of the payment records, never a stored running total."""
    return sum((p.amount for p in payments), ZERO)


def primary_connection(connections: Iterable[Connection]) -> Connection | None:
    """The provider the Sync button talks to: the first connected (or needing re-auth) one, in PROVIDERS order."""
    usable = {c.provider: c for c in connections if c.status != ConnectionStatus.DISCONNECTED}
    return next((usable[p] for p in PROVIDERS if p in usable), None)


@dataclass(frozen=True)
class InvoiceService:
    invoices: InvoiceRepo
    customers: CustomerLookup
    items: ItemLookup
    connections: ConnectionLookup
    company: CompanyFlags
    queue: SyncQueue
    history: HistoryLookup | None = None

    # create / update ----------------------------------------------------------------------------------------------
    def create(self, company_id: str, cmd: InvoiceCreate) -> InvoiceDetail:
        self._check_number(cmd.number)
        self._check_dates(cmd.issue_date, cmd.due_date)
        self.customers.get(company_id, cmd.customer_id)  # 404 if it is not this company's
        lines = self._lines(company_id, cmd.lines)
        if cmd.status is not None and cmd.status not in (InvoiceStatus.DRAFT, InvoiceStatus.SENT):
            raise BadRequest(
                f"A new invoice can be DRAFT or SENT, not {cmd.status.value}; create it, then record payments "
                "or void it.",
                code="invalid_status",
            )
        now = utcnow()
        invoice = Invoice(
            id=new_id("inv"),
            number=cmd.number,
            customer_id=cmd.customer_id,
            issue_date=cmd.issue_date,
            due_date=cmd.due_date,
            status=cmd.status or InvoiceStatus.DRAFT,
            lines=lines,
            total=sum((line.amount for line in lines), ZERO),
            created_at=now,
            updated_at=now,
        )
        self.invoices.add(company_id, invoice)
        if invoice.status == InvoiceStatus.SENT:
            self._enqueue(company_id, invoice, "sent")
        return self.detail(company_id, invoice.id)

    def update(self, company_id: str, invoice_id: str, patch: InvoicePatch) -> InvoiceDetail:
        current = self.invoices.get(company_id, invoice_id)
        if current.status == InvoiceStatus.VOID:
            raise BadRequest(
                "This invoice is VOID and can no longer be changed; create a new invoice.", code="invoice_void"
            )
        fields = patch.model_fields_set
        changes: dict[str, object] = {}
        if "number" in fields and patch.number is not None:
            self._check_number(patch.number)
            changes["number"] = patch.number
        if "customer_id" in fields and patch.customer_id is not None:
            self.customers.get(company_id, patch.customer_id)
            changes["customer_id"] = patch.customer_id
        if "issue_date" in fields:
            changes["issue_date"] = patch.issue_date
        if "due_date" in fields:
            changes["due_date"] = patch.due_date
        self._check_dates(changes.get("issue_date", current.issue_date), changes.get("due_date", current.due_date))  # type: ignore[arg-type]
        payments = self.invoices.list_payments(company_id, invoice_id)
        paid = amount_paid(payments)
        if "lines" in fields:
            lines = self._lines(company_id, patch.lines or [])
            total = sum((line.amount for line in lines), ZERO)
            if total < paid:
                raise BadRequest(
                    f"The new total {total} is less than the {paid} already paid; remove a payment first or keep "
                    "the total at or above the amount paid.",
                    code="total_below_amount_paid",
                )
            changes["lines"] = lines
            changes["total"] = total
        status: InvoiceStatus = current.status
        if "status" in fields and patch.status is not None and patch.status != current.status:
            status = self._next_status(current.status, patch.status, bool(payments))
            changes["status"] = status
        if not changes:
            return self.detail(company_id, invoice_id)
        total_after = changes.get("total", current.total)
        if status == InvoiceStatus.SENT and paid and paid >= total_after:  # type: ignore[operator]
            changes["status"] = status = InvoiceStatus.PAID
        elif status == InvoiceStatus.PAID and paid < total_after:  # type: ignore[operator]
            changes["status"] = status = InvoiceStatus.SENT
        changes["updated_at"] = utcnow()
        updated = current.model_copy(update=changes)
        if current.provider_ids and status != InvoiceStatus.VOID:
            updated = updated.model_copy(update={"sync_status": SyncStatus.NOT_SYNCED})  # local change not yet pushed
        saved = self.invoices.save(company_id, updated, previous_number=current.number)
        if saved.status in (InvoiceStatus.SENT, InvoiceStatus.PAID):
            self._enqueue(company_id, saved, "updated" if current.status != InvoiceStatus.DRAFT else "sent")
        return self.detail(company_id, invoice_id)

    def send(self, company_id: str, invoice_id: str) -> InvoiceDetail:
        invoice = self.invoices.get(company_id, invoice_id)
        if invoice.status == InvoiceStatus.VOID:
            raise BadRequest("A VOID invoice cannot be sent; create a new invoice.", code="invoice_void")
        if invoice.status == InvoiceStatus.DRAFT:
            invoice = self.invoices.save(
                company_id, invoice.model_copy(update={"status": InvoiceStatus.SENT, "updated_at": utcnow()})
            )
        self._enqueue(company_id, invoice, "sent")  # re-sending re-queues; the queue de-duplicates repeats
        return self.detail(company_id, invoice_id)

    # payments -----------------------------------------------------------------------------------------------------
    def record_payment(
        self, company_id: str, invoice_id: str, cmd: PaymentCreate, idempotency_key: str | None = None
    ) -> tuple[PaymentOut, bool]:
        """Record a payment. Returns (payment, created). The same Idempotency-Key returns the first payment."""
        payment_id = self._payment_id(company_id, invoice_id, idempotency_key)
        if payment_id is not None and (existing := self.invoices.get_payment(company_id, invoice_id, payment_id)):
            return self._payment_out(existing), False
        invoice = self.invoices.get(company_id, invoice_id)
        if invoice.status in (InvoiceStatus.DRAFT, InvoiceStatus.VOID):
            hint = "send the invoice first" if invoice.status == InvoiceStatus.DRAFT else "record it on a valid invoice"
            raise BadRequest(
                f"Payments can only be recorded on a SENT invoice; this one is {invoice.status.value} ({hint}).",
                code="invoice_not_payable",
            )
        amount = check_amount(cmd.amount, "amount")
        if cmd.reference and len(cmd.reference) > REFERENCE_LIMIT:
            raise BadRequest(
                f"'reference' is {len(cmd.reference)} characters; accounting providers accept at most "
                f"{REFERENCE_LIMIT}. Shorten it.",
                code="reference_too_long",
            )
        paid = amount_paid(self.invoices.list_payments(company_id, invoice_id))
        balance = invoice.total - paid
        if amount > balance:
            raise BadRequest(
                f"A payment of {amount} would over-pay invoice {invoice.number}: its balance is {balance} "
                f"(total {invoice.total}, paid {paid}). Record at most {balance}.",
                code="payment_exceeds_balance",
            )
        payment = Payment(
            id=payment_id or new_id("pay"),
            invoice_id=invoice_id,
            amount=amount,
            method=cmd.method,
            date=cmd.date or utcnow().date(),
            reference=cmd.reference,
            created_at=utcnow(),
        )
        status = InvoiceStatus.PAID if paid + amount >= invoice.total else invoice.status
        try:
            self.invoices.add_payment(company_id, invoice.model_copy(update={"status": status}), payment)
        except Conflict:
            if payment_id is not None and (existing := self.invoices.get_payment(company_id, invoice_id, payment_id)):
                return self._payment_out(existing), False  # a concurrent retry with the same key won
            raise
        self.queue.enqueue_payment(company_id, invoice_id, payment.id)
        return self._payment_out(payment), True

    # reads --------------------------------------------------------------------------------------------------------
    def detail(self, company_id: str, invoice_id: str) -> InvoiceDetail:
        invoice = self.invoices.get(company_id, invoice_id)
        payments: list[Payment] = sorted(
            self.invoices.list_payments(company_id, invoice_id), key=lambda p: p.created_at
        )
        paid = amount_paid(payments)
        conn = primary_connection(self.connections.for_company(company_id))
        button = None
        if conn is not None and invoice.status in (InvoiceStatus.SENT, InvoiceStatus.PAID):
            verb = "Resync to" if conn.provider in invoice.provider_ids else "Sync to"
            button = SyncButton(label=f"{verb} {PROVIDER_DISPLAY_NAMES[conn.provider]}", provider=conn.provider)
        return InvoiceDetail(
            **self._summary(invoice).model_dump(by_alias=False),
            lines=[InvoiceLineOut.model_validate(line.model_dump(by_alias=False)) for line in invoice.lines],
            amount_paid=paid,
            balance=invoice.total - paid,
            sync_button=button,
            last_sync_error=invoice.last_sync_error.model_dump(mode="json") if invoice.last_sync_error else None,
            last_synced_at=invoice.last_synced_at,
            payments=[self._payment_out(p) for p in payments],
            sync_history=self._history(company_id, invoice_id, payments),
        )

    def _history(self, company_id: str, invoice_id: str, payments: list[Payment]) -> list[SyncHistoryEntry]:
        if self.history is None:
            return []
        rows = self.history.list_for(company_id, "invoice", invoice_id)
        for p in payments:
            rows += self.history.list_for(company_id, "payment", p.id, limit=5)
        rows.sort(key=lambda r: r["at"], reverse=True)
        return [SyncHistoryEntry.model_validate(r) for r in rows[:30]]

    def page(self, company_id: str, limit: int, cursor: str | None) -> InvoicePage:
        rows, nxt = self.invoices.page(company_id, limit, cursor)
        return InvoicePage(
            data=[self._summary(r) for r in rows],
            next_cursor=nxt,
            show_sync_status=self.company.has_synced_invoice(company_id),
        )

    # helpers ------------------------------------------------------------------------------------------------------
    def _enqueue(self, company_id: str, invoice: Invoice, trigger: str) -> None:
        conn = primary_connection(self.connections.for_company(company_id))
        if conn is None or conn.status != ConnectionStatus.CONNECTED or not conn.settings.sync_invoices:
            return  # nothing to push to; the Sync button (or the next send) pushes once a provider is connected
        self.queue.enqueue_invoice(company_id, invoice.id, trigger=trigger, dedupe=f"{invoice.id}:{invoice.version}")

    def _lines(self, company_id: str, lines: list[LineIn]) -> list[InvoiceLine]:
        if not lines:
            raise BadRequest(
                "An invoice needs at least one line: add 'lines' with an itemId, quantity and unitPrice.",
                code="invoice_without_lines",
            )
        items = self.items.get_many(company_id, (line.item_id for line in lines))
        missing = sorted({line.item_id for line in lines if line.item_id not in items})
        if missing:
            raise BadRequest(
                f"Unknown item id(s): {', '.join(missing)}. Create the items first or use ids from GET /items.",
                code="unknown_item",
                details=[{"field": "lines.itemId", "value": m} for m in missing],
            )
        out = []
        for n, line in enumerate(lines, start=1):
            qty = line.quantity
            if not qty.is_finite() or qty <= 0 or qty.as_tuple().exponent < -4:  # type: ignore[operator]
                raise BadRequest(
                    f"Line {n}: 'quantity' must be greater than zero with at most 4 decimal places; got {qty}.",
                    code="invalid_quantity",
                )
            price = check_amount(line.unit_price, f"lines[{n}].unitPrice", allow_zero=True)
            out.append(
                InvoiceLine(
                    item_id=line.item_id,
                    description=line.description or items[line.item_id].description or items[line.item_id].name,
                    quantity=qty,
                    unit_price=price,
                    amount=to_money(qty * price),
                )
            )
        return out

    @staticmethod
    def _check_number(number: str) -> None:
        if len(number) > NUMBER_LIMIT:
            raise BadRequest(
                f"Invoice number '{number}' is {len(number)} characters; QuickBooks accepts at most {NUMBER_LIMIT}. "
                "Use a shorter number.",
                code="invoice_number_too_long",
            )

    @staticmethod
    def _check_dates(issue: object, due: object) -> None:
        if issue is not None and due is not None and due < issue:  # type: ignore[operator]
            raise BadRequest(
                "'dueDate' is before 'issueDate'; set a due date on or after the issue date.", code="invalid_dates"
            )

    @staticmethod
    def _next_status(current: InvoiceStatus, wanted: InvoiceStatus, has_payments: bool) -> InvoiceStatus:
        if wanted == InvoiceStatus.VOID:
            if has_payments:
                raise BadRequest(
                    "An invoice with payments cannot be voided; remove its payments first.", code="invoice_has_payments"
                )
            return wanted
        if wanted == InvoiceStatus.SENT and current == InvoiceStatus.DRAFT:
            return wanted
        if wanted == InvoiceStatus.PAID:
            raise BadRequest(
                "An invoice becomes PAID when its payments cover the total; record a payment instead.",
                code="invalid_status",
            )
        raise BadRequest(f"An invoice cannot go from {current.value} to {wanted.value}.", code="invalid_status")

    @staticmethod
    def _payment_id(company_id: str, invoice_id: str, key: str | None) -> str | None:
        if not key:
            return None
        if len(key) > 128:
            raise BadRequest(
                "The Idempotency-Key header is longer than 128 characters.", code="invalid_idempotency_key"
            )
        digest = hashlib.sha256(f"{company_id}|{invoice_id}|{key}".encode()).hexdigest()[:20]
        return f"pay_k{digest}"

    @staticmethod
    def _summary(invoice: Invoice) -> InvoiceSummary:
        return InvoiceSummary(
            id=invoice.id,
            number=invoice.number,
            customer_id=invoice.customer_id,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            status=invoice.status,
            total=invoice.total,
            sync_status=invoice.sync_status.value,
            provider_ids=dict(invoice.provider_ids),
            created_at=invoice.created_at,
            updated_at=invoice.updated_at,
        )

    @staticmethod
    def _payment_out(p: Payment) -> PaymentOut:
        ids = p.provider_ids()
        status = "synced" if ids else ("failed" if p.last_sync_error else "not_synced")
        return PaymentOut(
            id=p.id,
            invoice_id=p.invoice_id,
            amount=p.amount,
            method=p.method,
            date=p.date,
            reference=p.reference,
            provider_ids=ids,
            sync_status=status,
            last_sync_error=p.last_sync_error.model_dump(mode="json") if p.last_sync_error else None,
            created_at=p.created_at,
        )
