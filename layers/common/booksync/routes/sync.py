"""Route: the Sync / Resync button (runs synchronously in SyncInvoiceFunction)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from booksync.api import company_id, doc, json_response
from booksync.wiring import sync_service


def build() -> Router:
    """A fresh router: powertools binds a router to the last resolver that includes it."""
    router = Router()

    @router.post(
        "/invoices/<invoice_id>/sync",
        tags=["sync"],
        description="Push the invoice (create or update) and then every payment not yet in the books; answers the "
        "outcome for the invoice and for each payment.",
        responses=doc(description="The outcome for the invoice and each payment"),
    )
    def sync_invoice(invoice_id: str) -> Response[str]:
        outcome = sync_service().sync_now(company_id(router), invoice_id)
        return json_response(outcome, 200)

    return router
