"""Endpoint budgets (QuickBooks /batch), the client-side day allowance (Xero) and the request deadline of the Sync
button, on an in-memory budget store and a simulated clock (nothing here waits for real)."""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from booksync.ratelimit import (
    DAY,
    LIMITS,
    MINUTE,
    Blocked,
    Budget,
    Pacer,
    interactive_request,
    next_utc_midnight,
    time_left,
    utc_day_start,
)
from booksync.sync.engine import SyncEngine
from booksync.sync.ports import RateLimited, Unavailable
from tests.unit.budget_memory import MemoryStore

REALM = "9130350000000001"
BATCH_PATH = f"/v3/company/{REALM}/batch"
QUERY_PATH = f"/v3/company/{REALM}/query"
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, start: float = NOON) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _pacer(store: MemoryStore, clock: Clock, max_wait: float = 900.0) -> Pacer:
    return Pacer(store=store, clock=clock, sleep=clock.sleep, pause=clock.sleep, max_wait=max_wait)


def _call(pacer: Pacer, provider: str, tenant: str, path: str = "") -> None:
    lease = pacer.acquire(provider, tenant, path)
    pacer.release(provider, tenant, lease)


def _max_in_any_minute(times: list[float]) -> int:
    window: deque[float] = deque()
    most = 0
    for t in sorted(times):
        window.append(t)
        while window[0] <= t - 60.0:
            window.popleft()
        most = max(most, len(window))
    return most


# ---- QuickBooks /batch: 40 batch requests a minute per realm+app --------------------------------------------------
def test_batches_stay_under_quickbooks_batch_limit_while_other_calls_are_not_slowed() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)
    batch = next(s for s in LIMITS["quickbooks"].sub_limits if s.name == "batch")
    assert batch.per_minute < 40  # below Intuit's 40/min per realm+app (quickbooks.md section 5)
    # When a backfill sends 120 batches back to back
    sent: list[float] = []
    for _ in range(120):
        _call(pacer, "quickbooks", REALM, BATCH_PATH)
        sent.append(clock.now)
    # Then no 60 s window held more than our batch budget, and it took the time that budget demands
    assert _max_in_any_minute(sent) <= batch.per_minute < 40
    assert sent[-1] - sent[0] >= (120 - batch.burst) / batch.refill_per_second * 0.99
    # And the batch bucket is a sibling of the realm's budget, which every batch also paid from
    assert store.writes[f"quickbooks#{REALM}#batch"] == 120
    # When other calls of the same realm follow, they do not wait for the batch budget (only the realm's 450/min)
    clock.now += 2.0  # the realm's bucket is full again; the batch bucket has about one token
    clock.slept.clear()
    for _ in range(LIMITS["quickbooks"].burst):
        _call(pacer, "quickbooks", REALM, QUERY_PATH)
    assert clock.slept == []
    assert store.writes[f"quickbooks#{REALM}#batch"] == 120


def test_a_batch_beyond_the_wait_limit_is_refused_without_taking_a_token_or_a_slot() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock, max_wait=0.5)
    batch = next(s for s in LIMITS["quickbooks"].sub_limits if s.name == "batch")
    for _ in range(batch.burst):
        _call(pacer, "quickbooks", REALM, BATCH_PATH)
    main_before = store.items[f"quickbooks#{REALM}"]
    with pytest.raises(Blocked) as blocked:
        pacer.acquire("quickbooks", REALM, BATCH_PATH)
    assert blocked.value.problem == MINUTE and 0.5 < blocked.value.wait <= 60 / batch.per_minute * 2
    assert store.items[f"quickbooks#{REALM}"] == main_before  # the realm's tokens and slots were not touched


# ---- Xero's day allowance: background stops at its share, the Sync button keeps the rest --------------------------
def _spend_day(store: MemoryStore, tenant: str, used: int, at: float) -> None:
    store.items[f"xero#{tenant}#day"] = Budget(tokens=float(used), refilled_at=utc_day_start(at), version=7)


def test_background_stops_at_its_share_of_the_day_the_sync_button_uses_the_reserve() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock, max_wait=20.0)
    day = LIMITS["xero"].day
    assert day is not None and day.per_day < 5000 and day.allowance(False) < day.allowance(True) == day.per_day
    # Given background work used its share of today's allowance but one call
    _spend_day(store, "org-1", day.allowance(False) - 1, clock.now)
    _call(pacer, "xero", "org-1")  # the last background call of the day goes out
    main_before = store.items["xero#org-1"]
    # Then the next background call is refused locally like Xero's day 429, until the next UTC midnight
    with pytest.raises(Blocked) as blocked:
        pacer.acquire("xero", "org-1")
    assert blocked.value.problem == DAY
    assert blocked.value.wait == pytest.approx(next_utc_midnight(clock.now) - clock.now)
    assert store.items["xero#org-1"] == main_before  # no token, no slot, no write for a refused call
    # But Sync clicks (interactive) still go out, up to the whole allowance
    for _ in range(day.per_day - day.allowance(False)):
        with interactive_request(25.0, clock=clock):
            _call(pacer, "xero", "org-1")
    with interactive_request(25.0, clock=clock), pytest.raises(Blocked) as spent:
        pacer.acquire("xero", "org-1")
    assert spent.value.problem == DAY
    assert store.items["xero#org-1#day"].tokens == day.per_day
    # When the UTC day rolls over, background work runs again from zero
    clock.now = next_utc_midnight(clock.now) + 1
    _call(pacer, "xero", "org-1")
    assert store.items["xero#org-1#day"].tokens == 1
    assert store.items["xero#org-1#day"].refilled_at == utc_day_start(clock.now)


