"""2. Sync storm per provider: 20 concurrent Sync/Resync clicks plus queue redeliveries of each payment, round after
round, then the queues drained -> exactly one provider invoice per BlueClerk invoice and one provider payment per
BlueClerk payment. Short: 2 rounds; soak: 20 rounds."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from tests.reliability.conftest import Record
from tests.reliability.worlds import PROVIDERS, ProviderWorld

pytestmark = [pytest.mark.moto_server, pytest.mark.parametrize("provider", PROVIDERS)]

CLICKS = 20
RETRYABLE = ("in_progress", "provider_unavailable")  # another pusher holds it / a provider concurrency limit


def _round(world: ProviderWorld, errors: Counter[str]) -> None:
    from booksync import wiring

    invoice = world.new_invoice()
    payments = [world.pay(invoice["id"], "100.00")["id"], world.pay(invoice["id"], "50.00")["id"]]
    service = wiring.sync_service()
    redeliveries = payments * 2
    barrier = threading.Barrier(CLICKS + len(redeliveries))
    lock = threading.Lock()

    def guarded(fn: object, *args: str) -> None:
        barrier.wait()
        try:
            fn(*args)  # type: ignore[operator]
        except BaseException as exc:  # counted by code; anything but a retryable refusal fails the round
            with lock:
                errors[getattr(exc, "code", type(exc).__name__)] += 1

    threads = [threading.Thread(target=guarded, args=(service.sync_now, "co_a", invoice["id"])) for _ in range(CLICKS)]
    threads += [
        threading.Thread(target=guarded, args=(service.handle_payment_message, "co_a", invoice["id"], p))
        for p in redeliveries
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    world.drain_all()
    for _ in range(3):  # whatever a refused call left behind is pushed by the next click
        if world.resync(invoice["id"]).status == 200:
            break
    detail = world.invoice(invoice["id"])
    assert detail["providerIds"].get(world.name), detail
    assert all(p["providerIds"].get(world.name) for p in detail["payments"]), detail["payments"]


def _run(world: ProviderWorld, record: Record, rounds: int) -> None:
    errors: Counter[str] = Counter()
    for n in range(1, rounds + 1):
        _round(world, errors)
        counts = world.counts()
        # Then the books hold one invoice per round and one payment per BlueClerk payment: no duplicate
        assert (counts["invoice"], counts["payment"]) == (n, 2 * n), f"round {n}: {counts}"
        assert (counts["customer"], counts["item"]) == (0, 0), counts  # pushed when seeded: never again
    counts = world.counts()
    record("sync_storm", world.name, rounds=rounds, concurrent_calls=CLICKS + 4, blueclerk_invoices=rounds,
           blueclerk_payments=2 * rounds, provider_invoices=counts["invoice"], provider_payments=counts["payment"],
           provider_customers=counts["customer"], provider_items=counts["item"],
           duplicates=counts["invoice"] - rounds + counts["payment"] - 2 * rounds,
           refused_retryable=sum(errors[c] for c in RETRYABLE),
           other_errors=sum(v for k, v in errors.items() if k not in RETRYABLE))  # fmt: skip
    assert set(errors) <= set(RETRYABLE), errors


def test_sync_storm_one_object_per_blueclerk_object(world: ProviderWorld, record: Record) -> None:
    _run(world, record, rounds=2)


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_sync_storm_soak(world: ProviderWorld, record: Record) -> None:
    _run(world, record, rounds=20)
