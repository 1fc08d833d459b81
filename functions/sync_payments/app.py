"""SyncPaymentsFunction: pushes recorded payments from the payment sync queue (SQS FIFO), exactly once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from booksync.observability import logger, metrics, tracer
from booksync.sync.consumers import payment_batch


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return payment_batch(event, context)
