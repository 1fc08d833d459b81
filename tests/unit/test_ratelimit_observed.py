"""The provider's own count of what is left (Xero's ``X-DayLimit-Remaining`` / ``X-MinLimit-Remaining`` /
``X-AppMinLimit-Remaining``) tightens the shared per-tenant budget: ``Pacer.observe`` and the HTTP client that
reports every answer to it. In-memory budget store with the conditional-write contract, a simulated clock, a
simulated Xero (nothing here waits for real)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from booksync.ratelimit import (
    DAY,
    LIMITS,
    MINUTE,
    MINUTE_WINDOW,
    Blocked,
    Budget,
    Pacer,
    interactive_request,
    reported_remaining,
    utc_day_start,
)
from booksync.sync.ports import RateLimited, Session
from tests.unit.budget_memory import MemoryStore as BudgetMemory

ORG = "0b7c6f0e-5a4e-4d55-8e5d-3f1c9c2d7a01"
NOON = datetime(2026, 11, 24, 12, 0, tzinfo=UTC).timestamp()
DAY_KEY = f"xero#{ORG}#day"
KEY = f"xero#{ORG}"
XERO_DAY = LIMITS["xero"].day
assert XERO_DAY is not None
PER_DAY = XERO_DAY.per_day
RESERVE = PER_DAY - XERO_DAY.allowance(False)  # the calls kept for the Sync button


class MemoryStore(BudgetMemory):
    def __init__(self, hold: int = 0) -> None:
        super().__init__(hold=hold, block_tokens=5.0)

    def used_today(self, now: float = NOON) -> float:
        item = self.items.get(DAY_KEY)
        return item.tokens if item is not None and item.refilled_at >= utc_day_start(now) else 0.0


class Clock:
    def __init__(self, start: float = NOON) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _pacer(store: MemoryStore, clock: Clock, max_wait: float = 20.0) -> Pacer:
    return Pacer(store=store, clock=clock, sleep=clock.sleep, pause=clock.sleep, max_wait=max_wait)


def _headers(day: Any = None, minute: Any = None, app: Any = None) -> dict[str, str]:
    out = {}
    for name, value in (
        ("X-DayLimit-Remaining", day),
        ("X-MinLimit-Remaining", minute),
        ("X-AppMinLimit-Remaining", app),
    ):
        if value is not None:
            out[name] = str(value)
    return out


# ---- reading the headers ------------------------------------------------------------------------------------------
def test_the_header_names_are_data_and_only_clean_counts_are_read() -> None:
    assert reported_remaining("xero", httpx.Headers(_headers(4321, 57, 9990))) == (4321, 57)
    assert reported_remaining("xero", httpx.Headers(_headers(10, 57, 3))) == (10, 3)  # the app minute is stricter
    assert reported_remaining("xero", httpx.Headers({"x-daylimit-remaining": " 12 "})) == (12, None)
    for garbled in ("", "abc", "-5", "1.5", "12, 13", "1e3", "\u0661\u0662", "99999999999"):
        assert reported_remaining("xero", _headers(garbled, garbled, garbled)) == (None, None), garbled
    assert reported_remaining("xero", httpx.Headers(_headers(None, "abc", 7))) == (None, 7)
    assert reported_remaining("xero", httpx.Headers({})) == (None, None)
    # a provider that publishes no such headers: nothing is read, whatever the answer carries
    assert reported_remaining("quickbooks", httpx.Headers(_headers(1, 0, 0))) == (None, None)


# ---- the day: a Starter organisation (1,000 calls a day) ----------------------------------------------------------
class StarterXero:
    """Xero's own day count for one organisation; answers like Xero: the calls left after this one, or a 429."""

    def __init__(self, per_day: int = 1_000, used: int = 0) -> None:
        self.per_day = per_day
        self.used = used
        self.refused = 0

    def call(self, pacer: Pacer) -> None:
        lease = pacer.acquire("xero", ORG, "/api.xro/2.0/Invoices")
        try:
            if self.used >= self.per_day:
                self.refused += 1
                remaining = 0
            else:
                self.used += 1
                remaining = self.per_day - self.used
        finally:
            pacer.release("xero", ORG, lease)
        pacer.observe("xero", ORG, day_remaining=remaining, minute_remaining=50)


