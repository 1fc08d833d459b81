from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from booksync.catalog.models import Address
from booksync.schema_base import RequestModel

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class AddressIn(RequestModel):
    line1: str | None = Field(default=None, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=30)
    country: str | None = Field(default=None, max_length=100)

    def to_domain(self) -> Address:
        return Address.model_validate(self.model_dump(by_alias=False))


class CustomerCreate(RequestModel):
    name: str = Field(min_length=1, max_length=100, description="Display name, unique per company in the books")
    company_name: str | None = Field(default=None, max_length=100)
    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=100, pattern=EMAIL)
    phone: str | None = Field(default=None, max_length=30)
    billing_address: AddressIn | None = None
    shipping_address: AddressIn | None = None


class CustomerPatch(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    company_name: str | None = Field(default=None, max_length=100)
    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=100, pattern=EMAIL)
    phone: str | None = Field(default=None, max_length=30)
    billing_address: AddressIn | None = None
    shipping_address: AddressIn | None = None
    classification: str | None = Field(
        default=None, pattern="^(Homeowner|Business|Builder)$", description="Manual override; sticks across imports"
    )


class ItemCreate(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=4000)
    price: Decimal = Field(description='Unit price as a decimal string, e.g. "125.00"')
    sku: str | None = Field(default=None, max_length=100)


class ItemPatch(RequestModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=4000)
    price: Decimal | None = None
    sku: str | None = Field(default=None, max_length=100)
