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
  ``RateLimited`` like any 429; the engine re-raises long waits and the queue consumer defers the message;
- some endpoints have their own, stricter budget (``ProviderLimits.sub_limits``: QuickBooks ``/batch``), and a day
  allowance (``ProviderLimits.day``: Xero) is counted per UTC day in sibling items; background work may use only
  part of it, the rest is kept for calls made inside :func:`interactive_request` (the Sync button);
- where the provider says how many calls it still allows (``ProviderLimits.remaining``: Xero's
  ``X-DayLimit-Remaining`` / ``X-MinLimit-Remaining`` / ``X-AppMinLimit-Remaining`` on every answer), the HTTP client
  reports it to :meth:`Pacer.observe`: a lower day figure than ours raises our day count to ``per_day - remaining``
  (never lowers it; a Starter tier or other apps on the tenant), none left this minute blocks the tenant for a minute,
  fewer than our bucket holds lowers the bucket; a 429's own ``Retry-After`` is not overridden by its counts;
- :func:`interactive_request` also sets the synchronous request's deadline: no pacer wait (and no engine backoff,
  ``time_left``) runs past it, so the Sync button answers its own 503 before API Gateway's 29 s.

The limits are data (``LIMITS``); the clock and the sleeps are injectable (tests move the sandbox clock instead of
waiting a real minute). The HTTP client (``providers.http``) consults :class:`Pacer` before every provider call.
"""

from __future__ import annotations

import contextvars
import dataclasses
import math
import random
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any, Protocol

from booksync.observability import logger


@dataclass(frozen=True)
class SubLimit:
    """A stricter per-minute budget for some endpoints of a provider, on top of the tenant's own (QuickBooks
    ``/batch``: 40 batch requests a minute per realm+app). Its bucket is a sibling item ``<provider>#<tenant>#<name>``
    consulted only by requests whose URL path matches ``path``."""

    name: str
    path: str  # regex searched in the URL path
    per_minute: int
    burst: int
    published: str

    @property
    def refill_per_second(self) -> float:
        return max(self.per_minute - self.burst, 1) / 60.0


@dataclass(frozen=True)
class DayLimit:
    """Calls per tenant per UTC day, counted client-side (sibling item ``<provider>#<tenant>#day``) so we stop before
    the provider's day 429. Background work (queue consumers: backfill, imports, queued pushes) may use
    ``background_share`` of ``per_day``; the rest is kept for interactive calls (the Sync button)."""

    per_day: int
    background_share: float
    published: str

    def allowance(self, interactive: bool) -> int:
        return self.per_day if interactive else math.floor(self.per_day * self.background_share)


@dataclass(frozen=True)
class RemainingHeaders:
    """Response headers in which a provider says how many calls it still allows the tenant (Xero: every answer carries
    ``X-DayLimit-Remaining`` and ``X-MinLimit-Remaining``, plus the app-wide ``X-AppMinLimit-Remaining``). Several
    minute headers: the smallest figure counts (the app-wide minute stops this tenant's calls too)."""

    day: tuple[str, ...] = ()
    minute: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderLimits:
    """What we allow ourselves per tenant: at most ``per_minute`` calls in any 60 s and ``concurrency`` at once."""

    per_minute: int
    burst: int
    concurrency: int
    published: str  # the provider's own figure and where it comes from (providers/<p>.md)
    tenant_header: str | None = None  # request header naming the tenant
    tenant_path: str | None = None  # or a regex on the URL path (group 1 = tenant)
    tenant_from_token: bool = False  # or the bearer token itself (when the request names no tenant; see below)
    # or the session's tenant, passed by the adapter in the request's extensions (TENANT_EXTENSION, never sent): Wave's
    # single GraphQL URL names no business, and keying on the token gave each refreshed token a fresh budget while a
    # limit counted per business (or per token chain) still held the calls of the minute before the refresh
    tenant_from_session: bool = False
    sub_limits: tuple[SubLimit, ...] = ()  # stricter budgets for some endpoints (matched on the URL path)
    day: DayLimit | None = None  # a client-side day allowance (None: only the provider's day 429 stops us)
    remaining: RemainingHeaders | None = None  # where the provider reports the calls it still allows (None: nowhere)

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
        sub_limits=(
            SubLimit(
                name="batch",
                path=r"/company/[^/?]+/batch$",
                per_minute=36,
                burst=3,
                published="40 batch requests/min per realm+app (120/min per realm), 30 items per batch",
            ),
        ),
    ),
    "xero": ProviderLimits(
        per_minute=55,
        burst=5,
        concurrency=5,
        published="60/min, 5,000/day, 5 concurrent per tenant",
        tenant_header="xero-tenant-id",
        # 100 below Xero's 5,000 (its window may be rolling, ours is the UTC day); 90 % for background work, the
        # last 490 calls only for the Sync button (about 80 invoice pushes with new contact and item)
        day=DayLimit(per_day=4_900, background_share=0.9, published="5,000/day per tenant (Starter tier: 1,000)"),
        # xero.md section 6: on every answer; a lower figure than our count (Starter tier, other apps on the tenant)
        # is adopted by Pacer.observe
        remaining=RemainingHeaders(
            day=("X-DayLimit-Remaining",), minute=("X-MinLimit-Remaining", "X-AppMinLimit-Remaining")
        ),
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
        tenant_from_session=True,
        tenant_from_token=True,  # a request without the extension (none of ours) is still paced
    ),
}

