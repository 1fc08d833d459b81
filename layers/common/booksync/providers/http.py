"""One httpx client per provider host, built lazily and reused across invocations, paced per tenant."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import httpx

from booksync.config import get_settings
from booksync.observability import logger
from booksync.ratelimit import CONCURRENT, DAY, LIMITS, MINUTE, Blocked, local_429, reported_remaining, tenant_of


@lru_cache(maxsize=16)
def client(name: str) -> httpx.Client:
    timeout = get_settings().provider_timeout_seconds
    transport: httpx.BaseTransport = httpx.HTTPTransport(retries=2)  # connect errors only; retries are the engine's
    if name in LIMITS:
        transport = PacedTransport(name, transport)
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(3.0, timeout)),
        transport=transport,
        headers={"User-Agent": "BlueClerk-AccountingSync/1.0"},
    )


def _pacer() -> Any:
    from booksync.wiring import rate_pacer

    return rate_pacer()


class PacedTransport(httpx.BaseTransport):
    """Consults the shared per-tenant budget (``booksync.ratelimit``) before each provider call and records the
    provider's 429s there, so every Lambda honours ``Retry-After`` and Xero's minute vs day limit; the calls the
    provider says are left (``ProviderLimits.remaining``: Xero's headers) go there too (``Pacer.observe``).

    A call that would have to wait longer than the pacer's ``max_wait`` is not made: the answer is a local 429 with
    the ``Retry-After`` (header ``X-BlueClerk-Pacing: local``), which each adapter maps like a provider's own 429.
    Identity and token endpoints (no tenant in the request) are not paced. If the budget store is unreachable the call
    goes out unpaced (the provider's own 429s still stop us)."""

    def __init__(self, provider: str, inner: httpx.BaseTransport, pacer: Callable[[], Any] = _pacer) -> None:
        self.provider = provider
        self.inner = inner
        self.pacer = pacer

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        tenant = tenant_of(self.provider, request.method, request.url.path, request.headers, request.extensions)
        if tenant is None or os.environ.get("BOOKSYNC_PROVIDER_PACING", "on").lower() == "off":
            return self.inner.handle_request(request)
        pacer: Any = None
        lease: str | None = None
        try:
            pacer = self.pacer()
            lease = pacer.acquire(self.provider, tenant, request.url.path)  # the path picks endpoint budgets
        except Blocked as blocked:
            status, headers, body = local_429(self.provider, blocked)
            logger.info("provider call held back by pacing", provider=self.provider, problem=blocked.problem)
            return httpx.Response(status, headers=headers, content=body, request=request)
        except Exception:
            logger.warning("rate budget unavailable; provider call not paced", provider=self.provider, exc_info=True)
        try:
            response = self.inner.handle_request(request)
            response.read()  # the call is over (and its slot free) once the answer is in
        finally:
            if lease is not None:
                pacer.release(self.provider, tenant, lease)
        # the provider's own count of what is left (Xero: every answer) tightens the budget; a 429 names its own wait,
        # which is more precise than "none left" (a rolling window frees calls before our minute or UTC day ends)
        if pacer is not None and response.status_code != 429:
            day_left, minute_left = reported_remaining(self.provider, response.headers)
            if day_left is not None or minute_left is not None:
                try:
                    pacer.observe(self.provider, tenant, day_remaining=day_left, minute_remaining=minute_left)
                except Exception:
                    logger.warning("provider's remaining calls not recorded", provider=self.provider, exc_info=True)
        if response.status_code == 429 and pacer is not None:
            problem = (response.headers.get("X-Rate-Limit-Problem") or MINUTE).strip().lower()
            problem = DAY if "day" in problem else CONCURRENT if "concurren" in problem else MINUTE
            try:
                pacer.throttled(self.provider, tenant, problem, retry_after_or_none(response))
            except Exception:
                logger.warning("rate limit not recorded", provider=self.provider, exc_info=True)
        return response

    def close(self) -> None:
        self.inner.close()


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
