"""ImportChangesFunction: one import job per company and provider (fanned out by weekly_sync)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from booksync.imports.budget import time_budget
from booksync.observability import logger, metrics, tracer
from booksync.sync.consumers import import_batch


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with time_budget(context):  # import runs stop before the time limit and continue in a new invocation
        return import_batch(event, context)
