"""Per-tenant rate limits (requests in sliding 60 s / 24 h windows on the sandbox clock) and concurrency limits."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

WINDOW_SECONDS = 60.0
DAY_SECONDS = 86_400.0


@dataclass(frozen=True)
class TenantLimits:
    per_minute: int | None = None
    concurrency: int | None = None
    per_day: int | None = None  # sliding 24 h window; refused with the verdict "day"


class SlidingWindow:
    """Counts events in the last ``window`` seconds; timestamps come from the caller (the sandbox clock)."""

    def __init__(self, window: float = WINDOW_SECONDS) -> None:
        self.window = window
        self._events: deque[float] = deque()

    def _prune(self, now: float) -> None:
        while self._events and self._events[0] <= now - self.window:
            self._events.popleft()

    def count(self, now: float) -> int:
        self._prune(now)
        return len(self._events)

    def try_add(self, now: float, limit: int | None) -> bool:
        self._prune(now)
        if limit is not None and len(self._events) >= limit:
            return False
        self._events.append(now)
        return True

    def full(self, now: float, limit: int | None) -> bool:
        return limit is not None and self.count(now) >= limit

    def seconds_until_free(self, now: float) -> float:
        """How long until the oldest counted event leaves the window (0 when the window is empty)."""
        self._prune(now)
        return max(0.0, self._events[0] + self.window - now) if self._events else 0.0

    def clear(self) -> None:
        self._events.clear()


@dataclass
class _TenantState:
    window: SlidingWindow = field(default_factory=SlidingWindow)
    day: SlidingWindow = field(default_factory=lambda: SlidingWindow(DAY_SECONDS))
    inflight: int = 0
    max_inflight: int = 0  # the most requests ever in flight at once (what a client's concurrency cap must bound)
    throttled_rate: int = 0
    throttled_concurrency: int = 0
    throttled_day: int = 0


class TenantLimiter:
    def __init__(self) -> None:
        self._states: dict[tuple[str, str], _TenantState] = {}
        self._lock = threading.Lock()

    def _state(self, provider: str, tenant: str) -> _TenantState:
        return self._states.setdefault((provider, tenant), _TenantState())

    def admit(self, provider: str, tenant: str, limits: TenantLimits, now: float) -> str | None:
        """Admit a request (counting it and marking it in flight) or return why not: "concurrency" / "day" / "rate"."""
        with self._lock:
            state = self._state(provider, tenant)
            if limits.concurrency is not None and state.inflight >= limits.concurrency:
                state.throttled_concurrency += 1
                return "concurrency"
            if state.day.full(now, limits.per_day):
                state.throttled_day += 1
                return "day"
            if not state.window.try_add(now, limits.per_minute):
                state.throttled_rate += 1
                return "rate"
            if limits.per_day is not None:
                state.day.try_add(now, None)
            state.inflight += 1
            state.max_inflight = max(state.max_inflight, state.inflight)
            return None

    def seconds_until_free(self, provider: str, tenant: str, reason: str, now: float) -> float:
        """For a refused request: how long until the window that refused it ("rate" / "day") has room again."""
        with self._lock:
            state = self._state(provider, tenant)
            window = state.day if reason == "day" else state.window
            return window.seconds_until_free(now)

    def release(self, provider: str, tenant: str) -> None:
        with self._lock:
            state = self._state(provider, tenant)
            state.inflight = max(0, state.inflight - 1)

    def snapshot(self, provider: str, tenant: str, now: float) -> dict[str, Any]:
        with self._lock:
            state = self._states.get((provider, tenant))
            if state is None:
                return {
                    "inflight": 0,
                    "max_inflight": 0,
                    "requests_last_minute": 0,
                    "requests_last_day": 0,
                    "throttled_rate": 0,
                    "throttled_concurrency": 0,
                    "throttled_day": 0,
                }
            return {
                "inflight": state.inflight,
                "max_inflight": state.max_inflight,
                "requests_last_minute": state.window.count(now),
                "requests_last_day": state.day.count(now),
                "throttled_rate": state.throttled_rate,
                "throttled_concurrency": state.throttled_concurrency,
                "throttled_day": state.throttled_day,
            }

    def reset(self, provider: str | None = None) -> None:
        with self._lock:
            for key in list(self._states):
                if provider is None or key[0] == provider:
                    state = self._states[key]
                    # In-flight requests keep their slot until they finish; only history is forgotten.
                    if state.inflight:
                        self._states[key] = _TenantState(inflight=state.inflight)
                    else:
                        del self._states[key]
