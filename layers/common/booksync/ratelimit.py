"""Per-tenant provider pacing shared by every Lambda, and the bookkeeping that lets the queues defer, not hammer.

Every provider limits requests **per tenant** (QuickBooks realm, Xero organisation, FreshBooks account, Wave token);
a company has exactly one tenant per provider, so a budget per (provider, tenant) is the budget per (company,
provider) and is shared by every Lambda that talks to it, without a central server:

- one DynamoDB item per (provider, tenant) (``pk = RATE#<provider>#<tenant>``, ``sk = BUDGET`` in the single table)
  holds a **token bucket** (``burst`` + a refill rate so that any 60 s window sees at most ``per_minute`` calls) and
  the **concurrency leases** (lease id -> expiry: a Lambda that dies mid-call frees its slot when the lease expires);
  writes are conditional on a version number, so two Lambdas cannot spend the same token or slot;
- a ``429`` from the provider (or Xero's ``X-Rate-Limit-Problem: minute|day``) writes ``blocked_until`` there, so
  every other Lambda waits for the named ``Retry-After`` too instead of meeting the same 429;
- a wait longer than ``max_wait`` (a day limit; a saturated budget) never calls the provider: the HTTP client answers
  a local 429 carrying the ``Retry-After`` (``X-BlueClerk-Pacing: local``), which the adapters map to
  ``RateLimited`` like any 429; the engine re-raises long waits and the queue consumer defers the message.

The limits are data (``LIMITS``); the clock and the sleeps are injectable (tests move the sandbox clock instead of
waiting a real minute). The HTTP client (``providers.http``) consults :class:`Pacer` before every provider call.
"""

from __future__ import annotations

import contextvars
import math
import random
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any, Protocol

from booksync.observability import logger


@dataclass(frozen=True)
class ProviderLimits:
    """What we allow ourselves per tenant: at most ``per_minute`` calls in any 60 s and ``concurrency`` at once."""

    per_minute: int
    burst: int
    concurrency: int
    published: str  # the provider's own figure and where it comes from (providers/<p>.md)
    tenant_header: str | None = None  # request header naming the tenant
    tenant_path: str | None = None  # or a regex on the URL path (group 1 = tenant)
    tenant_from_token: bool = False  # or the bearer token itself (Wave limits per access token)

    @property
    def refill_per_second(self) -> float:
        # burst + refill * 60 <= per_minute: a full bucket plus a minute of refill never exceeds the window
        return max(self.per_minute - self.burst, 1) / 60.0


# Our budgets, below the published limits (clock skew, other apps on the same tenant). FreshBooks and Wave publish
# no limits (UNCONFIRMED): conservative values from their notes (Wave "about 2 concurrent", "~60/min per token").
LIMITS: dict[str, ProviderLimits] = {
    "quickbooks": ProviderLimits(
        per_minute=450,
        burst=10,
        concurrency=10,
        published="500/min per realm, 10/s (10 concurrent) per realm+app",
        tenant_path=r"/company/([^/?]+)/",
    ),
    "xero": ProviderLimits(
        per_minute=55,
        burst=5,
        concurrency=5,
        published="60/min, 5,000/day, 5 concurrent per tenant",
        tenant_header="xero-tenant-id",
    ),
    "freshbooks": ProviderLimits(
        per_minute=100,
        burst=10,
        concurrency=4,
        published="none (UNCONFIRMED; a third party quotes 432,000/day)",
        tenant_path=r"/accounting/(?:account|businesses)/([^/?]+)/",  # account_id; business_uuid for the ledger
    ),
    "wave": ProviderLimits(
        per_minute=50,
        burst=5,
        concurrency=2,
        published="none (UNCONFIRMED; ~60/min per token, about 2 concurrent)",
        tenant_from_token=True,
    ),
}

PACING_HEADER = "X-BlueClerk-Pacing"
DAY = "day"
MINUTE = "minute"
CONCURRENT = "concurrent"


def tenant_of(provider: str, method: str, url_path: str, headers: Any) -> str | None:
    """The tenant a provider request is counted against, or None (identity/token endpoints are not paced)."""
    limits = LIMITS.get(provider)
    if limits is None:
        return None
    if limits.tenant_header:
        value = headers.get(limits.tenant_header)
        return str(value) if value else None
    if limits.tenant_path:
        match = re.search(limits.tenant_path, url_path)
        return match.group(1) if match else None
    if limits.tenant_from_token:
        auth = str(headers.get("Authorization") or "")
        if auth.lower().startswith("bearer ") and len(auth) > 7:
            return "token-" + sha256(auth[7:].encode()).hexdigest()[:24]  # never the token itself
    return None