def test_a_starter_organisation_stops_background_work_at_the_reserve_and_keeps_the_rest_for_sync_clicks() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)
    xero = StarterXero(per_day=1_000)
    # When background work calls as long as it may
    background = 0

    def run_background() -> None:
        nonlocal background
        while True:
            xero.call(pacer)
            background += 1
            clock.now += 1.2  # the minute budget is not what stops it

    with pytest.raises(Blocked) as stopped:
        run_background()
    # Then it stopped on the day (deferred to the next UTC day), with Xero's reserve left and no 429 from Xero
    assert stopped.value.problem == DAY and stopped.value.wait > 3600
    assert xero.refused == 0
    assert xero.per_day - xero.used == RESERVE  # 1,000 - 510: the last 490 are kept for the Sync button
    assert background == 1_000 - RESERVE
    # When a person clicks Sync, their calls still go through, up to Xero's own last call and not beyond
    with interactive_request(25.0, clock):
        for _ in range(RESERVE):
            xero.call(pacer)
            clock.now += 1.2
        with pytest.raises(Blocked) as spent:
            xero.call(pacer)
    assert spent.value.problem == DAY
    assert xero.used == 1_000 and xero.refused == 0  # every call Xero allowed was used, none met its 429
    assert store.used_today() == PER_DAY


def test_our_count_is_never_lowered_by_a_provider_figure() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)
    for _ in range(30):
        lease = pacer.acquire("xero", ORG)
        pacer.release("xero", ORG, lease)
        clock.now += 1.2
    assert store.used_today() == 30
    # Xero still has 4,990 left (other apps used nothing; its 5,000 is above our 4,900): our 30 stay
    pacer.observe("xero", ORG, day_remaining=4_990)
    assert store.used_today() == 30
    # A lower figure is adopted ...
    pacer.observe("xero", ORG, day_remaining=1_000)
    assert store.used_today() == PER_DAY - 1_000
    # ... and a later, higher one (a rolling window freeing calls, an answer that overtook another) never lowers it
    for higher in (1_001, 2_500, 4_999):
        pacer.observe("xero", ORG, day_remaining=higher)
        assert store.used_today() == PER_DAY - 1_000
    # Nor does another Lambda with a stale cache of the count
    other = _pacer(store, clock)
    other._remember(DAY_KEY, Budget(tokens=30.0, refilled_at=utc_day_start(clock.now), version=1))
    other.observe("xero", ORG, day_remaining=2_000)
    assert store.used_today() == PER_DAY - 1_000


def test_a_new_utc_day_starts_from_the_providers_figure_not_yesterdays_count() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)
    pacer.observe("xero", ORG, day_remaining=0)  # yesterday's allowance fully used
    assert store.used_today() == PER_DAY
    clock.now += 86_400  # the next UTC day: our count starts at zero ...
    tomorrow = clock.now
    lease = pacer.acquire("xero", ORG)
    pacer.release("xero", ORG, lease)
    assert store.used_today(tomorrow) == 1
    pacer.observe("xero", ORG, day_remaining=4_000)  # ... unless Xero's (rolling) window still counts calls
    assert store.used_today(tomorrow) == PER_DAY - 4_000


def test_a_day_429_with_nothing_left_stops_sync_clicks_too() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)
    pacer.observe("xero", ORG, day_remaining=0)
    with interactive_request(25.0, clock), pytest.raises(Blocked) as refused:
        pacer.acquire("xero", ORG)
    assert refused.value.problem == DAY


