"""Route: the Sync / Resync button (runs synchronously in SyncInvoiceFunction)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from booksync.api import company_id, doc, json_response
from booksync.ratelimit import interactive_request
from booksync.wiring import rate_pacer, sync_service

SYNC_DEADLINE_SECONDS = 25.0  # API Gateway's HTTP API integration timeout is 29 s: answer our own 503 before it
LAMBDA_MARGIN_SECONDS = 3.0  # and before the Lambda's own timeout, whichever comes first


def _deadline_seconds(router: Router) -> float:
    context = getattr(router, "lambda_context", None)
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return SYNC_DEADLINE_SECONDS
    return min(SYNC_DEADLINE_SECONDS, remaining() / 1000.0 - LAMBDA_MARGIN_SECONDS)


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
        # A person is waiting: the calls may use the day reserve, and no wait may outlast the gateway (29 s)
        with interactive_request(_deadline_seconds(router), clock=rate_pacer().clock):
            outcome = sync_service().sync_now(company_id(router), invoice_id)
        return json_response(outcome, 200)

    return router
