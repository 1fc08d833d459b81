"""A movable clock shared by every provider sandbox.

The clock follows real time plus an offset, so successive requests still get increasing timestamps, and
``advance(seconds)`` jumps it forward (token expiry, rate-limit windows, CDC look-back) without real sleeps.
It never moves backwards except on a full sandbox reset.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class SandboxClock:
    def __init__(self, wall: Callable[[], float] = time.time) -> None:
        self._wall = wall
        self._offset = 0.0
        self._lock = threading.Lock()

    def timestamp(self) -> float:
        """Seconds since the epoch on the sandbox clock."""
        with self._lock:
            return self._wall() + self._offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), tz=UTC)

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