def next_utc_midnight(now: float) -> float:
    day = datetime.fromtimestamp(now, tz=UTC).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


# ---- the shared budget -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    """One tenant's budget as stored: tokens at ``refilled_at``, live leases, and a provider-named block."""

    tokens: float
    refilled_at: float
    leases: dict[str, float] = field(default_factory=dict)
    blocked_until: float = 0.0
    problem: str | None = None
    version: int | None = None  # None: not stored yet


class BudgetStore(Protocol):
    def read(self, key: str) -> Budget | None: ...
    def write(self, key: str, budget: Budget, expected_version: int | None) -> bool: ...
    def release(self, key: str, lease_id: str) -> Budget | None: ...
    def block(self, key: str, until: float, problem: str) -> None: ...


class Blocked(Exception):
    """The call must not be made now; ``wait`` seconds is when it may (``problem``: minute / day / concurrent)."""

    def __init__(self, wait: float, problem: str) -> None:
        super().__init__(f"provider budget exhausted ({problem}); retry in {wait:.0f} s")
        self.wait = wait
        self.problem = problem


@dataclass(frozen=True)
class Throttle:
    """The last rate limit met in this context (provider 429 or local pacing), for the queue consumer."""

    provider: str
    problem: str
    wait: float
    until: float


_observed: contextvars.ContextVar[Throttle | None] = contextvars.ContextVar("booksync_throttle", default=None)


def observed() -> Throttle | None:
    return _observed.get()


def clear_observed() -> None:
    _observed.set(None)


@dataclass
class Pacer:
    """Token bucket + concurrency leases per (provider, tenant), held in a :class:`BudgetStore` (DynamoDB)."""

    store: BudgetStore
    clock: Callable[[], float] = time.time  # must agree with the provider's clock (tests: the sandbox clock)
    sleep: Callable[[float], None] = time.sleep  # waits for tokens / a named Retry-After (tests: move the clock)
    pause: Callable[[float], None] = time.sleep  # short real waits for a concurrency slot
    max_wait: float = 20.0  # longest in-process wait before answering a local 429 (the Sync button is synchronous)
    lease_seconds: float = 35.0  # > the longest call (provider timeout x transport retries): a dead Lambda's slot
    limits: dict[str, ProviderLimits] = field(default_factory=lambda: dict(LIMITS))
    stats: dict[str, int] = field(default_factory=lambda: {"reads": 0, "writes": 0, "conflicts": 0, "waits": 0})
    _cache: dict[str, Budget] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @staticmethod
    def key(provider: str, tenant: str) -> str:
        return f"{provider}#{tenant}"

    def acquire(self, provider: str, tenant: str) -> str:
        """Take a token and a concurrency slot for one call (waiting up to ``max_wait``); returns the lease id."""
        limits = self.limits[provider]
        key = self.key(provider, tenant)
        lease_id = uuid.uuid4().hex[:16]
        waited = 0.0
        while True:
            now = self.clock()
            budget = self._current(key, limits, now)
            if budget.blocked_until > now:
                wait = budget.blocked_until - now
                if waited + wait > self.max_wait:
                    self._observe(provider, budget.problem or MINUTE, wait, budget.blocked_until)
                    raise Blocked(wait, budget.problem or MINUTE)
                self._wait(self.sleep, wait, key)
                waited += wait
                continue
            live = {k: v for k, v in budget.leases.items() if v > now}
            if len(live) >= limits.concurrency:
                step = 0.02 + random.random() * 0.05  # jitter, not security
                if waited + step > self.max_wait:
                    self._observe(provider, CONCURRENT, 1.0, now + 1.0)
                    raise Blocked(1.0, CONCURRENT)
                self._wait(self.pause, step, key)
                waited += step
                continue
            refill = max(0.0, now - budget.refilled_at) * limits.refill_per_second
            tokens = min(float(limits.burst), budget.tokens + refill)
            if tokens < 1.0:
                wait = (1.0 - tokens) / limits.refill_per_second
                if waited + wait > self.max_wait:
                    self._observe(provider, MINUTE, wait, now + wait)
                    raise Blocked(wait, MINUTE)
                self._wait(self.sleep, wait, key)
                waited += wait
                continue
            new = Budget(
                tokens=tokens - 1.0,
                refilled_at=now,
                leases={**live, lease_id: now + self.lease_seconds},
                blocked_until=budget.blocked_until if budget.blocked_until > now else 0.0,
                problem=budget.problem if budget.blocked_until > now else None,
                version=(budget.version or 0) + 1,
            )
            self.stats["writes"] += 1
            if self.store.write(key, new, budget.version):
                self._remember(key, new)
                return lease_id
            self.stats["conflicts"] += 1
            self._forget(key)

    def release(self, provider: str, tenant: str, lease_id: str) -> None:
        key = self.key(provider, tenant)
        self.stats["writes"] += 1
        try:
            after = self.store.release(key, lease_id)
        except Exception:  # the lease expires on its own
            logger.warning("rate budget lease not released", provider=provider)
            self._forget(key)
            return
        if after is None:
            self._forget(key)
        else:
            self._remember(key, after)

    def throttled(self, provider: str, tenant: str, problem: str, retry_after: float | None) -> Throttle:
        """The provider answered 429: every Lambda honours its wait (a day limit without one: next UTC day)."""
        now = self.clock()
        if problem == DAY:
            until = now + retry_after if retry_after is not None else next_utc_midnight(now)
        elif problem == CONCURRENT:
            until = now + (retry_after if retry_after is not None else 1.0)
        else:
            until = now + (retry_after if retry_after is not None else 60.0)
        seen = self._observe(provider, problem, until - now, until)
        if problem != CONCURRENT:  # a concurrency refusal is about that instant; the leases handle the rest
            key = self.key(provider, tenant)
            self.stats["writes"] += 1
            self.store.block(key, until, problem)
            self._forget(key)
        logger.warning("provider rate limit met", provider=provider, problem=problem, wait=round(until - now, 1))
        return seen

    # ---- internals ---------------------------------------------------------------------------------------------
    def _current(self, key: str, limits: ProviderLimits, now: float) -> Budget:
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        self.stats["reads"] += 1
        stored = self.store.read(key)
        budget = stored or Budget(tokens=float(limits.burst), refilled_at=now)
        self._remember(key, budget)
        return budget

    def _wait(self, fn: Callable[[float], None], seconds: float, key: str) -> None:
        self.stats["waits"] += 1
        self._forget(key)  # others moved on meanwhile: re-read after the wait
        fn(seconds)

    def _remember(self, key: str, budget: Budget) -> None:
        with self._lock:
            self._cache[key] = budget

    def _forget(self, key: str) -> None:
        with self._lock:
            self._cache.pop(key, None)

    @staticmethod
    def _observe(provider: str, problem: str, wait: float, until: float) -> Throttle:
        seen = Throttle(provider=provider, problem=problem, wait=wait, until=until)
        _observed.set(seen)
        return seen


