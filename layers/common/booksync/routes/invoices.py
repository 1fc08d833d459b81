"""Routes: invoices, sending, payments."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from booksync.api import company_id, json_response
from booksync.api import doc as _doc
from booksync.invoicing.schemas import (
    InvoiceCreate,
    InvoiceDetail,
    InvoicePage,
    InvoicePatch,
    PaymentCreate,
    PaymentOut,
)
from booksync.wiring import invoice_service


def build() -> Router:
    """A fresh router: powertools binds a router to the last resolver that includes it."""
    router = Router()

    @router.post("/invoices", tags=["invoices"], responses=_doc(InvoiceDetail, 201))
    def create_invoice(body: InvoiceCreate) -> Response[str]:
        return json_response(invoice_service().create(company_id(router), body), 201)

    @router.get("/invoices", tags=["invoices"], responses=_doc(InvoicePage))
    def list_invoices(
        limit: Annotated[int, Query(ge=1, le=100)] = 50, cursor: Annotated[str | None, Query(max_length=2048)] = None
    ) -> Response[str]:
        return json_response(invoice_service().page(company_id(router), limit, cursor))

    @router.get("/invoices/<invoice_id>", tags=["invoices"], responses=_doc(InvoiceDetail))
    def get_invoice(invoice_id: str) -> Response[str]:
        return json_response(invoice_service().detail(company_id(router), invoice_id))

    @router.patch("/invoices/<invoice_id>", tags=["invoices"], responses=_doc(InvoiceDetail))
    def update_invoice(invoice_id: str, body: InvoicePatch) -> Response[str]:
        return json_response(invoice_service().update(company_id(router), invoice_id, body))

    @router.post("/invoices/<invoice_id>/send", tags=["invoices"], responses=_doc(InvoiceDetail))
    def send_invoice(invoice_id: str) -> Response[str]:
        return json_response(invoice_service().send(company_id(router), invoice_id))

    @router.post(
        "/invoices/<invoice_id>/payments",
        tags=["payments"],
        responses={
            **_doc(PaymentOut, 201, "Recorded"),
            200: {
                "description": "Already recorded under this Idempotency-Key",
                "content": {"application/json": {"model": PaymentOut}},
            },
        },
        description="Record a payment. Send an `Idempotency-Key` header to make retries safe: the same key returns "
        "the first payment (200) instead of recording a second one.",
    )
    def record_payment(invoice_id: str, body: PaymentCreate) -> Response[str]:
        key = router.current_event.headers.get("idempotency-key")
        payment, created = invoice_service().record_payment(company_id(router), invoice_id, body, key)
        return json_response(payment, 201 if created else 200)

    return router
