"""WeeklySyncFunction: fired by EventBridge Scheduler every Sunday 06:00 UTC; enqueues one import job per company."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from booksync.observability import logger, metrics, tracer
from booksync.sync.messages import ScheduleEvent
from booksync.wiring import weekly_fan_out


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    ScheduleEvent.model_validate(event)
    return weekly_fan_out().run()
