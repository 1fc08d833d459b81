"""Make moto's DynamoDB stand-in honour DynamoDB's atomic conditional writes.

Real DynamoDB evaluates a write's condition and applies the write atomically per item. moto's backend has no lock:
with the server's request threads (or test threads), two conditional updates can both see the old item and both
succeed — which would let two callers take the same token-refresh lease or the same payment claim. Every mutating
operation is serialised here (coarser than per item, same outcomes), and so is every request as a whole: moto's
``update_item`` handler deep-copies the stored item outside the backend's methods, and a concurrent write changing
that item mid-copy raised ``RuntimeError: dictionary changed size during iteration`` (seen once in CI, in
tests/unit/test_moto_atomic.py). Call ``make_dynamodb_atomic()`` before moto serves requests; it is idempotent.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_LOCK = threading.RLock()
_MUTATIONS = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "batch_write_item",
    "get_item",
    "query",
    "transact_get_items",
    "batch_get_item",
)


def make_dynamodb_atomic() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_booksync_atomic", False):
        return
    for name in _MUTATIONS:
        original = getattr(DynamoDBBackend, name, None)
        if original is None:
            continue

        @functools.wraps(original)
        def locked(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> Any:
            with _LOCK:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    from moto.dynamodb.responses import DynamoHandler

    handle = DynamoHandler.call_action

    @functools.wraps(handle)
    def one_request_at_a_time(self: Any) -> Any:
        with _LOCK:
            return handle(self)

    DynamoHandler.call_action = one_request_at_a_time  # type: ignore[method-assign]
    DynamoDBBackend._booksync_atomic = True  # type: ignore[attr-defined]
