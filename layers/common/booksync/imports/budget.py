"""The import Lambda's time budget, readable by the import and backfill runs without importing either.

``time_budget(context)`` (the ImportChanges handler) publishes ``context.get_remaining_time_in_millis`` for the
current invocation; runs read ``REMAINING_MS`` and stop between pages/batches before the limit.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# Set by the import Lambda's handler (``time_budget``): milliseconds left in this invocation.
REMAINING_MS: contextvars.ContextVar[Callable[[], int] | None] = contextvars.ContextVar("remaining_ms", default=None)


@contextmanager
def time_budget(context: Any) -> Iterator[None]:
    """Let import runs in this invocation see the Lambda's remaining time (``context.get_remaining_time_in_millis``)."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    token = REMAINING_MS.set(getter if callable(getter) else None)
    try:
        yield
    finally:
        REMAINING_MS.reset(token)
