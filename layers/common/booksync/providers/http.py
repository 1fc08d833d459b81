"""One httpx client per provider host, built lazily and reused across invocations."""

from __future__ import annotations

from functools import lru_cache

import httpx

from booksync.config import get_settings


@lru_cache(maxsize=16)
def client(name: str) -> httpx.Client:
    timeout = get_settings().provider_timeout_seconds
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
        transport=httpx.HTTPTransport(retries=2),  # connect errors only; request retries are the engine's call
        headers={"User-Agent": "BlueClerk-AccountingSync/1.0"},
    )


def retry_after(response: httpx.Response, default: float) -> float:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


def retry_after_or_none(response: httpx.Response) -> float | None:
    """The provider's ``Retry-After`` in seconds (never negative), or None when it sent none or sent garbage."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