def test_the_day_count_is_shared_and_never_spent_twice() -> None:
    """Two Lambdas (two pacers, one store): a conflicting write re-reads, the count is exact."""
    store, clock = MemoryStore(), Clock()
    a, b = _pacer(store, clock), _pacer(store, clock)
    for i in range(30):
        _call(a if i % 3 else b, "xero", "org-2")
    assert store.items["xero#org-2#day"].tokens == 30
    day = LIMITS["xero"].day
    assert day is not None
    _spend_day(store, "org-2", day.allowance(False) - 1, clock.now)
    _call(a, "xero", "org-2")  # a took the last one ...
    with pytest.raises(Blocked):  # ... b, whose cached count is stale, re-reads instead of overspending
        _call(b, "xero", "org-2")
    assert store.items["xero#org-2#day"].tokens == day.allowance(False)


def test_providers_without_a_day_allowance_keep_one_budget_item() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)
    _call(pacer, "freshbooks", "acct-1")
    _call(pacer, "quickbooks", REALM, QUERY_PATH)
    assert set(store.items) == {"freshbooks#acct-1", f"quickbooks#{REALM}"}


# ---- the Sync button's deadline ------------------------------------------------------------------------------------
def test_under_a_deadline_the_pacer_refuses_a_wait_that_would_outlast_it() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock, max_wait=20.0)
    with interactive_request(25.0, clock=clock):
        clock.now += 12.0  # the click already spent 12 s (earlier calls, a retry)
        assert time_left() == pytest.approx(13.0)
        pacer.throttled("xero", "org-3", MINUTE, 15.0)  # every caller must now wait 15 s (< max_wait)
        with pytest.raises(Blocked) as blocked:
            pacer.acquire("xero", "org-3")
    assert clock.slept == []  # refused at once, not after sleeping into the gateway's timeout
    assert blocked.value.wait == pytest.approx(15.0)
    # Without a deadline (a queue consumer) the same caller waits it out within max_wait
    _call(pacer, "xero", "org-3")
    assert clock.slept == [pytest.approx(15.0)]
    assert time_left() is None


def _engine(clock: Clock) -> Any:
    return SimpleNamespace(max_attempts=4, backoff_cap=8.0, sleep=clock.sleep)


def test_the_engines_backoff_never_sleeps_past_the_deadline() -> None:
    clock = Clock()
    engine = _engine(clock)
    limited = RateLimited("minute limit", retry_after=9.0)
    # Without a deadline the named wait is slept
    SyncEngine._backoff(engine, limited, 1)
    assert clock.slept == [9.0]
    # With 10 s left (a 2 s reserve for the call) the same wait is not slept: the error goes to the handler
    with interactive_request(10.0, clock=clock), pytest.raises(RateLimited):
        SyncEngine._backoff(engine, limited, 1)
    assert clock.slept == [9.0]
    # A short exponential backoff that fits is still slept under the deadline
    with interactive_request(10.0, clock=clock):
        SyncEngine._backoff(engine, Unavailable("502"), 1)
    assert clock.slept == [9.0, pytest.approx(0.4)]
    # And once the deadline has passed, nothing is slept at all
    with interactive_request(1.0, clock=clock):
        clock.now += 2.0
        with pytest.raises(Unavailable):
            SyncEngine._backoff(engine, Unavailable("502"), 1)
    assert len(clock.slept) == 2


def test_waiting_for_another_push_is_cut_to_the_deadline() -> None:
    clock = Clock()
    engine = SimpleNamespace(wait_for_other=25.0)
    # A queue consumer waits the whole 25 s for another push's claim
    assert SyncEngine._other_push_wait(engine) == 25.0
    # The Sync button with 10 s left waits at most 8 s (2 s kept for its own calls), then answers
    with interactive_request(10.0, clock=clock):
        assert SyncEngine._other_push_wait(engine) == pytest.approx(8.0)
        clock.now += 9.5
        assert SyncEngine._other_push_wait(engine) == 0.0


def test_the_sync_routes_deadline_is_25_s_or_the_lambdas_time_left_minus_a_margin() -> None:
    from booksync.routes.sync import _deadline_seconds

    def router(ms: int | None) -> Any:
        context = None if ms is None else SimpleNamespace(get_remaining_time_in_millis=lambda: ms)
        return SimpleNamespace(lambda_context=context)

    assert _deadline_seconds(router(60_000)) == 25.0  # the SyncInvoiceFunction's 60 s: the gateway's 29 s decides
    assert _deadline_seconds(router(10_000)) == 7.0  # a Lambda about to time out: its own limit decides
    assert _deadline_seconds(router(None)) == 25.0