def local_429(provider: str, blocked: Blocked) -> tuple[int, dict[str, str], bytes]:
    """What the HTTP client answers instead of calling the provider: a 429 every adapter already understands."""
    headers = {
        "Retry-After": str(max(1, math.ceil(blocked.wait))),
        "X-Rate-Limit-Problem": blocked.problem,
        PACING_HEADER: "local",
        "Content-Type": "application/json",
    }
    body = b'{"errors":[{"message":"Too many requests (BlueClerk pacing)","extensions":{"code":"RATE_LIMITED"}}]}'
    return 429, headers, body


# ---- queue deferral -------------------------------------------------------------------------------------------------
class _Deferred:
    """Receipt handles the consumer deferred in this process (the local SQS poller must not shorten them)."""

    def __init__(self, size: int = 1024) -> None:
        self._handles: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def note(self, receipt_handle: str, seconds: float) -> None:
        with self._lock:
            self._handles[receipt_handle] = seconds
            while len(self._handles) > self._size:
                self._handles.popitem(last=False)

    def pop(self, receipt_handle: str) -> float | None:
        with self._lock:
            return self._handles.pop(receipt_handle, None)


deferred_receipts = _Deferred()


def named_wait(exc: BaseException) -> float | None:
    """The longest ``retry_after`` named by ``exc`` or the errors it was raised from (SyncFailed -> RateLimited)."""
    best: float | None = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        value = getattr(current, "retry_after", None)
        if isinstance(value, int | float) and not isinstance(value, bool):
            best = float(value) if best is None else max(best, float(value))
        current = current.__cause__ or current.__context__
    return best


__all__ = [
    "CONCURRENT",
    "DAY",
    "LIMITS",
    "MINUTE",
    "Blocked",
    "Budget",
    "BudgetStore",
    "Pacer",
    "ProviderLimits",
    "Throttle",
    "clear_observed",
    "deferred_receipts",
    "local_429",
    "named_wait",
    "next_utc_midnight",
    "observed",
    "tenant_of",
]
