"""10,000 records per type from FreshBooks (``make soak``): calls per type, an unchanged week, an idempotent re-import.

The books are seeded through the sandbox's in-process core (its own create methods, under its lock): 40,000 objects
through the API would take the sandbox's rate limit (300 requests a minute), not the importer, to the test. The
sandbox pages at FreshBooks' real cap (100 per page).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.helpers import http_event, invoke
from tests.integration.freshbooks_helpers import (
    PROVIDER,
    connect_freshbooks,
    drain,
    freshbooks_world,
    last_seq,
    list_calls,
)
from tests.integration.test_import_freshbooks import PLURAL, last_run, seed_books
from tests.integration.test_import_qbo import COMPANY, advance, api, sandbox_now, stored
from tests.integration.test_import_soak import run_weekly

pytestmark = [pytest.mark.moto_server, pytest.mark.soak]

N = 10_000
PAGE = 100  # FreshBooks' per_page cap


# ---- the soak's set-up, also used by bench/run.py (its weekly-import section) -----------------------------------
@contextmanager
def soak_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto + the sandbox, connected as ``COMPANY``."""
    with freshbooks_world() as w:
        w["account"] = connect_freshbooks(COMPANY)
        yield w


def seed_fast(world: dict[str, Any], n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``n`` clients, items, invoices and payments in the books (the sandbox's own create methods, in-process)."""
    seed_books(world, n, n, n, n)


def ready_first_run(world: dict[str, Any]) -> None:
    """The books were written days before the first run (``updated_min`` is day-granular)."""
    advance(world, 3 * 86400)
    follow_sandbox_clock(world)


def ready_next_week(world: dict[str, Any]) -> None:
    advance(world, 7 * 86400)
    follow_sandbox_clock(world)


def calls_per_kind(world: dict[str, Any], since: int) -> tuple[Counter[str], int]:
    """Answered list calls since ``since`` per kind (clients, items, invoices, payments), and the refused ones."""
    calls = list_calls(world["url"], since)
    throttled = sum(1 for c in calls if c["outcome"].startswith("throttled"))
    return Counter(c["kind"] for c in calls if c["status"] == 200), throttled


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with soak_world(monkeypatch) as w:
        yield w


def follow_sandbox_clock(world: dict[str, Any]) -> None:
    """BlueClerk's clocks follow the sandbox's (a real week passes for both): the token manager's, and the importer's
    (FreshBooks answers carry no server time: the importer's clock sets the next run's watermark)."""
    from booksync import providers, wiring

    offset = sandbox_now(world) - datetime.now(UTC)
    providers.importer(PROVIDER).clock = lambda: datetime.now(UTC) + offset
    wiring.token_manager().clock = lambda: (datetime.now(UTC) + offset).timestamp()


@pytest.mark.timeout(5400)
def test_ten_thousand_records_per_type(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    t0 = time.monotonic()
    seed_fast(world, N, monkeypatch)
    seeded = time.monotonic()
    ready_first_run(world)
    since = last_seq(world["url"])
    # When the first weekly run imports everything (in as many 300 s invocations as it needs)
    invocations = run_weekly(world)
    imported = time.monotonic()
    calls = list_calls(world["url"], since)
    ok = [c for c in calls if c["status"] == 200]
    throttled = [c for c in calls if c["outcome"].startswith("throttled")]
    # Then each type cost exactly ceil(N / 100) calls, pages 1..100 once each, and no empty page was asked for
    per_type = Counter(c["kind"] for c in ok)
    assert per_type == dict.fromkeys(PLURAL.values(), math.ceil(N / PAGE)), per_type
    for kind in PLURAL.values():
        assert sorted(int(c["params"]["page"]) for c in ok if c["kind"] == kind) == list(range(1, N // PAGE + 1))
    assert len(calls) == len(ok) + len(throttled), Counter((c["kind"], c["status"]) for c in calls)
    run = last_run()
    assert run["status"] == "succeeded" and run["calls"] == 4 * math.ceil(N / PAGE) == run["pages"]
    assert {k: v["created"] for k, v in run["counts"].items()} == dict.fromkeys(PLURAL, N)
    assert run["errorCount"] == 0
    assert len(stored("customer")) == N and len(stored("item")) == N
    # When a week passes with nothing changed: one call per type, nothing read or written
    ready_next_week(world)
    since = last_seq(world["url"])
    assert run_weekly(world) == 1
    week = [(c["kind"], c["params"]["page"]) for c in list_calls(world["url"], since)]
    assert week == [(kind, "1") for kind in PLURAL.values()], week
    run = last_run()
    assert run["calls"] == 4 and all(v["read"] == v["created"] == v["updated"] == 0 for v in run["counts"].values())
    # When every customer is imported again by hand: ceil(N / 100) calls, every one unchanged
    since = last_seq(world["url"])
    again = invoke(api(), http_event("api/list_integrations.json", method="POST", path="/customers/import"))
    assert again.status == 200, again.body
    if again.body["status"] == "continuing":  # the API's 20 s budget ran out: the queue finished the run
        drain(world["aws"]["sqs"], world["aws"]["queues"]["import"], "import_changes", rounds=200)
        run = last_run()
        assert run["status"] == "succeeded"
        unchanged, created = run["counts"]["customer"]["unchanged"], run["counts"]["customer"]["created"]
    else:
        unchanged, created = again.body["unchanged"], again.body["created"]
    assert (unchanged, created) == (N, 0)
    manual = [c for c in list_calls(world["url"], since) if c["status"] == 200]
    assert len(manual) == math.ceil(N / PAGE)
    print(  # the measured figures, for the report
        f"\nsoak freshbooks: seeded {4 * N} objects in {seeded - t0:.0f} s; first import {imported - seeded:.0f} s "
        f"in {invocations} invocation(s); provider calls {len(ok)} (+{len(throttled)} throttled) / 4 / {len(manual)}"
    )