def test_a_missing_or_garbled_header_changes_nothing() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)
    answers = [
        {},
        _headers("abc", "", "x"),
        _headers("-1", "-1", "-1"),
        _headers("0.5", "1.5", None),
        {"X-DayLimit-Remaining": "0, 0"},
    ]

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=answers.pop(0), json={})

    http = _paced(pacer, upstream)
    before: dict[str, Budget] = {}
    for n in range(5):
        http.get("http://xero.test/api.xro/2.0/Contacts", headers={"xero-tenant-id": ORG})
        if n == 0:
            before = dict(store.items)
    assert answers == []
    # Then only our own counting moved: one call a request, the bucket never blocked nor lowered by a header
    assert store.used_today() == 5
    main = store.items[KEY]
    assert main.blocked_until == 0.0 and main.problem is None
    assert before[DAY_KEY].tokens == 1


def test_a_healthy_answer_costs_no_extra_read_or_write() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=_headers(4_990, 59, 9_999), json={})

    http = _paced(pacer, upstream)
    http.get("http://xero.test/api.xro/2.0/Contacts", headers={"xero-tenant-id": ORG})  # warms this Lambda's cache
    before = dict(pacer.stats)
    http.get("http://xero.test/api.xro/2.0/Contacts", headers={"xero-tenant-id": ORG})
    after = dict(pacer.stats)
    # what the call itself costs (take a token and a slot, count the day, free the slot), nothing for the headers
    assert after["reads"] == before["reads"] and after["writes"] - before["writes"] == 3


# ---- the minute ---------------------------------------------------------------------------------------------------
def test_nothing_left_this_minute_blocks_every_caller_for_a_minute_without_meeting_the_429() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)
    lease = pacer.acquire("xero", ORG)
    pacer.release("xero", ORG, lease)
    pacer.observe("xero", ORG, minute_remaining=0)
    assert store.items[KEY].blocked_until == NOON + MINUTE_WINDOW and store.items[KEY].problem == MINUTE
    # Another Lambda refuses locally (it may not wait a minute) ...
    other = _pacer(store, clock, max_wait=20.0)
    with pytest.raises(Blocked) as held:
        other.acquire("xero", ORG)
    assert held.value.problem == MINUTE and 59 <= held.value.wait <= 60
    # ... one that may wait does, and calls once the minute is over
    patient = _pacer(store, clock, max_wait=900.0)
    lease = patient.acquire("xero", ORG)
    patient.release("xero", ORG, lease)
    assert clock.now >= NOON + MINUTE_WINDOW


def test_a_minute_figure_never_shortens_a_longer_block() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)
    pacer.throttled("xero", ORG, DAY, 7_200.0)  # Xero's day 429 named two hours
    pacer.observe("xero", ORG, minute_remaining=0)
    assert store.items[KEY].blocked_until == NOON + 7_200 and store.items[KEY].problem == DAY


def test_fewer_calls_left_this_minute_than_our_bucket_holds_lowers_the_bucket() -> None:
    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)
    burst = LIMITS["xero"].burst
    lease = pacer.acquire("xero", ORG)
    pacer.release("xero", ORG, lease)
    assert store.items[KEY].tokens == burst - 1
    pacer.observe("xero", ORG, minute_remaining=burst + 10)  # more than we hold: nothing to do
    assert store.items[KEY].tokens == burst - 1
    pacer.observe("xero", ORG, minute_remaining=2)  # another Lambda or app spent Xero's minute
    assert store.items[KEY].tokens == 2.0
    sent = []
    for _ in range(3):
        lease = pacer.acquire("xero", ORG)
        pacer.release("xero", ORG, lease)
        sent.append(clock.now)
    assert sent[0] == sent[1] == NOON and sent[2] > NOON  # two at once, the third waited for a token


