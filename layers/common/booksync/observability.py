"""The only Logger, Tracer and Metrics of the service (configured by POWERTOOLS_* environment variables)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
