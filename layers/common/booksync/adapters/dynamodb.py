"""pynamodb storage: one table, keyed by company (``pk = COMPANY#<id>``), one Record class per item type.

Repositories convert records to domain models and back; nothing above this module sees pynamodb. Every read
and write is scoped by the caller's company key, so one company's data cannot be reached with another's id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel
from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import TableConnection
from pynamodb.constants import NUMBER, STRING
from pynamodb.exceptions import DeleteError, DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from booksync.catalog.models import Customer, Item
from booksync.errors import BadRequest, Conflict, NotFound
from booksync.ids import new_id, utcnow
from booksync.integrations.models import Connection, ConnectionStatus, Health, OAuthState, ProviderMapping, SyncSettings
from booksync.invoicing.models import Invoice, Payment, SyncError
from booksync.notifications.models import Notification

M = TypeVar("M", bound=BaseModel)

CONDITION_FAILED = "ConditionalCheckFailedException"


# ---------------------------------------------------------------------------------------------------------------------
# Attributes
# ---------------------------------------------------------------------------------------------------------------------
class DecimalAttribute(Attribute[Decimal]):
    """A DynamoDB number that round-trips as :class:`~decimal.Decimal` (pynamodb's NumberAttribute gives floats)."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        return str(value)

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


class DocumentAttribute(Attribute[Any]):
    """A nested document (lines, addresses, maps) stored as JSON text; decimals travel as strings, never floats."""

    attr_type = STRING

    def serialize(self, value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)

    def deserialize(self, value: str) -> Any:
        return json.loads(value)


# ---------------------------------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------------------------------
class ConnectedIndex(GlobalSecondaryIndex["TableRecord"]):
    """Sparse index of connected provider links: ``gsi1pk = CONNECTED``, ``gsi1sk = <provider>#<companyId>``."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class TableRecord(Model):
    """The table's key schema; every record type extends it. ``create_table`` is called on this class."""

    class Meta:
        table_name = os.environ.get("TABLE_NAME", "blueclerk-sync")

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    ttl = TTLAttribute(null=True)
    gsi1 = ConnectedIndex()

    @classmethod
    def _get_connection(cls) -> TableConnection:
        """Every record type shares the table's one connection (one botocore client per process, not one per
        record class: each client costs cold-start time and its own connection pool)."""
        if cls is not TableRecord:
            return TableRecord._get_connection()
        return super()._get_connection()


class SyncClaimMixin:
    """Write-ahead claim of the sync engine on a pushable record: who pushes it, until when, how many attempts."""

    claim_owner = UnicodeAttribute(null=True)
    claim_until = NumberAttribute(null=True)
    claim_attempts = NumberAttribute(null=True)
    pushed_version = NumberAttribute(null=True)  # the entity version last pushed (skip unchanged, debounce)


class CompanyRecord(TableRecord):
    has_synced_invoice = BooleanAttribute(default=False)
    updated_at = UTCDateTimeAttribute(null=True)


class CustomerRecord(SyncClaimMixin, TableRecord):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    name_key = UnicodeAttribute()  # case-folded display name, for matching imports and provider customers
    company_name = UnicodeAttribute(null=True)
    given_name = UnicodeAttribute(null=True)
    family_name = UnicodeAttribute(null=True)
    email = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    billing_address = DocumentAttribute(null=True)
    shipping_address = DocumentAttribute(null=True)
    classification = UnicodeAttribute(null=True)
    classification_reason = UnicodeAttribute(null=True)
    classification_override = UnicodeAttribute(null=True)
    provider_ids = MapAttribute[str, str](default=dict)
    last_sync_error = DocumentAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)


class ItemRecord(SyncClaimMixin, TableRecord):
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    price = DecimalAttribute()
    sku = UnicodeAttribute(null=True)
    provider_ids = MapAttribute[str, str](default=dict)
    last_sync_error = DocumentAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)


class InvoiceRecord(SyncClaimMixin, TableRecord):
    id = UnicodeAttribute()
    number = UnicodeAttribute()
    customer_id = UnicodeAttribute()
    issue_date = UnicodeAttribute(null=True)
    due_date = UnicodeAttribute(null=True)
    status = UnicodeAttribute()
    lines = DocumentAttribute()
    total = DecimalAttribute()
    provider_ids = MapAttribute[str, str](default=dict)
    provider_sync_tokens = MapAttribute[str, str](default=dict)
    sync_status = UnicodeAttribute()
    last_sync_error = DocumentAttribute(null=True)
    last_synced_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    version = NumberAttribute(default=0)  # bumped by every change, payments included (serialises over-pay checks)


class InvoiceNumberRecord(TableRecord):
    """Uniqueness guard: one per (company, invoice number)."""

    invoice_id = UnicodeAttribute()


class PaymentRecord(SyncClaimMixin, TableRecord):
    id = UnicodeAttribute()
    invoice_id = UnicodeAttribute()
    amount = DecimalAttribute()
    method = UnicodeAttribute()
    date = UnicodeAttribute()
    reference = UnicodeAttribute(null=True)
    quickbooks_payment_id = UnicodeAttribute(null=True, attr_name="quickbooksPaymentId")
    xero_payment_id = UnicodeAttribute(null=True, attr_name="xeroPaymentId")
    freshbooks_payment_id = UnicodeAttribute(null=True, attr_name="freshbooksPaymentId")
    wave_payment_id = UnicodeAttribute(null=True, attr_name="wavePaymentId")
    last_sync_error = DocumentAttribute(null=True)
    created_at = UTCDateTimeAttribute()


class ConnectionRecord(TableRecord):
    provider = UnicodeAttribute()
    status = UnicodeAttribute(default=ConnectionStatus.DISCONNECTED.value)
    tenant_id = UnicodeAttribute(null=True)
    tenant_name = UnicodeAttribute(null=True)
    settings = DocumentAttribute(null=True)
    health = DocumentAttribute(null=True)
    connected_at = UTCDateTimeAttribute(null=True)
    # tokens: KMS ciphertext only (encryption context names company and provider)
    token_ciphertext = UnicodeAttribute(null=True)
    token_version = NumberAttribute(default=0)
    access_expires_at = NumberAttribute(null=True)
    lease_owner = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)


class MappingRecord(TableRecord):
    provider = UnicodeAttribute()
    default_account_id = UnicodeAttribute(null=True)
    items = DocumentAttribute(null=True)
    payment_accounts = DocumentAttribute(null=True)  # user's record only: payment method -> deposit account
    updated_at = UTCDateTimeAttribute()


class NotificationRecord(TableRecord):
    id = UnicodeAttribute()
    code = UnicodeAttribute()
    message = UnicodeAttribute()
    provider = UnicodeAttribute(null=True)
    entity_type = UnicodeAttribute(null=True)
    entity_id = UnicodeAttribute(null=True)
    read = BooleanAttribute(default=False)
    occurrences = NumberAttribute(default=1)
    dedupe_key = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class NotificationKeyRecord(TableRecord):
    """Exists while an unread notification exists for (provider, entity, problem): the de-duplication anchor."""

    notification_id = UnicodeAttribute()


class OAuthStateRecord(TableRecord):
    company_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = UTCDateTimeAttribute()


class SyncHistoryRecord(TableRecord):
    id = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    provider = UnicodeAttribute()
    action = UnicodeAttribute()
    result = UnicodeAttribute()
    provider_id = UnicodeAttribute(null=True)
    error_code = UnicodeAttribute(null=True)
    error_message = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute()


# ---------------------------------------------------------------------------------------------------------------------
# Keys, cursors, helpers
# ---------------------------------------------------------------------------------------------------------------------
def company_pk(company_id: str) -> str:
    return f"COMPANY#{company_id}"


def _fields(record: Model, model: type[M], **extra: Any) -> M:
    data: dict[str, Any] = {}
    for name in model.model_fields:
        if hasattr(record, name):
            value = getattr(record, name)
            if isinstance(value, MapAttribute):
                value = value.as_dict()
            if value is not None:
                data[name] = value
    data.update(extra)
    return model.model_validate(data)


def _doc(value: BaseModel | None) -> Any:
    return value.model_dump(mode="json", by_alias=False) if value is not None else None


