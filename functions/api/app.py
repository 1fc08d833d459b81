"""ApiFunction: the BlueClerk domain routes (customers, items, invoices, payments, integrations, notifications)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from booksync.api import make_resolver, resolve
from booksync.observability import logger, metrics, tracer
from booksync.routes import catalog, integrations, invoices, notifications

app = make_resolver([catalog.build(), invoices.build(), integrations.build(), notifications.build()])


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return resolve(app, event, context)