# ---- several Lambdas observing at once -----------------------------------------------------------------------------
def test_concurrent_observers_keep_the_highest_count_and_lose_no_call() -> None:
    threads = 8
    store, clock = MemoryStore(hold=threads), Clock()
    clock.now += 1_000.0  # the buckets start full: 8 Lambdas x 3 calls spread over the minute budget
    figures = [3_000, 1_200, 4_000, 900, 2_200, 950, 4_800, 1_000]  # what each Lambda's answer said
    errors: list[BaseException] = []
    calls = 3

    def lambda_(figure: int) -> None:
        try:
            pacer = _pacer(store, clock, max_wait=900.0)  # its own cache, as a separate Lambda has
            pacer.observe("xero", ORG, day_remaining=figure)
            for _ in range(calls):
                lease = pacer.acquire("xero", ORG, "/api.xro/2.0/Invoices")
                pacer.release("xero", ORG, lease)
        except BaseException as exc:  # reported below
            errors.append(exc)

    pool = [threading.Thread(target=lambda_, args=(f,)) for f in figures]
    for th in pool:
        th.start()
    for th in pool:
        th.join(30)
    assert not errors, errors
    # Then the count is the lowest figure's, plus the calls made after it was adopted (none lost, none twice)
    used = store.used_today(clock.now)
    floor = PER_DAY - min(figures)
    assert floor <= used <= floor + calls * threads
    assert store.rejected > 0  # the Lambdas did collide: the conditional writes are what kept this right


def test_concurrent_observers_agree_exactly_on_the_day_count() -> None:
    threads = 6
    store, clock = MemoryStore(hold=threads), Clock()
    figures = [2_000, 1_500, 1_000, 3_000, 1_250, 4_000]

    def observe(figure: int) -> None:
        _pacer(store, clock).observe("xero", ORG, day_remaining=figure)

    pool = [threading.Thread(target=observe, args=(f,)) for f in figures]
    for th in pool:
        th.start()
    for th in pool:
        th.join(30)
    assert store.used_today() == PER_DAY - 1_000
    assert store.rejected >= threads - 1  # all read the same version; every write but one had to look again


# ---- both Xero callers report what Xero says ------------------------------------------------------------------------
def _paced(pacer: Pacer, upstream: Any) -> httpx.Client:
    from booksync.providers.http import PacedTransport

    return httpx.Client(transport=PacedTransport("xero", httpx.MockTransport(upstream), pacer=lambda: pacer))


def test_the_sync_adapter_reports_the_headers() -> None:
    from booksync.providers.xero.accounting import XeroAccounting

    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=_headers(300, 12, 9_000), json={"Accounts": []})

    adapter = XeroAccounting(api_base="http://xero.test", http=_paced(pacer, upstream))
    assert adapter.income_accounts(Session(tenant_id=ORG, access_token="at-1")) == []
    assert store.used_today() == PER_DAY - 300
    # 300 left is inside the Sync button's reserve: background work is refused, a click is not
    with pytest.raises(Blocked) as refused:
        pacer.acquire("xero", ORG)
    assert refused.value.problem == DAY
    with interactive_request(25.0, clock):
        lease = pacer.acquire("xero", ORG)
    pacer.release("xero", ORG, lease)


def test_a_429_keeps_its_own_retry_after_whatever_counts_it_carries() -> None:
    from booksync.providers.xero.accounting import XeroAccounting

    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)

    def upstream(request: httpx.Request) -> httpx.Response:
        headers = {"X-Rate-Limit-Problem": "minute", "Retry-After": "9", **_headers(0, 0, 9_000)}
        return httpx.Response(429, headers=headers)

    adapter = XeroAccounting(api_base="http://xero.test", http=_paced(pacer, upstream))
    with pytest.raises(RateLimited) as limited:
        adapter.income_accounts(Session(tenant_id=ORG, access_token="at-1"))
    assert limited.value.retry_after == 9.0
    # Xero named 9 s (its window frees then): not our full minute, and not the rest of the UTC day
    assert store.items[KEY].blocked_until == NOON + 9 and store.items[KEY].problem == MINUTE
    assert store.used_today() == 1


def test_the_importer_reports_the_headers() -> None:
    from booksync.providers.xero.imports import XeroImporter

    store, clock = MemoryStore(), Clock()
    pacer = _pacer(store, clock)

    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=_headers(600, 40, 9_000), json={"Contacts": []})

    importer = XeroImporter(api_base="http://xero.test", http=_paced(pacer, upstream))
    importer.read_kind(Session(tenant_id=ORG, access_token="at-1"), "customer", None, None)
    assert store.used_today() == PER_DAY - 600
    # 600 left is above the Sync button's reserve: background imports go on
    lease = pacer.acquire("xero", ORG)
    pacer.release("xero", ORG, lease)
