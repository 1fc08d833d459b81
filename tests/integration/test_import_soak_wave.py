"""10,000 records per type from Wave (``make soak``): calls per type, an unchanged week, an idempotent re-import.

The books are seeded through the sandbox's own mutation resolvers in-process (``wave_helpers.wave_mutate``, under
its lock): 40,000 objects through the API would take the sandbox's 60-per-minute limit, not the importer, to the test.

Test-only speed-ups, behaviour unchanged:

- while seeding, the sandbox's unique-invoice-number check is off (it compares every number with every other one:
  O(N^2)); the seeded numbers are unique by construction, and the check is back on before the import;
- the sandbox finds an invoice's payments by scanning every payment of the business (O(invoices x payments) per
  invoice page). The test replaces ``_payments_of`` with the same lookup through an index built once after seeding,
  and checks the two agree on a sample first. Nothing is written to the books after seeding, so the index stays right.

Wave's limit (60 requests a minute per token) stays on. A 429 carries ``Retry-After: 30`` here and the import
service's wait moves the sandbox's clock instead of sleeping; refused requests are reported, and the per-type figure
counts the answered ones (a refused request is asked again, it is not a page).
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.test_import_qbo import COMPANY, _record, advance, api, fan_out, stored
from tests.integration.test_import_soak import LambdaClock
from tests.integration.wave_helpers import (
    connect_wave,
    drain,
    seed_wave_books,
    wave_api_calls,
    wave_last_seq,
    wave_sandbox,
    wave_world,
)

pytestmark = [pytest.mark.moto_server, pytest.mark.soak]

N = 10_000
PAGE = 200
KIND_OF = {"ImportCustomers": "customer", "ImportProducts": "item", "ImportInvoices": "invoice"}


# ---- the soak's set-up, also used by bench/run.py (its weekly-import section) -----------------------------------
@contextmanager
def soak_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto + the sandbox, connected as ``COMPANY``; the importer and our pacing keep Wave's (the sandbox's) time."""
    with wave_world() as w:
        w["business"] = connect_wave(COMPANY)
        drain(w["aws"]["sqs"], w["aws"]["queues"]["import"], "import_changes")  # whatever connecting queued
        monkeypatch.setattr("booksync.providers.wave.imports.utcnow", w["sandbox"].core.clock.now)
        from booksync import wiring

        pacer = wiring.rate_pacer()  # BlueClerk's own pacing of provider calls keeps the provider's (sandbox) time
        pacer.clock, pacer.sleep = w["sandbox"].core.clock.timestamp, lambda seconds: advance(w, seconds)
        yield w


def seed_fast(world: dict[str, Any], n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``n`` customers, products, invoices and payments in the books, with the speed-ups of the module doc; the
    sandbox answers a 429 with ``Retry-After: 30`` afterwards."""
    config = f"{world['url']}/_sandbox/wave/config"
    httpx.post(config, json={"unique_invoice_numbers": False}).raise_for_status()
    seed_wave_books(world, world["business"], n, n, n, n)
    httpx.post(config, json={"unique_invoice_numbers": True, "retry_after_on_429": 30}).raise_for_status()
    monkeypatch.setattr(type(wave_sandbox(world)), "_payments_of", _index_payments(world))


def ready_first_run(world: dict[str, Any]) -> None:
    """The books were written an hour before the first run (outside the next run's overlap); our token manager
    follows the sandbox's clock and a Retry-After wait moves it."""
    from booksync import wiring

    advance(world, 3600)
    wiring.token_manager().clock = lambda: world["sandbox"].core.clock.timestamp()
    wiring.import_service().sleep = lambda seconds: advance(world, seconds)


def ready_next_week(world: dict[str, Any]) -> None:
    advance(world, 7 * 86400)


def calls_per_kind(world: dict[str, Any], since: int) -> tuple[Counter[str], int]:
    """Answered calls since ``since`` per kind (payments ride on their invoices), and the refused (429) ones."""
    return answered(world, since)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with soak_world(monkeypatch) as w:
        yield w


def run_weekly(world: dict[str, Any]) -> int:
    """Fan out, then feed ImportChangesFunction one message per invocation (each with a fresh 300 s budget) until
    the queue is empty. Returns the number of invocations."""
    fan_out(world)
    sqs, queue = world["aws"]["sqs"], world["aws"]["queues"]["import"]
    handler = load_function("import_changes")
    invocations = 0
    while True:
        msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, AttributeNames=["All"]).get("Messages", [])
        if not msgs:
            return invocations
        invocations += 1
        resp = handler.lambda_handler({"Records": [_record(sqs, queue, msgs[0])]}, LambdaClock())
        assert resp == {"batchItemFailures": []}, (resp, {k: v for k, v in last_import().items() if "rror" in k})
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=msgs[0]["ReceiptHandle"])