PACING_HEADER = "X-BlueClerk-Pacing"
MIN_WAIT = 0.001  # a token wait never rounds to nothing (a clock at 1.7e9 s cannot move by 1e-10 s)
DEADLINE_RESERVE = 2.0  # under a request deadline: seconds kept for the call itself after any wait
DAY = "day"
MINUTE = "minute"
CONCURRENT = "concurrent"
MINUTE_WINDOW = 60.0  # a provider minute with nothing left: no call for this long (safe for a rolling window too)
OBSERVE_ATTEMPTS = 8  # conditional-write retries when Lambdas adopt a provider's figure at once
_COUNT = re.compile(r"\d{1,9}", re.ASCII)


TENANT_EXTENSION = "booksync.tenant"  # httpx request extension: the session's tenant (not sent to the provider)


def tenant_of(
    provider: str, method: str, url_path: str, headers: Any, extensions: Mapping[str, Any] | None = None
) -> str | None:
    """The tenant a provider request is counted against, or None (identity/token endpoints are not paced)."""
    limits = LIMITS.get(provider)
    if limits is None:
        return None
    if limits.tenant_from_session and extensions and extensions.get(TENANT_EXTENSION):
        return str(extensions[TENANT_EXTENSION])
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


def _count(value: Any) -> int | None:
    """A header's non-negative whole count, or None when absent or garbled (never guessed)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    return int(text) if _COUNT.fullmatch(text) else None


def reported_remaining(provider: str, headers: Any) -> tuple[int | None, int | None]:
    """(calls left today, calls left this minute) as the provider's answer states them (``ProviderLimits.remaining``);
    None for a figure the provider does not send, or sent garbled. Provider-neutral: the header names are data."""
    limits = LIMITS.get(provider)
    spec = limits.remaining if limits is not None else None
    if spec is None:
        return None, None

    def smallest(names: tuple[str, ...]) -> int | None:
        found = [n for n in (_count(headers.get(name)) for name in names) if n is not None]
        return min(found) if found else None

    return smallest(spec.day), smallest(spec.minute)


def utc_day_start(now: float) -> float:
    day = datetime.fromtimestamp(now, tz=UTC).date()
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


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


# ---- who is calling: background work, or a person waiting on a synchronous request with a deadline -----------------
@dataclass(frozen=True)
class CallScope:
    """``interactive``: a person is waiting (the Sync button) and may use the day reserve; ``deadline``: the time, on
    ``clock``, after which nothing may still be waiting (API Gateway's HTTP API gives up at 29 s)."""

    interactive: bool = False
    deadline: float | None = None
    clock: Callable[[], float] = time.time


_BACKGROUND = CallScope()
_scope: contextvars.ContextVar[CallScope | None] = contextvars.ContextVar("booksync_call_scope", default=None)


@contextmanager
def interactive_request(seconds: float, clock: Callable[[], float] = time.time) -> Iterator[CallScope]:
    """Run a synchronous request: its provider calls may use the day reserve, and no wait (the pacer's, the engine's
    backoff) may run past ``seconds`` from now on ``clock`` (the pacer's clock, so tests can move it)."""
    scope = CallScope(interactive=True, deadline=clock() + max(0.0, seconds), clock=clock)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def current_scope() -> CallScope:
    return _scope.get() or _BACKGROUND


def time_left() -> float | None:
    """Seconds until the current request's deadline (None: no deadline, e.g. a queue consumer)."""
    scope = current_scope()
    return None if scope.deadline is None else scope.deadline - scope.clock()


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
    deadline_reserve: float = DEADLINE_RESERVE  # under a request deadline: time kept for the call itself
    lease_seconds: float = 35.0  # > the longest call (provider timeout x transport retries): a dead Lambda's slot
    limits: dict[str, ProviderLimits] = field(default_factory=lambda: dict(LIMITS))
    stats: dict[str, int] = field(default_factory=lambda: {"reads": 0, "writes": 0, "conflicts": 0, "waits": 0})
    _cache: dict[str, Budget] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @staticmethod
    def key(provider: str, tenant: str) -> str:
        return f"{provider}#{tenant}"

    def acquire(self, provider: str, tenant: str, path: str = "") -> str:
        """Take a token and a concurrency slot for one call (waiting up to ``max_wait``, and never past the current
        request's deadline), plus a token from every endpoint budget ``path`` matches and from the day allowance;
        returns the lease id."""
        limits = self.limits[provider]
        key = self.key(provider, tenant)
        extras = self._extras(limits, key, path)
        interactive = current_scope().interactive
        limit = self._wait_limit()
        lease_id = uuid.uuid4().hex[:16]
        waited = 0.0

        def wait_or_refuse(wait: float, problem: str, until: float, wait_key: str, fn: Callable[[float], None]) -> None:
            """Wait ``wait`` if the call may still wait that long, else refuse it (the caller answers a local 429)."""
            nonlocal waited
            if waited + wait > limit:
                self._observe(provider, problem, wait, until)
                raise Blocked(wait, problem)
            self._wait(fn, wait, wait_key)
            waited += wait

        while True:
            now = self.clock()
            budget = self._current(key, limits, now)
            if budget.blocked_until > now:
                wait = budget.blocked_until - now
                wait_or_refuse(wait, budget.problem or MINUTE, budget.blocked_until, key, self.sleep)
                continue
            # the endpoint and day budgets first: a call they refuse takes no token and no slot
            short = self._extras_short(extras, now, interactive)
            if short is not None:
                wait, problem, extra_key = short
                wait_or_refuse(wait, problem, now + wait, extra_key, self.sleep)
                continue
            live = {k: v for k, v in budget.leases.items() if v > now}
            if len(live) >= limits.concurrency:
                step = 0.02 + random.random() * 0.05  # jitter, not security
                if waited + step > limit:  # a concurrency refusal names a 1 s retry, not the step
                    self._observe(provider, CONCURRENT, 1.0, now + 1.0)
                    raise Blocked(1.0, CONCURRENT)
                wait_or_refuse(step, CONCURRENT, now + step, key, self.pause)
                continue
            refill = max(0.0, now - budget.refilled_at) * limits.refill_per_second
            tokens = min(float(limits.burst), budget.tokens + refill)
            if tokens < 1.0:
                wait = max(MIN_WAIT, (1.0 - tokens) / limits.refill_per_second)
                wait_or_refuse(wait, MINUTE, now + wait, key, self.sleep)
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
            if not self.store.write(key, new, budget.version):
                self.stats["conflicts"] += 1
                self._forget(key)
                continue
            self._remember(key, new)
            if self._spend_extras(extras, now, interactive):
                return lease_id
            # another Lambda spent the endpoint or day budget in between: give the slot back and look again
            self.release(provider, tenant, lease_id)
            lease_id = uuid.uuid4().hex[:16]

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

    def observe(
        self, provider: str, tenant: str, *, day_remaining: int | None = None, minute_remaining: int | None = None
    ) -> None:
        """The provider's answer said how many calls it still allows this tenant (Xero's ``X-DayLimit-Remaining`` /
        ``X-MinLimit-Remaining``): where that is fewer than our own count allows, adopt it for every Lambda.

        Day: the count becomes ``per_day - day_remaining`` if that is higher (never lower: calls in flight, a UTC day
        vs a rolling window), so background work still stops at its share and the Sync button keeps the reserve.
        Minute: nothing left blocks the tenant for a minute (as a 429 would, without meeting it); fewer left than our
        bucket holds lowers the bucket. Conditional writes only: Lambdas observing at once never undo each other."""
        limits = self.limits.get(provider)
        if limits is None:
            return
        key = self.key(provider, tenant)
        now = self.clock()
        if day_remaining is not None and day_remaining >= 0 and limits.day is not None:
            self._adopt_day(provider, f"{key}#day", limits.day, day_remaining, now)
        if minute_remaining is not None and minute_remaining >= 0:
            self._adopt_minute(provider, key, limits, minute_remaining, now)

    # ---- internals ---------------------------------------------------------------------------------------------
    def _adopt_day(self, provider: str, key: str, spec: DayLimit, remaining: int, now: float) -> None:
        floor = float(spec.per_day - remaining)
        for _ in range(OBSERVE_ATTEMPTS):
            budget, used, at = self._extra_state(key, spec, now)
            if used >= floor:
                return
            new = Budget(tokens=floor, refilled_at=at, version=(budget.version or 0) + 1)
            self.stats["writes"] += 1
            if self.store.write(key, new, budget.version):
                self._remember(key, new)
                logger.info("provider reports fewer calls left today", provider=provider, remaining=remaining)
                return
            self.stats["conflicts"] += 1
            self._forget(key)

    def _adopt_minute(self, provider: str, key: str, limits: ProviderLimits, remaining: int, now: float) -> None:
        if remaining == 0:
            until = now + MINUTE_WINDOW
            if self._current(key, limits, now).blocked_until >= until:
                return
            self.stats["writes"] += 1
            self.store.block(key, until, MINUTE)  # commutative: never shortens a longer block another Lambda wrote
            self._forget(key)
            logger.info("provider reports no calls left this minute", provider=provider)
            return
        for _ in range(OBSERVE_ATTEMPTS):
            budget = self._current(key, limits, now)
            at = max(now, budget.refilled_at)
            tokens = min(
                float(limits.burst), budget.tokens + max(0.0, now - budget.refilled_at) * limits.refill_per_second
            )
            if tokens <= remaining:
                return
            new = dataclasses.replace(
                budget, tokens=float(remaining), refilled_at=at, version=(budget.version or 0) + 1
            )
            self.stats["writes"] += 1
            if self.store.write(key, new, budget.version):
                self._remember(key, new)
                return
            self.stats["conflicts"] += 1
            self._forget(key)

    def _wait_limit(self) -> float:
        """``max_wait``, or less under a request deadline (time is kept for the call itself)."""
        left = time_left()
        if left is None:
            return self.max_wait
        return max(0.0, min(self.max_wait, left - self.deadline_reserve))

    @staticmethod
    def _extras(limits: ProviderLimits, key: str, path: str) -> list[tuple[str, SubLimit | DayLimit]]:
        extras: list[tuple[str, SubLimit | DayLimit]] = [
            (f"{key}#{sub.name}", sub) for sub in limits.sub_limits if re.search(sub.path, path)
        ]
        if limits.day is not None:
            extras.append((f"{key}#day", limits.day))
        return extras

    def _extra_state(self, key: str, spec: SubLimit | DayLimit, now: float) -> tuple[Budget, float, float]:
        """(stored budget, tokens or calls used now, the bucket's reference time) of an endpoint or day budget."""
        with self._lock:
            budget = self._cache.get(key)
        if budget is None:
            self.stats["reads"] += 1
            budget = self.store.read(key)
            if budget is None:
                budget = (
                    Budget(tokens=0.0, refilled_at=utc_day_start(now))
                    if isinstance(spec, DayLimit)
                    else Budget(tokens=float(spec.burst), refilled_at=now)
                )
            self._remember(key, budget)
        if isinstance(spec, DayLimit):
            day_start = utc_day_start(now)
            used = budget.tokens if budget.refilled_at >= day_start else 0.0  # a new UTC day starts at zero
            return budget, used, max(day_start, budget.refilled_at)
        refill = max(0.0, now - budget.refilled_at) * spec.refill_per_second
        return budget, min(float(spec.burst), budget.tokens + refill), max(now, budget.refilled_at)

    def _extras_short(
        self, extras: list[tuple[str, SubLimit | DayLimit]], now: float, interactive: bool
    ) -> tuple[float, str, str] | None:
        """The first endpoint/day budget that cannot pay for a call now: (wait, problem, its key)."""
        for key, spec in extras:
            _, value, _ = self._extra_state(key, spec, now)
            if isinstance(spec, DayLimit):
                if value >= spec.allowance(interactive):
                    return next_utc_midnight(now) - now, DAY, key
            elif value < 1.0:
                return max(MIN_WAIT, (1.0 - value) / spec.refill_per_second), MINUTE, key
        return None

    def _spend_extras(self, extras: list[tuple[str, SubLimit | DayLimit]], now: float, interactive: bool) -> bool:
        """Pay one call from each endpoint/day budget (conditional writes); False if one changed meanwhile."""
        for key, spec in extras:
            budget, value, at = self._extra_state(key, spec, now)
            if isinstance(spec, DayLimit):  # the day bucket counts calls up, an endpoint bucket spends tokens
                refused, tokens = value >= spec.allowance(interactive), value + 1.0
            else:
                refused, tokens = value < 1.0, value - 1.0
            if refused:
                self._forget(key)
                return False
            new = Budget(tokens=tokens, refilled_at=at, version=(budget.version or 0) + 1)
            self.stats["writes"] += 1
            if not self.store.write(key, new, budget.version):
                self.stats["conflicts"] += 1
                self._forget(key)
                return False
            self._remember(key, new)
        return True

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
    "DEADLINE_RESERVE",
    "LIMITS",
    "MINUTE",
    "TENANT_EXTENSION",
    "Blocked",
    "Budget",
    "BudgetStore",
    "CallScope",
    "DayLimit",
    "Pacer",
    "ProviderLimits",
    "RemainingHeaders",
    "SubLimit",
    "Throttle",
    "clear_observed",
    "current_scope",
    "deferred_receipts",
    "interactive_request",
    "local_429",
    "named_wait",
    "next_utc_midnight",
    "observed",
    "reported_remaining",
    "tenant_of",
    "time_left",
    "utc_day_start",
]
