"""Customers and items: create, read, list, update."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from booksync.catalog.models import Customer, Item
from booksync.catalog.schemas import CustomerCreate, CustomerPatch, ItemCreate, ItemPatch
from booksync.ids import new_id, utcnow
from booksync.integrations.models import Connection, ConnectionStatus
from booksync.invoicing.service import primary_connection
from booksync.money import check_amount
from booksync.ports import SyncQueue


class CustomerRepo(Protocol):
    def add(self, company_id: str, customer: Customer) -> None: ...
    def get(self, company_id: str, customer_id: str) -> Customer: ...
    def save(self, company_id: str, customer: Customer) -> Customer: ...
    def page(self, company_id: str, limit: int, cursor: str | None) -> tuple[list[Customer], str | None]: ...


class ItemRepo(Protocol):
    def add(self, company_id: str, item: Item) -> None: ...
    def get(self, company_id: str, item_id: str) -> Item: ...
    def save(self, company_id: str, item: Item) -> Item: ...
    def page(self, company_id: str, limit: int, cursor: str | None) -> tuple[list[Item], str | None]: ...


class ConnectionLookup(Protocol):
    def for_company(self, company_id: str) -> list[Connection]: ...


@dataclass(frozen=True)
class CatalogService:
    customers: CustomerRepo
    items: ItemRepo
    connections: ConnectionLookup | None = None
    queue: SyncQueue | None = None

    def _push_later(self, company_id: str, kind: str, entity: Customer | Item) -> None:
        """Queue a push of a new or edited customer/item when a provider is connected and its setting is on."""
        if self.queue is None or self.connections is None:
            return
        conn = primary_connection(self.connections.for_company(company_id))
        if conn is None or conn.status != ConnectionStatus.CONNECTED:
            return
        enabled = conn.settings.sync_customers if kind == "customer" else conn.settings.sync_items
        if enabled:
            self.queue.enqueue_entity(company_id, kind, entity.id, dedupe=f"{kind}#{entity.id}#{entity.version}")

    # customers ----------------------------------------------------------------------------------------------------
    def create_customer(self, company_id: str, cmd: CustomerCreate) -> Customer:
        now = utcnow()
        data = cmd.model_dump(by_alias=False, exclude={"billing_address", "shipping_address"})
        customer = Customer(
            id=new_id("cus"),
            billing_address=cmd.billing_address.to_domain() if cmd.billing_address else None,
            shipping_address=cmd.shipping_address.to_domain() if cmd.shipping_address else None,
            created_at=now,
            updated_at=now,
            **data,
        )
        self.customers.add(company_id, customer)
        self._push_later(company_id, "customer", customer)
        return customer

    def get_customer(self, company_id: str, customer_id: str) -> Customer:
        return self.customers.get(company_id, customer_id)

    def list_customers(self, company_id: str, limit: int, cursor: str | None) -> tuple[list[Customer], str | None]:
        return self.customers.page(company_id, limit, cursor)

    def update_customer(self, company_id: str, customer_id: str, patch: CustomerPatch) -> Customer:
        current = self.customers.get(company_id, customer_id)
        changes = patch.model_dump(by_alias=False, exclude_unset=True, exclude={"classification"})
        for key in ("billing_address", "shipping_address"):
            if key in changes:
                value = getattr(patch, key)
                changes[key] = value.to_domain() if value is not None else None
        if "classification" in patch.model_fields_set:
            changes["classification_override"] = patch.classification
            if patch.classification:
                changes["classification"] = patch.classification
                changes["classification_reason"] = "Set manually by a user (kept across imports)."
        changes["updated_at"] = utcnow()
        saved = self.customers.save(company_id, current.model_copy(update=changes))
        self._push_later(company_id, "customer", saved)
        return saved

    # items --------------------------------------------------------------------------------------------------------
    def create_item(self, company_id: str, cmd: ItemCreate) -> Item:
        now = utcnow()
        item = Item(
            id=new_id("itm"),
            name=cmd.name,
            description=cmd.description,
            price=check_amount(cmd.price, "price", allow_zero=True),
            sku=cmd.sku,
            created_at=now,
            updated_at=now,
        )
        self.items.add(company_id, item)
        self._push_later(company_id, "item", item)
        return item

    def get_item(self, company_id: str, item_id: str) -> Item:
        return self.items.get(company_id, item_id)

    def list_items(self, company_id: str, limit: int, cursor: str | None) -> tuple[list[Item], str | None]:
        return self.items.page(company_id, limit, cursor)

    def update_item(self, company_id: str, item_id: str, patch: ItemPatch) -> Item:
        current = self.items.get(company_id, item_id)
        changes = patch.model_dump(by_alias=False, exclude_unset=True)
        if "price" in changes:
            if patch.price is None:
                changes.pop("price")
            else:
                changes["price"] = check_amount(patch.price, "price", allow_zero=True)
        changes["updated_at"] = utcnow()
        saved = self.items.save(company_id, current.model_copy(update=changes))
        self._push_later(company_id, "item", saved)
        return saved
