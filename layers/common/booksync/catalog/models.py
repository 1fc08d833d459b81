"""Customers and items as the domain sees them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from booksync.invoicing.models import SyncError
from booksync.schema_base import ApiModel


class Address(ApiModel):
    line1: str | None = Field(default=None, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=30)
    country: str | None = Field(default=None, max_length=100)


class Customer(ApiModel):
    id: str
    name: str
    company_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    phone: str | None = None
    billing_address: Address | None = None
    shipping_address: Address | None = None
    classification: str | None = None
    classification_reason: str | None = None
    classification_override: str | None = None
    provider_ids: dict[str, str] = Field(default_factory=dict)
    last_sync_error: SyncError | None = None
    created_at: datetime
    updated_at: datetime
    version: int = Field(default=0, exclude=True)
    pushed_version: int | None = Field(default=None, exclude=True)

    def changed_since_push(self) -> bool:
        return self.pushed_version is not None and self.pushed_version != self.version


class Item(ApiModel):
    id: str
    name: str
    description: str | None = None
    price: Decimal
    sku: str | None = None
    provider_ids: dict[str, str] = Field(default_factory=dict)
    last_sync_error: SyncError | None = None
    created_at: datetime
    updated_at: datetime
    version: int = Field(default=0, exclude=True)
    pushed_version: int | None = Field(default=None, exclude=True)

    def changed_since_push(self) -> bool:
        return self.pushed_version is not None and self.pushed_version != self.version