def encode_cursor(company_id: str, key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    raw = json.dumps({"c": company_id, "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(company_id: str, cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data["c"] != company_id:
            raise ValueError("cursor of another company")
        return dict(data["k"])
    except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise BadRequest(
            "The 'cursor' is not valid; pass the 'nextCursor' value of the previous page unchanged, or omit it.",
            code="invalid_cursor",
        ) from exc


def _set_or_remove(attr: Any, value: Any) -> Any:
    return attr.remove() if value is None else attr.set(value)


def _update_versioned(rec: Any, actions: list[Any], what: str) -> None:
    try:
        rec.update(actions=actions, condition=type(rec).version == rec.version)
    except UpdateError as exc:
        if _condition_failed(exc):
            raise Conflict(f"The {what} changed while you were editing it; reload and try again.") from exc
        raise


def _tx() -> TransactWrite:
    """A transaction on the same low-level connection (and client) the models use."""
    return TransactWrite(connection=TableRecord._get_connection().connection)


def _condition_failed(exc: PutError | UpdateError | TransactWriteError) -> bool:
    if isinstance(exc, TransactWriteError):
        reasons = getattr(exc, "cancellation_reasons", None) or []
        return any(r is not None and r.code in ("ConditionalCheckFailed", CONDITION_FAILED) for r in reasons)
    return exc.cause_response_code == CONDITION_FAILED


def _page(
    record_cls: type[TableRecord], company_id: str, prefix: str, limit: int, cursor: str | None, forward: bool = True
) -> tuple[list[Any], str | None]:
    result = record_cls.query(
        company_pk(company_id),
        record_cls.sk.startswith(prefix),
        limit=limit,
        last_evaluated_key=decode_cursor(company_id, cursor),
        scan_index_forward=forward,
    )
    rows = list(result)
    return rows, encode_cursor(company_id, result.last_evaluated_key)


# ---------------------------------------------------------------------------------------------------------------------
# Repositories
# ---------------------------------------------------------------------------------------------------------------------
class CustomerRepository:
    def add(self, company_id: str, customer: Customer) -> None:
        rec = self._record(company_id, customer)
        rec.save(condition=CustomerRecord.pk.does_not_exist())

    def get(self, company_id: str, customer_id: str, consistent: bool = False) -> Customer:
        return self._domain(self._get(company_id, customer_id, consistent))

    def save(self, company_id: str, customer: Customer) -> Customer:
        """Write the user-editable fields if nobody changed them since they were read (never the sync state)."""
        current = self._get(company_id, customer.id)
        fields = (
            "name",
            "company_name",
            "given_name",
            "family_name",
            "email",
            "phone",
            "classification",
            "classification_reason",
            "classification_override",
            "updated_at",
        )
        actions = [_set_or_remove(getattr(CustomerRecord, f), getattr(customer, f)) for f in fields]
        actions += [
            CustomerRecord.name_key.set(customer.name.casefold()),
            _set_or_remove(CustomerRecord.billing_address, _doc(customer.billing_address)),
            _set_or_remove(CustomerRecord.shipping_address, _doc(customer.shipping_address)),
            CustomerRecord.version.set(int(current.version or 0) + 1),
        ]
        _update_versioned(current, actions, "customer")
        return self.get(company_id, customer.id)

    def page(self, company_id: str, limit: int, cursor: str | None) -> tuple[list[Customer], str | None]:
        rows, nxt = _page(CustomerRecord, company_id, "CUSTOMER#", limit, cursor)
        return [self._domain(r) for r in rows], nxt

    def iter_all(self, company_id: str) -> Iterable[Customer]:
        for r in CustomerRecord.query(company_pk(company_id), CustomerRecord.sk.startswith("CUSTOMER#")):
            yield self._domain(r)

    def _get(self, company_id: str, customer_id: str, consistent: bool = False) -> CustomerRecord:
        try:
            return CustomerRecord.get(company_pk(company_id), f"CUSTOMER#{customer_id}", consistent_read=consistent)
        except DoesNotExist as exc:
            raise NotFound(f"Customer '{customer_id}' was not found.", code="customer_not_found") from exc

    @staticmethod
    def _record(company_id: str, c: Customer) -> CustomerRecord:
        return CustomerRecord(
            company_pk(company_id),
            f"CUSTOMER#{c.id}",
            id=c.id,
            name=c.name,
            name_key=c.name.casefold(),
            company_name=c.company_name,
            given_name=c.given_name,
            family_name=c.family_name,
            email=c.email,
            phone=c.phone,
            billing_address=_doc(c.billing_address),
            shipping_address=_doc(c.shipping_address),
            classification=c.classification,
            classification_reason=c.classification_reason,
            classification_override=c.classification_override,
            provider_ids=dict(c.provider_ids),
            created_at=c.created_at,
            updated_at=c.updated_at,
        )

    @staticmethod
    def _domain(r: CustomerRecord) -> Customer:
        return _fields(r, Customer)


class ItemRepository:
    def add(self, company_id: str, item: Item) -> None:
        self._record(company_id, item).save(condition=ItemRecord.pk.does_not_exist())

    def get(self, company_id: str, item_id: str, consistent: bool = False) -> Item:
        return _fields(self._get(company_id, item_id, consistent), Item)

    def get_many(self, company_id: str, item_ids: Iterable[str]) -> dict[str, Item]:
        keys = [(company_pk(company_id), f"ITEM#{i}") for i in dict.fromkeys(item_ids)]
        return {r.id: _fields(r, Item) for r in ItemRecord.batch_get(keys)}

    def save(self, company_id: str, item: Item) -> Item:
        current = self._get(company_id, item.id)
        actions = [
            _set_or_remove(getattr(ItemRecord, f), getattr(item, f))
            for f in ("name", "description", "price", "sku", "updated_at")
        ]
        actions.append(ItemRecord.version.set(int(current.version or 0) + 1))
        _update_versioned(current, actions, "item")
        return self.get(company_id, item.id)

    def page(self, company_id: str, limit: int, cursor: str | None) -> tuple[list[Item], str | None]:
        rows, nxt = _page(ItemRecord, company_id, "ITEM#", limit, cursor)
        return [_fields(r, Item) for r in rows], nxt

    def _get(self, company_id: str, item_id: str, consistent: bool = False) -> ItemRecord:
        try:
            return ItemRecord.get(company_pk(company_id), f"ITEM#{item_id}", consistent_read=consistent)
        except DoesNotExist as exc:
            raise NotFound(f"Item '{item_id}' was not found.", code="item_not_found") from exc

    @staticmethod
    def _record(company_id: str, i: Item) -> ItemRecord:
        return ItemRecord(
            company_pk(company_id),
            f"ITEM#{i.id}",
            id=i.id,
            name=i.name,
            description=i.description,
            price=i.price,
            sku=i.sku,
            provider_ids=dict(i.provider_ids),
            created_at=i.created_at,
            updated_at=i.updated_at,
        )


def _number_key(number: str) -> str:
    return f"INVOICENUMBER#{number.casefold()}"


class InvoiceRepository:
    """Invoices, their number guard and their payments (payments live under the invoice's company key)."""

    def add(self, company_id: str, invoice: Invoice) -> None:
        pk = company_pk(company_id)
        try:
            with _tx() as tx:
                tx.save(
                    InvoiceNumberRecord(pk, _number_key(invoice.number), invoice_id=invoice.id),
                    condition=InvoiceNumberRecord.pk.does_not_exist(),
                )
                tx.save(self._record(company_id, invoice), condition=InvoiceRecord.pk.does_not_exist())
        except TransactWriteError as exc:
            if _condition_failed(exc):
                raise Conflict(
                    f"Invoice number '{invoice.number}' is already used by another invoice; choose a different number.",
                    code="duplicate_invoice_number",
                ) from exc
            raise

    def get(self, company_id: str, invoice_id: str, consistent: bool = False) -> Invoice:
        return self._domain(self._get(company_id, invoice_id, consistent))

    def save(self, company_id: str, invoice: Invoice, previous_number: str | None = None) -> Invoice:
        """Write the user-editable fields if nobody changed the invoice since it was read (``invoice.version``).

        Provider ids, sync tokens and claims are never written here: they belong to the sync engine.
        """
        pk = company_pk(company_id)
        expected = invoice.version
        actions = [
            InvoiceRecord.number.set(invoice.number),
            InvoiceRecord.customer_id.set(invoice.customer_id),
            _set_or_remove(InvoiceRecord.issue_date, invoice.issue_date.isoformat() if invoice.issue_date else None),
            _set_or_remove(InvoiceRecord.due_date, invoice.due_date.isoformat() if invoice.due_date else None),
            InvoiceRecord.status.set(invoice.status.value),
            InvoiceRecord.lines.set([line.model_dump(mode="json", by_alias=False) for line in invoice.lines]),
            InvoiceRecord.total.set(invoice.total),
            InvoiceRecord.sync_status.set(invoice.sync_status.value),
            InvoiceRecord.updated_at.set(invoice.updated_at),
            InvoiceRecord.version.set(expected + 1),
        ]
        renumbered = previous_number is not None and previous_number.casefold() != invoice.number.casefold()
        try:
            with _tx() as tx:
                if renumbered:
                    tx.save(
                        InvoiceNumberRecord(pk, _number_key(invoice.number), invoice_id=invoice.id),
                        condition=InvoiceNumberRecord.pk.does_not_exist(),
                    )
                    tx.delete(InvoiceNumberRecord(pk, _number_key(previous_number or "")))
                tx.update(
                    InvoiceRecord(pk, f"INVOICE#{invoice.id}"),
                    actions=actions,
                    condition=InvoiceRecord.version == expected,
                )
        except TransactWriteError as exc:
            if _condition_failed(exc):
                if renumbered and InvoiceNumberRecord.count(pk, InvoiceNumberRecord.sk == _number_key(invoice.number)):
                    raise Conflict(
                        f"Invoice number '{invoice.number}' is already used by another invoice.",
                        code="duplicate_invoice_number",
                    ) from exc
                raise Conflict("The invoice changed while you were editing it; reload and try again.") from exc
            raise
        return self.get(company_id, invoice.id)

    def page(self, company_id: str, limit: int, cursor: str | None) -> tuple[list[Invoice], str | None]:
        rows, nxt = _page(InvoiceRecord, company_id, "INVOICE#", limit, cursor)
        return [self._domain(r) for r in rows], nxt

    # payments -----------------------------------------------------------------------------------------------------
    def add_payment(self, company_id: str, invoice: Invoice, payment: Payment) -> None:
        """Store a payment only if the invoice is unchanged since the caller checked the balance (no over-pay race)."""
        pk = company_pk(company_id)
        try:
            with _tx() as tx:
                tx.save(self._payment_record(company_id, payment), condition=PaymentRecord.pk.does_not_exist())
                tx.update(
                    InvoiceRecord(pk, f"INVOICE#{invoice.id}"),
                    actions=[
                        InvoiceRecord.version.set(invoice.version + 1),
                        InvoiceRecord.status.set(invoice.status.value),
                    ],
                    condition=InvoiceRecord.version == invoice.version,
                )
        except TransactWriteError as exc:
            if _condition_failed(exc):
                raise Conflict(
                    "The invoice changed while the payment was being recorded; reload it and record the payment again.",
                    code="invoice_changed",
                ) from exc
            raise

    def get_payment(
        self, company_id: str, invoice_id: str, payment_id: str, consistent: bool = False
    ) -> Payment | None:
        try:
            rec = PaymentRecord.get(
                company_pk(company_id), f"PAYMENT#{invoice_id}#{payment_id}", consistent_read=consistent
            )
            return _fields(rec, Payment)
        except DoesNotExist:
            return None

    def list_payments(self, company_id: str, invoice_id: str) -> list[Payment]:
        rows = PaymentRecord.query(company_pk(company_id), PaymentRecord.sk.startswith(f"PAYMENT#{invoice_id}#"))
        return [_fields(r, Payment) for r in rows]

    def _get(self, company_id: str, invoice_id: str, consistent: bool = False) -> InvoiceRecord:
        try:
            return InvoiceRecord.get(company_pk(company_id), f"INVOICE#{invoice_id}", consistent_read=consistent)
        except DoesNotExist as exc:
            raise NotFound(f"Invoice '{invoice_id}' was not found.", code="invoice_not_found") from exc

    @staticmethod
    def _domain(r: InvoiceRecord) -> Invoice:
        return _fields(r, Invoice, version=int(r.version or 0))

    @staticmethod
    def _record(company_id: str, inv: Invoice) -> InvoiceRecord:
        return InvoiceRecord(
            company_pk(company_id),
            f"INVOICE#{inv.id}",
            id=inv.id,
            number=inv.number,
            customer_id=inv.customer_id,
            issue_date=inv.issue_date.isoformat() if inv.issue_date else None,
            due_date=inv.due_date.isoformat() if inv.due_date else None,
            status=inv.status.value,
            lines=[line.model_dump(mode="json", by_alias=False) for line in inv.lines],
            total=inv.total,
            provider_ids=dict(inv.provider_ids),
            provider_sync_tokens=dict(inv.provider_sync_tokens),
            sync_status=inv.sync_status.value,
            last_sync_error=_doc(inv.last_sync_error),
            last_synced_at=inv.last_synced_at,
            created_at=inv.created_at,
            updated_at=inv.updated_at,
            version=inv.version,
        )

    @staticmethod
    def _payment_record(company_id: str, p: Payment) -> PaymentRecord:
        return PaymentRecord(
            company_pk(company_id),
            f"PAYMENT#{p.invoice_id}#{p.id}",
            id=p.id,
            invoice_id=p.invoice_id,
            amount=p.amount,
            method=p.method.value,
            date=p.date.isoformat(),
            reference=p.reference,
            created_at=p.created_at,
        )


class CompanyRepository:
    def mark_has_synced_invoice(self, company_id: str) -> None:
        CompanyRecord(company_pk(company_id), "COMPANY", has_synced_invoice=True, updated_at=utcnow()).save()

    def has_synced_invoice(self, company_id: str) -> bool:
        try:
            return bool(CompanyRecord.get(company_pk(company_id), "COMPANY").has_synced_invoice)
        except DoesNotExist:
            return False


class NotificationRepository:
    """Notifications, de-duplicated: at most one unread notification per (provider, entity, problem)."""

    def raise_(
        self,
        company_id: str,
        *,
        code: str,
        message: str,
        provider: str | None,
        entity_type: str | None,
        entity_id: str | None,
    ) -> tuple[Notification, bool]:
        """Create a notification, or update the unread one for the same problem. Returns (notification, created)."""
        pk = company_pk(company_id)
        dedupe = f"{provider or '-'}#{entity_type or '-'}#{entity_id or '-'}#{code}"
        now = utcnow()
        for _ in range(5):
            try:
                key = NotificationKeyRecord.get(pk, f"NOTIFKEY#{dedupe}")
            except DoesNotExist:
                key = None
            if key is not None:
                rec = NotificationRecord(pk, f"NOTIFICATION#{key.notification_id}")
                try:
                    rec.update(
                        actions=[
                            NotificationRecord.occurrences.add(1),
                            NotificationRecord.message.set(message),
                            NotificationRecord.updated_at.set(now),
                        ],
                        condition=NotificationRecord.read == False,  # noqa: E712  (pynamodb condition)
                    )
                    return _fields(rec, Notification), False
                except UpdateError as exc:
                    if not _condition_failed(exc):
                        raise
                    continue  # it was read meanwhile: raise a fresh one
            nid = new_id("ntf")
            rec = NotificationRecord(
                pk,
                f"NOTIFICATION#{nid}",
                id=nid,
                code=code,
                message=message,
                provider=provider,
                entity_type=entity_type,
                entity_id=entity_id,
                read=False,
                occurrences=1,
                dedupe_key=dedupe,
                created_at=now,
                updated_at=now,
            )
            try:
                with _tx() as tx:
                    tx.save(
                        NotificationKeyRecord(pk, f"NOTIFKEY#{dedupe}", notification_id=nid),
                        condition=NotificationKeyRecord.pk.does_not_exist(),
                    )
                    tx.save(rec)
                return _fields(rec, Notification), True
            except TransactWriteError as exc:
                if not _condition_failed(exc):
                    raise
        raise Conflict("Could not record the notification; try again.")

    def page(self, company_id: str, limit: int, cursor: str | None) -> tuple[list[Notification], str | None]:
        rows, nxt = _page(NotificationRecord, company_id, "NOTIFICATION#", limit, cursor, forward=False)
        return [_fields(r, Notification) for r in rows], nxt

    def unread_count(self, company_id: str) -> int:
        return int(
            NotificationKeyRecord.count(company_pk(company_id), NotificationKeyRecord.sk.startswith("NOTIFKEY#"))
        )

    def mark_read(self, company_id: str, notification_id: str) -> Notification:
        pk = company_pk(company_id)
        try:
            rec = NotificationRecord.get(pk, f"NOTIFICATION#{notification_id}")
        except DoesNotExist as exc:
            raise NotFound(f"Notification '{notification_id}' was not found.", code="notification_not_found") from exc
        if not rec.read:
            with _tx() as tx:
                tx.update(rec, actions=[NotificationRecord.read.set(True), NotificationRecord.updated_at.set(utcnow())])
                tx.delete(
                    NotificationKeyRecord(pk, f"NOTIFKEY#{rec.dedupe_key}"),
                    condition=NotificationKeyRecord.notification_id == rec.id,
                )
            rec.read = True
        return _fields(rec, Notification)

    def find_unread(
        self, company_id: str, *, code: str, provider: str | None, entity_type: str | None, entity_id: str | None
    ) -> Notification | None:
        dedupe = f"{provider or '-'}#{entity_type or '-'}#{entity_id or '-'}#{code}"
        try:
            key = NotificationKeyRecord.get(company_pk(company_id), f"NOTIFKEY#{dedupe}")
            return _fields(
                NotificationRecord.get(company_pk(company_id), f"NOTIFICATION#{key.notification_id}"), Notification
            )
        except DoesNotExist:
            return None


class ConnectionRepository:
    """Connections (status, tenant, settings, health). Token storage and the refresh lease extend this record."""

    def get(self, company_id: str, provider: str) -> Connection:
        rec = self.get_record(company_id, provider)
        return self._domain(rec) if rec is not None else Connection(provider=provider)

    def get_record(self, company_id: str, provider: str) -> ConnectionRecord | None:
        try:
            return ConnectionRecord.get(company_pk(company_id), f"CONNECTION#{provider}", consistent_read=True)
        except DoesNotExist:
            return None

    def for_company(self, company_id: str) -> list[Connection]:
        rows = ConnectionRecord.query(company_pk(company_id), ConnectionRecord.sk.startswith("CONNECTION#"))
        return [self._domain(r) for r in rows]

    def save_settings(self, company_id: str, provider: str, settings: SyncSettings) -> Connection:
        rec = self.get_record(company_id, provider)
        if rec is None:
            rec = ConnectionRecord(company_pk(company_id), f"CONNECTION#{provider}", provider=provider)
            rec.settings = _doc(settings)
            rec.updated_at = utcnow()
            try:
                rec.save(condition=ConnectionRecord.pk.does_not_exist())
                return self._domain(rec)
            except PutError as exc:
                if not _condition_failed(exc):
                    raise
        rec = ConnectionRecord(company_pk(company_id), f"CONNECTION#{provider}")
        rec.update(actions=[ConnectionRecord.settings.set(_doc(settings)), ConnectionRecord.updated_at.set(utcnow())])
        return self._domain(rec)

    def save_health(self, company_id: str, provider: str, health: Health) -> None:
        ConnectionRecord(company_pk(company_id), f"CONNECTION#{provider}").update(
            actions=[ConnectionRecord.health.set(_doc(health)), ConnectionRecord.updated_at.set(utcnow())]
        )

    def iter_connected(self, provider: str | None = None) -> Iterable[tuple[str, str]]:
        """(company id, provider) of every connected link, paging the sparse index (never a table scan)."""
        cond = ConnectionRecord.gsi1sk.startswith(f"{provider}#") if provider else None
        for rec in ConnectionRecord.gsi1.query("CONNECTED", cond):
            prov, _, company = (rec.gsi1sk or "").partition("#")
            yield company, prov

    @staticmethod
    def _domain(r: ConnectionRecord) -> Connection:
        health = Health.model_validate(r.health or {})
        if r.access_expires_at:
            health = health.model_copy(update={"token_expires_at": datetime.fromtimestamp(r.access_expires_at, UTC)})
        return Connection(
            provider=r.provider,
            status=ConnectionStatus(r.status or "disconnected"),
            tenant_id=r.tenant_id,
            tenant_name=r.tenant_name,
            settings=SyncSettings.model_validate(r.settings or {}),
            health=health,
            connected_at=r.connected_at,
            token_version=int(r.token_version or 0),
        )


# Income accounts of imported items live apart from the user's mapping, spread over a few records: one DynamoDB item
# holds at most 400 KB, and 10,000 items with long provider account ids (Wave, Xero) would not fit in one.
IMPORTED_ACCOUNT_SHARDS = 16


def _imported_accounts_sk(provider: str, shard: int) -> str:
    return f"MAPPING#{provider}#IMPORTED#{shard:02d}"


def _account_shard(item_id: str) -> int:
    return int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16) % IMPORTED_ACCOUNT_SHARDS


def _merged_mappings(rows: Iterable[MappingRecord]) -> dict[str, ProviderMapping]:
    """The user's mapping record per provider, over the accounts imported items came with (the user's choice wins)."""
    chosen: dict[str, MappingRecord] = {}
    imported: dict[str, dict[str, str]] = {}
    for r in rows:
        if r.sk.count("#") == 1:
            chosen[r.provider] = r
        else:
            imported.setdefault(r.provider, {}).update(r.items or {})
    out: dict[str, ProviderMapping] = {}
    for provider in sorted(set(chosen) | set(imported)):
        user = chosen.get(provider)
        items = {**imported.get(provider, {}), **(dict(user.items or {}) if user is not None else {})}
        out[provider] = ProviderMapping(
            default_account_id=user.default_account_id if user else None,
            items=items,
            payment_accounts=dict(user.payment_accounts or {}) if user is not None else {},
        )
    return out


class MappingRepository:
    def get_all(self, company_id: str) -> dict[str, ProviderMapping]:
        return _merged_mappings(MappingRecord.query(company_pk(company_id), MappingRecord.sk.startswith("MAPPING#")))

    def get(self, company_id: str, provider: str) -> ProviderMapping:
        # one query reads the user's record (MAPPING#<provider>) and the imported shards (MAPPING#<provider>#...)
        rows = MappingRecord.query(company_pk(company_id), MappingRecord.sk.startswith(f"MAPPING#{provider}"))
        return _merged_mappings(r for r in rows if r.provider == provider).get(provider, ProviderMapping())

    def put(self, company_id: str, provider: str, mapping: ProviderMapping) -> None:
        MappingRecord(
            company_pk(company_id),
            f"MAPPING#{provider}",
            provider=provider,
            default_account_id=mapping.default_account_id,
            items=mapping.items or None,
            payment_accounts=mapping.payment_accounts or None,
            updated_at=utcnow(),
        ).save()


class OAuthStateRepository:
    def add(self, state: OAuthState) -> None:
        OAuthStateRecord(
            f"OAUTHSTATE#{state.state}",
            "STATE",
            company_id=state.company_id,
            provider=state.provider,
            created_at=state.created_at,
            expires_at=state.expires_at,
            ttl=state.expires_at,
        ).save(condition=OAuthStateRecord.pk.does_not_exist())

    def consume(self, state: str) -> OAuthState | None:
        """Delete the state and return it; None if unknown or already used (single use, even under races)."""
        try:
            rec = OAuthStateRecord.get(f"OAUTHSTATE#{state}", "STATE", consistent_read=True)
        except DoesNotExist:
            return None
        try:
            rec.delete(condition=OAuthStateRecord.pk.exists())
        except DeleteError as exc:
            if exc.cause_response_code == CONDITION_FAILED:
                return None  # another request consumed it between our read and our delete
            raise
        return OAuthState(
            state=state,
            company_id=rec.company_id,
            provider=rec.provider,
            created_at=rec.created_at,
            expires_at=rec.expires_at,
        )


class SyncHistoryRepository:
    def add(
        self,
        company_id: str,
        *,
        entity_type: str,
        entity_id: str,
        provider: str,
        action: str,
        result: str,
        provider_id: str | None = None,
        error: SyncError | None = None,
    ) -> None:
        hid = new_id("syn")
        SyncHistoryRecord(
            company_pk(company_id),
            f"SYNC#{entity_type}#{entity_id}#{hid}",
            id=hid,
            entity_type=entity_type,
            entity_id=entity_id,
            provider=provider,
            action=action,
            result=result,
            provider_id=provider_id,
            error_code=error.code if error else None,
            error_message=error.message if error else None,
            at=utcnow(),
        ).save()

    def list_for(self, company_id: str, entity_type: str, entity_id: str, limit: int = 20) -> list[dict[str, Any]]:
        """The newest ``limit`` pushes of one entity (when, what, result, provider id), newest first."""
        rows = SyncHistoryRecord.query(
            company_pk(company_id),
            SyncHistoryRecord.sk.startswith(f"SYNC#{entity_type}#{entity_id}#"),
            scan_index_forward=False,
            limit=limit,
        )
        return [
            {
                "id": r.id,
                "entity_type": r.entity_type,
                "entity_id": r.entity_id,
                "provider": r.provider,
                "action": r.action,
                "result": r.result,
                "provider_id": r.provider_id,
                "error_code": r.error_code,
                "at": r.at,
            }
            for r in rows
        ]


@dataclass(frozen=True)
class StoredTokens:
    """A connection's token state as read from the table (ciphertext still encrypted)."""

    status: str
    ciphertext: str | None
    version: int
    access_expires_at: float | None
    lease_owner: str | None
    lease_until: float | None


class TokenRepository:
    """Token storage and the refresh lease: every write is conditional, so concurrent Lambdas cannot clobber it."""

    def read(self, company_id: str, provider: str) -> StoredTokens | None:
        try:
            r = ConnectionRecord.get(company_pk(company_id), f"CONNECTION#{provider}", consistent_read=True)
        except DoesNotExist:
            return None
        return StoredTokens(
            status=r.status or "disconnected",
            ciphertext=r.token_ciphertext,
            version=int(r.token_version or 0),
            access_expires_at=float(r.access_expires_at) if r.access_expires_at is not None else None,
            lease_owner=r.lease_owner,
            lease_until=float(r.lease_until) if r.lease_until is not None else None,
        )

    def connect(
        self,
        company_id: str,
        provider: str,
        *,
        tenant_id: str,
        tenant_name: str,
        ciphertext: str,
        access_expires_at: float,
    ) -> None:
        """Store a fresh consent: status connected, new tokens, version bumped, lease cleared, index entry set."""
        now = utcnow()
        rec = ConnectionRecord(company_pk(company_id), f"CONNECTION#{provider}")
        rec.update(
            actions=[
                ConnectionRecord.provider.set(provider),
                ConnectionRecord.status.set(ConnectionStatus.CONNECTED.value),
                ConnectionRecord.tenant_id.set(tenant_id),
                ConnectionRecord.tenant_name.set(tenant_name),
                ConnectionRecord.token_ciphertext.set(ciphertext),
                ConnectionRecord.token_version.add(1),
                ConnectionRecord.access_expires_at.set(int(access_expires_at)),
                ConnectionRecord.connected_at.set(now),
                ConnectionRecord.updated_at.set(now),
                ConnectionRecord.gsi1pk.set("CONNECTED"),
                ConnectionRecord.gsi1sk.set(f"{provider}#{company_id}"),
                ConnectionRecord.lease_owner.remove(),
                ConnectionRecord.lease_until.remove(),
            ]
        )

    def acquire_lease(self, company_id: str, provider: str, owner: str, version: int, until: float, now: float) -> bool:
        """Take the refresh lease if nobody holds a live one and the tokens are still at ``version``."""
        rec = ConnectionRecord(company_pk(company_id), f"CONNECTION#{provider}")
        free = ConnectionRecord.lease_until.does_not_exist() | (ConnectionRecord.lease_until < int(now))
        try:
            rec.update(
                actions=[ConnectionRecord.lease_owner.set(owner), ConnectionRecord.lease_until.set(int(until) + 1)],
                condition=free
                & (ConnectionRecord.token_version == version)
                & (ConnectionRecord.status == ConnectionStatus.CONNECTED.value),
            )
            return True
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise

    def store_refreshed(
        self, company_id: str, provider: str, owner: str, version: int, ciphertext: str, access_expires_at: float
    ) -> bool:
        """Write rotated tokens if nobody stored newer ones since the version we refreshed.

        Fenced by the version, not by the lease owner: whoever actually rotated the token at the provider must be able
        to store it even if its lease ran out meanwhile — otherwise the only valid refresh token would be lost."""
        rec = ConnectionRecord(company_pk(company_id), f"CONNECTION#{provider}")
        try:
            rec.update(
                actions=[
                    ConnectionRecord.token_ciphertext.set(ciphertext),
                    ConnectionRecord.token_version.set(version + 1),
                    ConnectionRecord.access_expires_at.set(int(access_expires_at)),
                    ConnectionRecord.updated_at.set(utcnow()),
                    ConnectionRecord.lease_owner.remove(),
                    ConnectionRecord.lease_until.remove(),
                ],
                condition=ConnectionRecord.token_version == version,
            )
            return True
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise

    def release_lease(self, company_id: str, provider: str, owner: str) -> None:
        rec = ConnectionRecord(company_pk(company_id), f"CONNECTION#{provider}")
        try:
            rec.update(
                actions=[ConnectionRecord.lease_owner.remove(), ConnectionRecord.lease_until.remove()],
                condition=ConnectionRecord.lease_owner == owner,
            )
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise

    def mark_needs_reauth(self, company_id: str, provider: str, version: int) -> bool:
        """Flag the connection dead (only if nobody stored newer tokens meanwhile). Returns True if we flagged it."""
        rec = ConnectionRecord(company_pk(company_id), f"CONNECTION#{provider}")
        try:
            rec.update(
                actions=[
                    ConnectionRecord.status.set(ConnectionStatus.NEEDS_REAUTH.value),
                    ConnectionRecord.lease_owner.remove(),
                    ConnectionRecord.lease_until.remove(),
                    ConnectionRecord.gsi1pk.remove(),
                    ConnectionRecord.gsi1sk.remove(),
                    ConnectionRecord.updated_at.set(utcnow()),
                ],
                condition=(ConnectionRecord.token_version == version)
                & (ConnectionRecord.status == ConnectionStatus.CONNECTED.value),
            )
            return True
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise

    def disconnect(self, company_id: str, provider: str) -> None:
        """Forget the tokens and leave the index; every synced id on customers/invoices/payments stays."""
        rec = ConnectionRecord(company_pk(company_id), f"CONNECTION#{provider}")
        rec.update(
            actions=[
                ConnectionRecord.status.set(ConnectionStatus.DISCONNECTED.value),
                ConnectionRecord.token_ciphertext.remove(),
                ConnectionRecord.access_expires_at.remove(),
                ConnectionRecord.token_version.add(1),
                ConnectionRecord.lease_owner.remove(),
                ConnectionRecord.lease_until.remove(),
                ConnectionRecord.gsi1pk.remove(),
                ConnectionRecord.gsi1sk.remove(),
                ConnectionRecord.updated_at.set(utcnow()),
            ]
        )


# ---------------------------------------------------------------------------------------------------------------------
# Sync state: write-ahead claims and provider links (used only by the sync engine)
# ---------------------------------------------------------------------------------------------------------------------
_PAYMENT_ID_ATTR = {
    "quickbooks": PaymentRecord.quickbooks_payment_id,
    "xero": PaymentRecord.xero_payment_id,
    "freshbooks": PaymentRecord.freshbooks_payment_id,
    "wave": PaymentRecord.wave_payment_id,
}


def _sync_record(company_id: str, kind: str, entity_id: str, invoice_id: str | None = None) -> Any:
    pk = company_pk(company_id)
    if kind == "customer":
        return CustomerRecord(pk, f"CUSTOMER#{entity_id}")
    if kind == "item":
        return ItemRecord(pk, f"ITEM#{entity_id}")
    if kind == "invoice":
        return InvoiceRecord(pk, f"INVOICE#{entity_id}")
    if kind == "payment":
        return PaymentRecord(pk, f"PAYMENT#{invoice_id}#{entity_id}")
    raise ValueError(kind)


class SyncStateRepository:
    """Claims (owner + lease, conditional) and provider links (conditional on holding the claim)."""

    def claim(
        self,
        company_id: str,
        kind: str,
        entity_id: str,
        owner: str,
        until: float,
        now: float,
        invoice_id: str | None = None,
        provider: str | None = None,
    ) -> int | None:
        """Take the entity for a push. Returns the attempt number (1 = first ever), or None if someone holds it.

        A payment already linked to ``provider`` cannot be claimed: it is never pushed twice.
        """
        rec = _sync_record(company_id, kind, entity_id, invoice_id)
        cls = type(rec)
        condition = cls.pk.exists() & (cls.claim_owner.does_not_exist() | (cls.claim_until < int(now)))
        if kind == "payment" and provider:
            condition = condition & _PAYMENT_ID_ATTR[provider].does_not_exist()
        try:
            rec.update(
                actions=[cls.claim_owner.set(owner), cls.claim_until.set(int(until) + 1), cls.claim_attempts.add(1)],
                condition=condition,
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                return None
            raise
        return int(rec.claim_attempts or 1)

    def release(
        self,
        company_id: str,
        kind: str,
        entity_id: str,
        owner: str,
        invoice_id: str | None = None,
        *,
        unsent: bool = False,
    ) -> None:
        """Give the entity up. ``unsent``: this attempt certainly reached nothing (every try was refused by a rate
        limit, ours or the provider's 429), so it does not count as an attempt whose outcome is unknown — the next
        one need not look the entity up in the books before sending it."""
        rec = _sync_record(company_id, kind, entity_id, invoice_id)
        cls = type(rec)
        actions: list[Any] = [cls.claim_owner.remove(), cls.claim_until.remove()]
        if unsent:
            actions.append(cls.claim_attempts.add(-1))
        try:
            rec.update(actions=actions, condition=cls.claim_owner == owner)
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise

    def link(
        self,
        company_id: str,
        kind: str,
        entity_id: str,
        owner: str,
        provider: str,
        provider_id: str,
        *,
        invoice_id: str | None = None,
        sync_token: str | None = None,
        pushed_version: int | None = None,
    ) -> bool:
        """Store the provider id (and release the claim) only while we hold the claim. Payments: only if unset."""
        rec = _sync_record(company_id, kind, entity_id, invoice_id)
        cls = type(rec)
        actions: list[Any] = [
            cls.claim_owner.remove(),
            cls.claim_until.remove(),
            cls.claim_attempts.remove(),
            cls.last_sync_error.remove(),
        ]
        condition = cls.claim_owner == owner
        if kind == "payment":
            attr = _PAYMENT_ID_ATTR[provider]
            actions.append(attr.set(provider_id))
            condition = condition & (attr.does_not_exist() | (attr == provider_id))
        else:
            actions.append(cls.provider_ids[provider].set(provider_id))
        if pushed_version is not None:
            actions.append(cls.pushed_version.set(pushed_version))
        if kind == "invoice":
            if sync_token is not None:
                actions.append(InvoiceRecord.provider_sync_tokens[provider].set(sync_token))  # type: ignore[attr-defined]
            actions += [InvoiceRecord.last_synced_at.set(utcnow())]
        try:
            rec.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        if kind == "invoice" and pushed_version is not None:
            self._mark_synced_if_current(company_id, entity_id, pushed_version)
        return True

    def _mark_synced_if_current(self, company_id: str, invoice_id: str, pushed_version: int) -> None:
        """'synced' only if the user did not change the invoice while we were pushing it."""
        rec = InvoiceRecord(company_pk(company_id), f"INVOICE#{invoice_id}")
        try:
            rec.update(
                actions=[InvoiceRecord.sync_status.set("synced")], condition=InvoiceRecord.version == pushed_version
            )
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise

    def record_error(
        self,
        company_id: str,
        kind: str,
        entity_id: str,
        error: SyncError,
        owner: str | None = None,
        invoice_id: str | None = None,
    ) -> None:
        rec = _sync_record(company_id, kind, entity_id, invoice_id)
        cls = type(rec)
        actions: list[Any] = [cls.last_sync_error.set(_doc(error))]
        if kind == "invoice":
            actions.append(InvoiceRecord.sync_status.set("failed"))
        condition = None
        if owner is not None:
            actions += [cls.claim_owner.remove(), cls.claim_until.remove()]
            condition = cls.claim_owner == owner
        try:
            rec.update(actions=actions, condition=condition)
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise

    def entity_state(self, company_id: str, kind: str, entity_id: str) -> dict[str, Any]:
        rec = _sync_record(company_id, kind, entity_id)
        r = type(rec).get(rec.pk, rec.sk, consistent_read=True)
        return {
            "version": int(r.version or 0),
            "pushed_version": int(r.pushed_version) if r.pushed_version is not None else None,
        }

    def invoice_state(self, company_id: str, invoice_id: str) -> dict[str, Any]:
        r = InvoiceRecord.get(company_pk(company_id), f"INVOICE#{invoice_id}", consistent_read=True)
        return {
            "version": int(r.version or 0),
            "pushed_version": int(r.pushed_version) if r.pushed_version is not None else None,
            "claim_owner": r.claim_owner,
            "claim_until": float(r.claim_until) if r.claim_until is not None else None,
            "sync_tokens": r.provider_sync_tokens.as_dict() if r.provider_sync_tokens else {},
        }


# =====================================================================================================================
# Imports from the books (booksync.imports; issue 7). Everything below this line belongs to the import service:
# provider links (``PLINK#<provider>#<kind>#<provider id>``), import runs with their checkpoints
# (``IMPORTRUN#<provider>#<run id>``) and per-provider import state (``IMPORTSTATE#<provider>``). Entity writes
# here are conditional: a record a push holds (live claim), or that changed since it was read, is never overwritten.
# =====================================================================================================================
from datetime import timedelta  # noqa: E402

from pynamodb.attributes import UnicodeSetAttribute  # noqa: E402

from booksync.imports.models import ImportRun, ImportState, ImportStatus, Link, Local  # noqa: E402
from booksync.invoicing.models import PAYMENT_PROVIDER_ID_FIELDS, InvoiceStatus  # noqa: E402

IMPORT_RUN_TTL = timedelta(days=90)


class ProviderLinkRecord(TableRecord):
    """The BlueClerk entity a provider record became, a digest of what was applied, and (customers) the class and
    the job / location facts classification needs."""

    entity_id = UnicodeAttribute(null=True)
    digest = UnicodeAttribute(null=True)
    classification = UnicodeAttribute(null=True)
    rule = UnicodeAttribute(null=True)
    parent_id = UnicodeAttribute(null=True)
    location = UnicodeAttribute(null=True)
    child_locations = UnicodeSetAttribute(null=True)
    children = UnicodeSetAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)


class ImportRunRecord(TableRecord):
    run = DocumentAttribute()
    seq = NumberAttribute(default=0)
    status = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


class ImportStateRecord(TableRecord):
    watermark = UTCDateTimeAttribute(null=True)
    watermark_kinds = DocumentAttribute(null=True)
    last_success_at = UTCDateTimeAttribute(null=True)
    last_import = DocumentAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)


def _link_key(provider: str, kind: str, provider_id: str) -> str:
    return f"PLINK#{provider}#{kind}#{provider_id}"


def _link(r: ProviderLinkRecord) -> Link:
    return Link(
        entity_id=r.entity_id,
        digest=r.digest,
        classification=r.classification,
        rule=r.rule,
        parent_id=r.parent_id,
        location=r.location,
        child_locations=set(r.child_locations or ()),
        children=set(r.children or ()),
    )


_IMPORT_RECORDS: dict[str, Any] = {"customer": CustomerRecord, "item": ItemRecord, "invoice": InvoiceRecord}


class ImportRepository:
    """Storage of the import service (``booksync.imports.service.ImportStore``)."""

    # ---- runs and state -----------------------------------------------------------------------------------------
    def state(self, company_id: str, provider: str) -> ImportState:
        try:
            r = ImportStateRecord.get(company_pk(company_id), f"IMPORTSTATE#{provider}", consistent_read=True)
        except DoesNotExist:
            return ImportState()
        return ImportState(
            watermark=r.watermark,
            watermark_kinds=list(r.watermark_kinds or []),
            last_success_at=r.last_success_at,
            last_import=ImportStatus.model_validate(r.last_import) if r.last_import else None,
        )

    def get_run(self, company_id: str, provider: str, run_id: str) -> ImportRun | None:
        try:
            r = ImportRunRecord.get(company_pk(company_id), f"IMPORTRUN#{provider}#{run_id}", consistent_read=True)
        except DoesNotExist:
            return None
        return ImportRun.model_validate(r.run)

    def start_run(self, company_id: str, run: ImportRun) -> ImportRun:
        """Store a new run, or return the stored one (a redelivered or continued message resumes it)."""
        rec = ImportRunRecord(
            company_pk(company_id),
            f"IMPORTRUN#{run.provider}#{run.run_id}",
            run=_doc(run),
            seq=run.seq,
            status=run.status.value,
            updated_at=utcnow(),
            ttl=utcnow() + IMPORT_RUN_TTL,
        )
        try:
            rec.save(condition=ImportRunRecord.pk.does_not_exist())
            return run
        except PutError as exc:
            if not _condition_failed(exc):
                raise
        stored = self.get_run(company_id, run.provider, run.run_id)
        assert stored is not None
        return stored

    def save_run(self, company_id: str, run: ImportRun, expected_seq: int, state: ImportState) -> bool:
        """The checkpoint: only the holder of ``expected_seq`` advances the run. Also refreshes the health status."""
        rec = ImportRunRecord(company_pk(company_id), f"IMPORTRUN#{run.provider}#{run.run_id}")
        try:
            rec.update(
                actions=[
                    ImportRunRecord.run.set(_doc(run)),
                    ImportRunRecord.seq.set(run.seq),
                    ImportRunRecord.status.set(run.status.value),
                    ImportRunRecord.updated_at.set(utcnow()),
                ],
                condition=ImportRunRecord.seq == expected_seq,
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise
        status = ImportStatus.of(run, state.last_success_at, state.watermark)
        actions: list[Any] = [
            ImportStateRecord.last_import.set(_doc(status)),
            ImportStateRecord.updated_at.set(utcnow()),
        ]
        if state.last_success_at is not None:
            actions.append(ImportStateRecord.last_success_at.set(state.last_success_at))
        ImportStateRecord(company_pk(company_id), f"IMPORTSTATE#{run.provider}").update(actions=actions)
        return True

    def advance_watermark(self, company_id: str, provider: str, watermark: datetime, kinds: list[str]) -> None:
        rec = ImportStateRecord(company_pk(company_id), f"IMPORTSTATE#{provider}")
        try:
            rec.update(
                actions=[
                    ImportStateRecord.watermark.set(watermark),
                    ImportStateRecord.watermark_kinds.set(list(kinds)),
                    ImportStateRecord.updated_at.set(utcnow()),
                ],
                condition=ImportStateRecord.watermark.does_not_exist() | (ImportStateRecord.watermark < watermark),
            )
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise

    # ---- provider links -----------------------------------------------------------------------------------------
    def links(self, company_id: str, provider: str, kind: str, provider_ids: Iterable[str]) -> dict[str, Link]:
        pk = company_pk(company_id)
        keys = [(pk, _link_key(provider, kind, p)) for p in dict.fromkeys(provider_ids) if p]
        prefix = len(_link_key(provider, kind, ""))
        return {r.sk[prefix:]: _link(r) for r in ProviderLinkRecord.batch_get(keys, consistent_read=True)}

    def put_links(self, company_id: str, provider: str, links: dict[tuple[str, str], Link]) -> None:
        """Store what a page's records became, 25 to a request (the job sets are the ones ``add_child`` returned)."""
        pk, now = company_pk(company_id), utcnow()
        with ProviderLinkRecord.batch_write() as batch:
            for (kind, provider_id), link in links.items():
                batch.save(
                    ProviderLinkRecord(
                        pk,
                        _link_key(provider, kind, provider_id),
                        entity_id=link.entity_id,
                        digest=link.digest,
                        classification=link.classification,
                        rule=link.rule,
                        parent_id=link.parent_id,
                        location=link.location,
                        child_locations=set(link.child_locations) or None,
                        children=set(link.children) or None,
                        updated_at=now,
                    )
                )

    def add_child(self, company_id: str, provider: str, parent_id: str, child_id: str, location: str | None) -> Link:
        rec = ProviderLinkRecord(company_pk(company_id), _link_key(provider, "customer", parent_id))
        actions: list[Any] = [ProviderLinkRecord.children.add({child_id})]
        if location:
            actions.append(ProviderLinkRecord.child_locations.add({location}))
        rec.update(actions=actions)  # pynamodb reloads the item's new attributes into ``rec``
        return _link(rec)

    # ---- BlueClerk records ----------------------------------------------------------------------------------------
    def customer_index(self, company_id: str) -> list[Customer]:
        rows = CustomerRecord.query(
            company_pk(company_id),
            CustomerRecord.sk.startswith("CUSTOMER#"),
            attributes_to_get=["id", "name", "email", "provider_ids", "created_at", "updated_at"],
        )
        return [_fields(r, Customer) for r in rows]

    def item_index(self, company_id: str) -> list[Item]:
        rows = ItemRecord.query(
            company_pk(company_id),
            ItemRecord.sk.startswith("ITEM#"),
            attributes_to_get=["id", "name", "sku", "price", "provider_ids", "created_at", "updated_at"],
        )
        return [_fields(r, Item) for r in rows]

    def invoice_index(self, company_id: str, provider: str) -> dict[str, str]:
        rows = InvoiceRecord.query(
            company_pk(company_id), InvoiceRecord.sk.startswith("INVOICE#"), attributes_to_get=["id", "provider_ids"]
        )
        out: dict[str, str] = {}
        for r in rows:
            pid = (r.provider_ids.as_dict() if r.provider_ids else {}).get(provider)
            if pid:
                out[str(pid)] = r.id
        return out

    def get_entity(self, company_id: str, kind: str, entity_id: str) -> Local | None:
        cls = _IMPORT_RECORDS[kind]
        try:
            r = cls.get(company_pk(company_id), f"{kind.upper()}#{entity_id}", consistent_read=True)
        except DoesNotExist:
            return None
        models: dict[str, type[BaseModel]] = {"customer": Customer, "item": Item, "invoice": Invoice}
        entity: BaseModel = _fields(r, models[kind], version=int(r.version or 0))
        claimed = r.claim_owner is not None and float(r.claim_until or 0) >= utcnow().timestamp()
        return Local(entity=entity, claimed=claimed)

    def get_entities(self, company_id: str, kind: str, entity_ids: Iterable[str]) -> dict[str, Local]:
        cls = _IMPORT_RECORDS[kind]
        pk = company_pk(company_id)
        keys = [(pk, f"{kind.upper()}#{i}") for i in dict.fromkeys(entity_ids)]
        now = utcnow().timestamp()
        models: dict[str, type[BaseModel]] = {"customer": Customer, "item": Item, "invoice": Invoice}
        out: dict[str, Local] = {}
        for r in cls.batch_get(keys, consistent_read=True):
            claimed = r.claim_owner is not None and float(r.claim_until or 0) >= now
            out[r.id] = Local(entity=_fields(r, models[kind], version=int(r.version or 0)), claimed=claimed)
        return out

    def all_payments(self, company_id: str) -> dict[str, list[Payment]]:
        out: dict[str, list[Payment]] = {}
        for r in PaymentRecord.query(
            company_pk(company_id), PaymentRecord.sk.startswith("PAYMENT#"), consistent_read=True
        ):
            out.setdefault(r.invoice_id, []).append(_fields(r, Payment))
        return out

    def class_counts(self, company_id: str, provider: str) -> dict[str, int]:
        """How many customers linked to ``provider`` are in each class (overrides included)."""
        out: dict[str, int] = {}
        rows = CustomerRecord.query(
            company_pk(company_id),
            CustomerRecord.sk.startswith("CUSTOMER#"),
            attributes_to_get=["classification", "provider_ids"],
        )
        for r in rows:
            if r.classification and (r.provider_ids.as_dict() if r.provider_ids else {}).get(provider):
                out[r.classification] = out.get(r.classification, 0) + 1
        return out

    def add_item_accounts(self, company_id: str, provider: str, accounts: dict[str, str]) -> None:
        """Per-item income accounts of imported items, kept beside the account mapping (sharded records, see
        ``IMPORTED_ACCOUNT_SHARDS``); an account already recorded wins, and the user's own mapping wins over both.
        Optimistic: a shard is rewritten only if nobody saved it since it was read."""
        pk = company_pk(company_id)
        by_shard: dict[int, dict[str, str]] = {}
        for item_id, account in accounts.items():
            by_shard.setdefault(_account_shard(item_id), {})[item_id] = account
        for shard, part in sorted(by_shard.items()):
            sk = _imported_accounts_sk(provider, shard)
            for _attempt in range(5):
                try:
                    rec: MappingRecord | None = MappingRecord.get(pk, sk, consistent_read=True)
                except DoesNotExist:
                    rec = None
                existing = dict(rec.items or {}) if rec is not None else {}
                merged = {**part, **existing}
                if merged == existing:
                    break
                condition = (
                    MappingRecord.updated_at == rec.updated_at if rec is not None else MappingRecord.pk.does_not_exist()
                )
                try:
                    record = MappingRecord(pk, sk, provider=provider, items=merged, updated_at=utcnow())
                    record.save(condition=condition)
                    break
                except PutError as exc:
                    if not _condition_failed(exc):
                        raise

    def invoice_id_by_number(self, company_id: str, number: str) -> str | None:
        try:
            return str(InvoiceNumberRecord.get(company_pk(company_id), _number_key(number)).invoice_id)
        except DoesNotExist:
            return None

    def create_entity(self, company_id: str, kind: str, entity: Any, provider: str, provider_id: str) -> bool:
        """Create a record from the books (its id derives from the provider record: a second create fails)."""
        if kind == "customer":
            rec: Any = CustomerRepository._record(company_id, entity)
        elif kind == "item":
            rec = ItemRepository._record(company_id, entity)
        else:
            rec = InvoiceRepository._record(company_id, entity)
        rec.version = entity.version
        rec.pushed_version = entity.version  # in step with the books
        try:
            if kind == "invoice":
                # The number guard first, then the invoice; both steps are idempotent for this id, so a run that
                # died between them completes the pair next time. (No transaction: imports write thousands.)
                InvoiceNumberRecord(company_pk(company_id), _number_key(entity.number), invoice_id=entity.id).save(
                    condition=InvoiceNumberRecord.pk.does_not_exist() | (InvoiceNumberRecord.invoice_id == entity.id)
                )
            rec.save(condition=type(rec).pk.does_not_exist())
            return True
        except PutError as exc:
            if _condition_failed(exc):
                return False
            raise

    @staticmethod
    def _free(cls: Any, provider: str, provider_id: str) -> Any:
        """Not held by a live push, and not linked to another record of the books."""
        claim_free = cls.claim_owner.does_not_exist() | (cls.claim_until < int(utcnow().timestamp()))
        link = cls.provider_ids[provider]
        return claim_free & (link.does_not_exist() | (link == provider_id))

    def update_entity(
        self,
        company_id: str,
        kind: str,
        entity: Any,
        expected_version: int,
        provider: str,
        provider_id: str,
        *,
        previous_number: str | None = None,
        sync_token: str | None = None,
    ) -> str:
        """Apply the books' version: "ok", "conflict" (changed or held meanwhile) or "duplicate_number"."""
        cls = _IMPORT_RECORDS[kind]
        pk = company_pk(company_id)
        actions: list[Any] = [
            cls.provider_ids[provider].set(provider_id),
            cls.version.set(expected_version + 1),
            cls.pushed_version.set(expected_version + 1),
            cls.updated_at.set(entity.updated_at),
        ]
        if kind == "customer":
            for f in ("name", "company_name", "given_name", "family_name", "email", "phone"):
                actions.append(_set_or_remove(getattr(cls, f), getattr(entity, f)))
            actions += [
                cls.name_key.set(entity.name.casefold()),
                _set_or_remove(cls.billing_address, _doc(entity.billing_address)),
                _set_or_remove(cls.shipping_address, _doc(entity.shipping_address)),
            ]
            if entity.classification_override is None:
                actions += [
                    _set_or_remove(cls.classification, entity.classification),
                    _set_or_remove(cls.classification_reason, entity.classification_reason),
                ]
        elif kind == "item":
            for f in ("name", "description", "price", "sku"):
                actions.append(_set_or_remove(getattr(cls, f), getattr(entity, f)))
        else:
            actions += [
                cls.number.set(entity.number),
                cls.customer_id.set(entity.customer_id),
                _set_or_remove(cls.issue_date, entity.issue_date.isoformat() if entity.issue_date else None),
                _set_or_remove(cls.due_date, entity.due_date.isoformat() if entity.due_date else None),
                cls.status.set(entity.status.value),
                cls.lines.set([line.model_dump(mode="json", by_alias=False) for line in entity.lines]),
                cls.total.set(entity.total),
                cls.sync_status.set(entity.sync_status.value),
                cls.last_synced_at.set(utcnow()),
                cls.last_sync_error.remove(),
            ]
            if sync_token is not None:
                actions.append(cls.provider_sync_tokens[provider].set(sync_token))
        condition = (cls.version == expected_version) & self._free(cls, provider, provider_id)
        renumbered = (
            kind == "invoice" and previous_number is not None and previous_number.casefold() != entity.number.casefold()
        )
        target = cls(pk, f"{kind.upper()}#{entity.id}")
        if not renumbered:
            try:
                target.update(actions=actions, condition=condition)
            except UpdateError as exc:
                if not _condition_failed(exc):
                    raise
                return "conflict"
            return "ok"
        try:
            with _tx() as tx:  # a renumbered invoice moves its number guard atomically (rare)
                tx.save(
                    InvoiceNumberRecord(pk, _number_key(entity.number), invoice_id=entity.id),
                    condition=InvoiceNumberRecord.pk.does_not_exist(),
                )
                tx.delete(InvoiceNumberRecord(pk, _number_key(previous_number or "")))
                tx.update(target, actions=actions, condition=condition)
        except TransactWriteError as exc:
            if not _condition_failed(exc):
                raise
            if InvoiceNumberRecord.count(pk, InvoiceNumberRecord.sk == _number_key(entity.number)):
                return "duplicate_number"
            return "conflict"
        return "ok"

    def link_entity(
        self,
        company_id: str,
        kind: str,
        entity_id: str,
        provider: str,
        provider_id: str,
        *,
        pushed_version: int | None = None,
        sync_token: str | None = None,
    ) -> bool:
        """Link a record to the books without changing its content (BlueClerk's copy is the newer one)."""
        cls = _IMPORT_RECORDS[kind]
        actions: list[Any] = [cls.provider_ids[provider].set(provider_id)]
        if pushed_version is not None:
            actions.append(cls.pushed_version.set(pushed_version))
        if kind == "invoice" and sync_token is not None:
            actions.append(cls.provider_sync_tokens[provider].set(sync_token))
        try:
            cls(company_pk(company_id), f"{kind.upper()}#{entity_id}").update(
                actions=actions, condition=cls.pk.exists() & self._free(cls, provider, provider_id)
            )
            return True
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise

    def set_classification(self, company_id: str, customer_id: str, kind: str, reason: str) -> bool:
        """The class only (no version change: nothing to push); never over a user's override."""
        try:
            CustomerRecord(company_pk(company_id), f"CUSTOMER#{customer_id}").update(
                actions=[CustomerRecord.classification.set(kind), CustomerRecord.classification_reason.set(reason)],
                condition=CustomerRecord.pk.exists() & CustomerRecord.classification_override.does_not_exist(),
            )
            return True
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise

    # ---- payments ---------------------------------------------------------------------------------------------------
    def list_payments(self, company_id: str, invoice_id: str) -> list[Payment]:
        rows = PaymentRecord.query(
            company_pk(company_id),
            PaymentRecord.sk.startswith(f"PAYMENT#{invoice_id}#"),
            consistent_read=True,
        )
        return [_fields(r, Payment) for r in rows]

    def _invoice_bump(self, pk: str, invoice_id: str, expected_version: int, status: InvoiceStatus) -> tuple[Any, Any]:
        return (
            InvoiceRecord(pk, f"INVOICE#{invoice_id}"),
            {
                "actions": [InvoiceRecord.version.set(expected_version + 1), InvoiceRecord.status.set(status.value)],
                "condition": InvoiceRecord.version == expected_version,
            },
        )

    def add_payment(
        self, company_id: str, invoice_id: str, expected_version: int, payment: Payment, status: InvoiceStatus
    ) -> bool:
        """A payment from the books, if the invoice is unchanged since its balance was checked (no over-pay race).

        The payment is written first, then the invoice's version is bumped on the version that was checked; if the
        invoice changed meanwhile (someone recorded a payment), ours is taken back and the caller re-reads. Anyone
        who read the balance after our write counts our payment. (No transaction: imports write thousands.)"""
        pk = company_pk(company_id)
        rec = InvoiceRepository._payment_record(company_id, payment)
        for field_name in PAYMENT_PROVIDER_ID_FIELDS.values():  # the provider id comes with it: linked at once
            if getattr(payment, field_name):
                setattr(rec, field_name, getattr(payment, field_name))
        try:
            rec.save(condition=PaymentRecord.pk.does_not_exist())
        except PutError as exc:
            if _condition_failed(exc):
                return False
            raise
        invoice, bump = self._invoice_bump(pk, invoice_id, expected_version, status)
        try:
            invoice.update(**bump)
            return True
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise
        rec.delete()
        return False

    def link_payment(self, company_id: str, invoice_id: str, payment_id: str, provider: str, provider_id: str) -> bool:
        attr = _PAYMENT_ID_ATTR[provider]
        try:
            PaymentRecord(company_pk(company_id), f"PAYMENT#{invoice_id}#{payment_id}").update(
                actions=[attr.set(provider_id)],
                condition=PaymentRecord.pk.exists() & (attr.does_not_exist() | (attr == provider_id)),
            )
            return True
        except UpdateError as exc:
            if _condition_failed(exc):
                return False
            raise

    def update_payment(
        self, company_id: str, invoice_id: str, expected_version: int, payment: Payment, status: InvoiceStatus
    ) -> bool:
        pk = company_pk(company_id)
        invoice, bump = self._invoice_bump(pk, invoice_id, expected_version, status)
        try:
            with _tx() as tx:
                tx.update(
                    PaymentRecord(pk, f"PAYMENT#{invoice_id}#{payment.id}"),
                    actions=[
                        PaymentRecord.amount.set(payment.amount),
                        PaymentRecord.date.set(payment.date.isoformat()),
                        _set_or_remove(PaymentRecord.reference, payment.reference),
                    ],
                    condition=PaymentRecord.pk.exists(),
                )
                tx.update(invoice, **bump)
            return True
        except TransactWriteError as exc:
            if _condition_failed(exc):
                return False
            raise


# ---------------------------------------------------------------------------------------------------------------------
# Provider rate budgets (booksync.ratelimit): one item per (provider, tenant), shared by every Lambda
# ---------------------------------------------------------------------------------------------------------------------
RATE_BUDGET_TTL_SECONDS = 2 * 86_400  # an idle budget is forgotten (a fresh one starts full)


class RateBudgetRecord(TableRecord):
    """``pk = RATE#<provider>#<tenant>``, ``sk = BUDGET``: token bucket, concurrency leases, provider-named block."""

    tokens = NumberAttribute(null=True)
    refilled_at = NumberAttribute(null=True)
    leases: MapAttribute[str, Any] = MapAttribute(null=True)  # lease id -> expiry (epoch seconds)
    blocked_until = NumberAttribute(null=True)
    problem = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)


import dataclasses  # noqa: E402


def _rate_key(key: str) -> tuple[str, str]:
    return f"RATE#{key}", "BUDGET"


def _lease_path(lease_id: str) -> Any:
    leases: Any = RateBudgetRecord.leases
    return leases[lease_id]


def _budget(rec: RateBudgetRecord) -> Any:
    from booksync.ratelimit import Budget

    leases = rec.leases.as_dict() if rec.leases is not None else {}
    return Budget(
        tokens=float(rec.tokens) if rec.tokens is not None else -1.0,
        refilled_at=float(rec.refilled_at or 0.0),
        leases={str(k): float(v) for k, v in leases.items()},
        blocked_until=float(rec.blocked_until or 0.0),
        problem=rec.problem,
        version=int(rec.version) if rec.version is not None else None,
    )


class RateBudgetRepository:
    """The :class:`booksync.ratelimit.BudgetStore` on the single table; every write is conditional or commutative."""

    def read(self, key: str) -> Any:
        pk, sk = _rate_key(key)
        try:
            rec = RateBudgetRecord.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            return None
        budget = _budget(rec)
        if rec.tokens is None:  # only a block was written so far: the bucket starts full
            from booksync.ratelimit import LIMITS

            provider = key.split("#", 1)[0]
            burst = float(LIMITS[provider].burst) if provider in LIMITS else 1.0
            budget = dataclasses.replace(budget, tokens=burst, refilled_at=0.0, leases={})
        return budget

    def write(self, key: str, budget: Any, expected_version: int | None) -> bool:
        """Replace the budget if nobody wrote it since ``expected_version`` (None: if it does not exist yet)."""
        pk, sk = _rate_key(key)
        rec = RateBudgetRecord(
            pk,
            sk,
            tokens=budget.tokens,
            refilled_at=budget.refilled_at,
            leases=MapAttribute(**budget.leases),
            blocked_until=budget.blocked_until or None,
            problem=budget.problem,
            version=budget.version,
            ttl=utcnow() + timedelta(seconds=RATE_BUDGET_TTL_SECONDS),
        )
        condition = (
            RateBudgetRecord.pk.does_not_exist()
            if expected_version is None
            else RateBudgetRecord.version == expected_version
        )
        try:
            rec.save(condition=condition)
            return True
        except PutError as exc:
            if _condition_failed(exc):
                return False
            raise

    def release(self, key: str, lease_id: str) -> Any:
        """Free a concurrency slot; returns the budget after it (None if the item or lease is gone)."""
        pk, sk = _rate_key(key)
        rec = RateBudgetRecord(pk, sk)
        try:
            rec.update(
                actions=[_lease_path(lease_id).remove(), RateBudgetRecord.version.add(1)],
                condition=RateBudgetRecord.leases.exists() & RateBudgetRecord.tokens.exists(),
            )
        except UpdateError as exc:
            if _condition_failed(exc):
                return None
            raise
        return _budget(rec)

    def block(self, key: str, until: float, problem: str) -> None:
        """Honour a provider-named wait for every Lambda (never shortens a longer block already stored)."""
        pk, sk = _rate_key(key)
        rec = RateBudgetRecord(pk, sk)
        try:
            rec.update(
                actions=[
                    RateBudgetRecord.blocked_until.set(until),
                    RateBudgetRecord.problem.set(problem),
                    RateBudgetRecord.version.add(1),
                    RateBudgetRecord.ttl.set(utcnow() + timedelta(seconds=RATE_BUDGET_TTL_SECONDS)),
                ],
                condition=RateBudgetRecord.blocked_until.does_not_exist() | (RateBudgetRecord.blocked_until < until),
            )
        except UpdateError as exc:
            if not _condition_failed(exc):
                raise
