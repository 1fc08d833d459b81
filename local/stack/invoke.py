"""Invoke a template function in-process, the way the Lambda runtime would: import its handler module once
(``functions.<name>.app`` with the repo root and the layer dirs on ``sys.path``) and call
``lambda_handler(event, context)`` with a Lambda-shaped context."""

from __future__ import annotations

import importlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.stack.template import FunctionSpec

log = logging.getLogger("local.stack")


@dataclass
class LocalLambdaContext:
    """The attributes of ``awslambdaric``'s context that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: int
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    identity: Any = None
    client_context: Any = None
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionRuntime:
    """One template function; thread-safe lazy import of its handler."""

    def __init__(self, spec: FunctionSpec, *, name: str, arn: str) -> None:
        self.spec = spec
        self.logical_id = spec.logical_id
        self.name = name
        self.arn = arn
        self._handler: Callable[[Any, Any], Any] | None = None
        self._lock = threading.Lock()

    def load(self) -> Callable[[Any, Any], Any]:
        if self._handler is None:
            with self._lock:
                if self._handler is None:
                    module = importlib.import_module(self.spec.module)
                    self._handler = getattr(module, self.spec.handler_attr)
        return self._handler

    def context(self) -> LocalLambdaContext:
        return LocalLambdaContext(
            function_name=self.name,
            invoked_function_arn=self.arn,
            memory_limit_in_mb=self.spec.memory_size,
            timeout_seconds=self.spec.timeout,
        )

    def invoke(self, event: Any) -> Any:
        handler = self.load()
        context = self.context()
        started = time.monotonic()
        try:
            return handler(event, context)
        finally:
            elapsed = time.monotonic() - started
            if elapsed > self.spec.timeout:
                # A thread cannot be killed; report what Lambda would have cut off.
                log.warning(
                    "%s ran %.1fs, over its %ss Timeout (Lambda would have timed out)",
                    self.logical_id,
                    elapsed,
                    self.spec.timeout,
                )
