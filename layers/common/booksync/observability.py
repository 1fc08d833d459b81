"""The only Logger, Tracer and Metrics of the service (configured by POWERTOOLS_* environment variables).

The X-Ray SDK behind powertools' Tracer costs more cold-start time than boto3 itself (measured in docs/PERFORMANCE.md),
so it is loaded only when ``BOOKSYNC_XRAY_SDK=1``. Without it, ``Tracing: Active`` on the functions still gives
Lambda's own segments; with it, handler and provider-call subsegments are added.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics

F = TypeVar("F", bound=Callable[..., Any])

logger = Logger()
metrics = Metrics()


class _NoTracer:
    """Same decorators as powertools' Tracer, doing nothing (and importing nothing)."""

    def capture_lambda_handler(self, fn: F | None = None, **_: Any) -> Any:
        return fn if fn is not None else (lambda f: f)

    def capture_method(self, fn: F | None = None, **_: Any) -> Any:
        return fn if fn is not None else (lambda f: f)


def _tracer() -> Any:
    if os.environ.get("BOOKSYNC_XRAY_SDK") == "1":
        from aws_lambda_powertools import Tracer

        return Tracer()
    return _NoTracer()


tracer = _tracer()
