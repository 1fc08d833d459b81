"""Routes: customers and items."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from booksync.api import company_id, json_response
from booksync.api import doc as _doc
from booksync.catalog.models import Customer, Item
from booksync.catalog.schemas import CustomerCreate, CustomerPatch, ItemCreate, ItemPatch
from booksync.schema_base import ApiModel
from booksync.wiring import catalog_service

Limit = Annotated[int, Query(ge=1, le=100, description="Page size (1-100)")]
Cursor = Annotated[str | None, Query(max_length=2048, description="nextCursor of the previous page")]


class CustomerPage(ApiModel):
    data: list[Customer]
    next_cursor: str | None = Field(default=None)


class ItemPage(ApiModel):
    data: list[Item]
    next_cursor: str | None = None


def build() -> Router:
    """A fresh router: powertools binds a router to the last resolver that includes it."""
    router = Router()

    @router.post("/customers", tags=["customers"], responses=_doc(Customer, 201))
    def create_customer(body: CustomerCreate) -> Response[str]:
        return json_response(catalog_service().create_customer(company_id(router), body), 201)

    @router.get("/customers", tags=["customers"], responses=_doc(CustomerPage))
    def list_customers(limit: Limit = 50, cursor: Cursor = None) -> Response[str]:
        rows, nxt = catalog_service().list_customers(company_id(router), limit, cursor)
        return json_response(CustomerPage(data=rows, next_cursor=nxt))

    @router.get("/customers/<customer_id>", tags=["customers"], responses=_doc(Customer))
    def get_customer(customer_id: str) -> Response[str]:
        return json_response(catalog_service().get_customer(company_id(router), customer_id))

    @router.patch("/customers/<customer_id>", tags=["customers"], responses=_doc(Customer))
    def update_customer(customer_id: str, body: CustomerPatch) -> Response[str]:
        return json_response(catalog_service().update_customer(company_id(router), customer_id, body))

    @router.post("/items", tags=["items"], responses=_doc(Item, 201))
    def create_item(body: ItemCreate) -> Response[str]:
        return json_response(catalog_service().create_item(company_id(router), body), 201)

    @router.get("/items", tags=["items"], responses=_doc(ItemPage))
    def list_items(limit: Limit = 50, cursor: Cursor = None) -> Response[str]:
        rows, nxt = catalog_service().list_items(company_id(router), limit, cursor)
        return json_response(ItemPage(data=rows, next_cursor=nxt))

    @router.get("/items/<item_id>", tags=["items"], responses=_doc(Item))
    def get_item(item_id: str) -> Response[str]:
        return json_response(catalog_service().get_item(company_id(router), item_id))

    @router.patch("/items/<item_id>", tags=["items"], responses=_doc(Item))
    def update_item(item_id: str, body: ItemPatch) -> Response[str]:
        return json_response(catalog_service().update_item(company_id(router), item_id, body))

    @router.post("/customers/import", tags=["customers"], responses=_doc(description="Counts per class"))
    def import_customers() -> Response[str]:
        from booksync.wiring import integration_service

        return json_response(integration_service().import_customers(company_id(router)))

    return router
