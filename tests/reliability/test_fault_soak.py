"""4. Fault soak per provider: a fifth of the provider's data-API calls fail (500, 503, a real client timeout, 429
with Retry-After) while queued syncs run -> every entity ends synced, or in the DLQ with exactly one notification;
0 lost, 0 duplicated. A sync is one queued push (an invoice's, or a payment's). Short: 20 syncs; soak: 500."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.reliability.conftest import Record
from tests.reliability.worlds import PROVIDERS, ProviderWorld

pytestmark = [pytest.mark.moto_server, pytest.mark.parametrize("provider", PROVIDERS)]

SHARE = 0.2
FAULTS: list[dict[str, Any]] = [
    {"mode": "status", "status": 500},
    {"mode": "status", "status": 503},
    {"mode": "timeout", "seconds": 1.0},  # the client gives up after 0.5 s (PROVIDER_TIMEOUT_SECONDS)
    {"mode": "status", "status": 429, "retry_after": 1},
]


class FaultFeed:
    """Keeps the injected share of data-API calls at ``SHARE``: one-shot rules added as the calls come."""

    def __init__(self, world: ProviderWorld) -> None:
        self.world = world
        self.api = re.compile(re.escape(world.spec.api_path))
        self.last_seq = 0
        self.calls = 0
        self.faulted = 0
        self.injected: Counter[str] = Counter()

    def observe(self) -> None:
        import httpx

        r = httpx.get(f"{self.world.url}/_sandbox/requests", params={"provider": self.world.name,
                                                                     "since": str(self.last_seq)})  # fmt: skip
        body = r.json()
        for e in body["requests"]:
            if self.api.search(e["path"]) and e["outcome"] != "throttled_rate":
                self.calls += 1
                self.faulted += 1 if e["fault"] else 0
        self.last_seq = max(self.last_seq, int(body["last_seq"]))

    def top_up(self) -> None:
        self.observe()
        want = int(SHARE * (self.calls + 8)) - self.faulted - self.world.pending_faults()
        for _ in range(max(0, want)):
            spec = FAULTS[sum(self.injected.values()) % len(FAULTS)]
            self.world.api_fault(count=1, **spec)
            self.injected[f"{spec['mode']}:{spec.get('status', '')}"] += 1


def _run(world: ProviderWorld, record: Record, syncs: int) -> None:
    invoices = [world.new_invoice() for _ in range(syncs // 2)]  # each queued for its push
    payments = {inv["id"]: world.pay(inv["id"], "350.00")["id"] for inv in invoices}  # each queued too
    feed = FaultFeed(world)
    deliveries = failed = 0
    for _ in range(50 * syncs):
        feed.top_up()
        moved = 0
        for queue, function in (("invoice-sync", "sync_invoice"), ("payment-sync", "sync_payments")):
            n, f = world.deliver(queue, function, batch=1)  # one at a time: the share is kept call by call
            feed.top_up()
            moved, deliveries, failed = moved + n, deliveries + n, failed + f
        if not moved:
            break
    feed.observe()
    world.clear_faults()
    drained = world.drain_all()  # the DLQs to the notifier (and anything left, without faults)
    # Then every entity is synced, or dead-lettered with exactly one notification
    notes = world.notifications()["data"]
    per_entity = Counter((n["entityType"], n["entityId"]) for n in notes)
    synced_inv = synced_pay = lost = 0
    for inv in invoices:
        detail = world.invoice(inv["id"])
        inv_ok = bool(detail["providerIds"].get(world.name))
        synced_inv += inv_ok
        if not inv_ok and per_entity[("invoice", inv["id"])] != 1:
            lost += 1
        for p in detail["payments"]:
            ok = bool(p["providerIds"].get(world.name))
            synced_pay += ok
            if not ok and per_entity[("payment", p["id"])] != 1 and per_entity[("invoice", inv["id"])] != 1:
                lost += 1
    counts = world.counts()
    duplicated = max(0, counts["invoice"] - synced_inv) + max(0, counts["payment"] - synced_pay)
    duplicate_notes = sum(n - 1 for n in per_entity.values() if n > 1)
    record("fault_soak", world.name, syncs=len(invoices) + len(payments), provider_calls=feed.calls,
           failed_calls=feed.faulted, failed_share=round(feed.faulted / max(feed.calls, 1), 3),
           injected=dict(feed.injected), deliveries=deliveries, failed_deliveries=failed,
           retry_after_waits=sum(1 for s in world.sleeps if s >= 1), synced_invoices=synced_inv,
           synced_payments=synced_pay, dlq=drained["dead_lettered"], notifications=len(notes),
           duplicate_notifications=duplicate_notes, lost=lost, duplicated=duplicated)  # fmt: skip
    assert feed.faulted >= SHARE * feed.calls * 0.8, (feed.faulted, feed.calls)
    assert lost == 0 and duplicated == 0 and duplicate_notes == 0
    assert (counts["invoice"], counts["payment"]) == (synced_inv, synced_pay)
    assert (counts["customer"], counts["item"]) == (0, 0)


@pytest.fixture
def short_timeouts(world: ProviderWorld, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The client gives up after 0.5 s during the soak (so a `timeout` fault is a real client timeout, quickly);
    the world was connected and seeded with the normal timeout, which a loaded machine can need."""
    from booksync.config import get_settings
    from booksync.providers import http

    monkeypatch.setenv("PROVIDER_TIMEOUT_SECONDS", "0.5")
    get_settings.cache_clear()
    http.client.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()
    http.client.cache_clear()


def test_fault_soak_nothing_lost_nothing_duplicated(world: ProviderWorld, record: Record, short_timeouts: None) -> None:
    _run(world, record, syncs=20)


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_fault_soak_500_syncs(world: ProviderWorld, record: Record, short_timeouts: None) -> None:
    _run(world, record, syncs=500)
