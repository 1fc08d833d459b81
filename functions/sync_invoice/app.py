"""SyncInvoiceFunction: the Sync / Resync button (HTTP, synchronous) and the invoice sync queue (SQS FIFO)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from booksync.api import make_resolver, resolve
from booksync.observability import logger, metrics, tracer
from booksync.routes import sync

app = make_resolver([sync.build()])


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:  # SQS batch from InvoiceSyncQueue; imported here so the button's cold start skips it
        from booksync.sync.consumers import invoice_batch

        return invoice_batch(event, context)
    return resolve(app, event, context)