def last_import() -> dict[str, Any]:
    r = invoke(api(), http_event("api/list_integrations.json"))
    return dict(next(i for i in r.body["data"] if i["provider"] == "wave")["health"]["lastImport"])


def answered(world: dict[str, Any], since: int) -> tuple[Counter[str], int]:
    """Answered calls per kind, and the number of refused (429) ones, from the request log + operation record."""
    with world["sandbox"].core.lock:
        ops = {o["seq"]: o["operation"] for o in wave_sandbox(world).operations if o["seq"] > since}
    calls = wave_api_calls(world, since)
    assert all(c["status"] in (200, 429) for c in calls), Counter(c["status"] for c in calls)
    per_kind = Counter(KIND_OF[ops[c["seq"]]] for c in calls if c["status"] == 200)
    return per_kind, sum(1 for c in calls if c["status"] == 429)


def _index_payments(world: dict[str, Any]) -> Any:
    sandbox = wave_sandbox(world)
    original = type(sandbox)._payments_of
    with world["sandbox"].core.lock:
        books = sandbox.businesses[world["business"]]
        by_invoice: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for p in books.payments.values():
            by_invoice[p["_invoice"]].append(p)
        sample = random.Random(7).sample(sorted(books.invoices), 25)

    def indexed(biz: Any, inv: dict[str, Any]) -> list[dict[str, Any]]:
        return list(by_invoice.get(inv["id"], []))

    with world["sandbox"].core.lock:
        for invoice_id in sample:
            inv = books.invoices[invoice_id]
            assert indexed(books, inv) == original(books, inv), invoice_id
    return staticmethod(indexed)


@pytest.mark.timeout(3600)
def test_ten_thousand_records_per_type(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    t0 = time.monotonic()
    seed_fast(world, N, monkeypatch)
    seeded = time.monotonic()
    ready_first_run(world)
    since = wave_last_seq(world)
    # When the first weekly run imports everything (in as many 300 s invocations as it needs)
    invocations = run_weekly(world)
    imported = time.monotonic()
    per_kind, refused = answered(world, since)
    # Then each type cost exactly ceil(N / 200) answered calls; payments came inside their invoices
    assert per_kind == dict.fromkeys(("customer", "item", "invoice"), math.ceil(N / PAGE)), per_kind
    run = last_import()
    assert run["status"] == "succeeded" and run["calls"] == 3 * math.ceil(N / PAGE) and run["pages"] == run["calls"]
    assert {k: v["created"] for k, v in run["counts"].items()} == dict.fromkeys(
        ("customer", "item", "invoice", "payment"), N
    ), run["counts"]
    assert run["errorCount"] == 0
    assert len(stored("customer")) == N and len(stored("item")) == N
    # When a week passes with nothing changed: one call per type, nothing read
    ready_next_week(world)
    since = wave_last_seq(world)
    assert run_weekly(world) == 1
    unchanged_week, refused_week = answered(world, since)
    assert unchanged_week == dict.fromkeys(("customer", "item", "invoice"), 1) and refused_week == 0
    run = last_import()
    assert run["calls"] == 3 and all(v["read"] == 0 for v in run["counts"].values()), run["counts"]
    # When every customer is imported again by hand: ceil(N / 200) calls, every one unchanged
    advance(world, 120)
    since = wave_last_seq(world)
    again = invoke(api(), http_event("api/list_integrations.json", method="POST", path="/customers/import"))
    assert again.status == 200, again.body
    if again.body["status"] == "continuing":  # the API's budget ran out: the queue finished the run
        drain(world["aws"]["sqs"], world["aws"]["queues"]["import"], "import_changes")
        run = last_import()
        assert run["status"] == "succeeded"
        unchanged, created = run["counts"]["customer"]["unchanged"], run["counts"]["customer"]["created"]
    else:
        unchanged, created = again.body["unchanged"], again.body["created"]
    assert (unchanged, created) == (N, 0)
    manual, refused_manual = answered(world, since)
    assert manual == {"customer": math.ceil(N / PAGE)}, manual
    print(  # the measured figures, for the report
        f"\nsoak wave: seeded {4 * N} objects in {seeded - t0:.0f} s; first import {imported - seeded:.0f} s in "
        f"{invocations} invocation(s); answered calls {dict(per_kind)} (+{refused} refused with 429); "
        f"unchanged week {sum(unchanged_week.values())} calls; manual customer re-import {manual['customer']} calls "
        f"(+{refused_manual} refused)"
    )
