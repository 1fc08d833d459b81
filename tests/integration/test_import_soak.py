"""10,000 records per type from QuickBooks (``make soak``): calls per type, an unchanged week, an idempotent re-import.

The books are seeded through the sandbox's in-process core (``SandboxServer.core``, under its lock): 40,000 objects
through the API would take the sandbox's rate limits, not the importer, to the test.

One test-only speed-up, behaviour unchanged: the sandbox renders every customer's ``Balance`` by summing all
invoices and payments of the realm (O(customers x transactions): a 1000-row customer page took 86 s at this size).
The test replaces that method with the same sum over an index built once after seeding, and checks the two agree on
a sample before relying on it. Nothing is written to the books after seeding, so the index stays right.
"""

from __future__ import annotations

import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest

from tests.helpers import LambdaContext, http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.qbo_helpers import connect_quickbooks, qbo_world
from tests.integration.test_import_qbo import (
    COMPANY,
    _record,
    advance,
    api,
    api_calls,
    describe,
    fan_out,
    integration,
    last_seq,
    qbo,
    sandbox_now,
    seed_books,
    stored,
)

pytestmark = [pytest.mark.moto_server, pytest.mark.soak]

N = 10_000


class LambdaClock(LambdaContext):
    """ImportChangesFunction's real budget: 300 s from the start of each invocation."""

    def __init__(self, timeout_ms: int = 300_000) -> None:
        super().__init__()
        self.deadline = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def run_weekly(world: dict[str, Any]) -> int:
    """Fan out, then feed ImportChangesFunction one message per invocation (each with a fresh 300 s budget) until
    the queue is empty. Returns the number of invocations (a run that nears the limit continues in the next)."""
    fan_out(world)
    sqs, queue = world["aws"]["sqs"], world["aws"]["queues"]["import"]
    handler = load_function("import_changes").lambda_handler
    invocations = 0
    while True:
        msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1, AttributeNames=["All"]).get("Messages", [])
        if not msgs:
            return invocations
        invocations += 1
        resp = handler({"Records": [_record(sqs, queue, msgs[0])]}, LambdaClock())
        assert resp == {"batchItemFailures": []}, resp
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=msgs[0]["ReceiptHandle"])


# ---- the soak's set-up, also used by bench/run.py (its weekly-import section) -----------------------------------
@contextmanager
def soak_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto + the sandbox, connected as ``COMPANY``."""
    with qbo_world() as w:
        w["realm"] = connect_quickbooks(COMPANY)
        yield w


def seed_fast(world: dict[str, Any], n: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """``n`` customers, items, invoices and payments in the books, with the balance index (see the module doc)."""
    seed_books(world, n, n, n, n)
    monkeypatch.setattr(type(qbo(world)), "customer_balance", _index_balances(world))


def ready_first_run(world: dict[str, Any]) -> None:
    """The books were written an hour before the first run (outside the next run's overlap); our token manager
    follows the sandbox's clock."""
    from booksync import wiring

    advance(world, 3600)
    wiring.token_manager().clock = lambda: sandbox_now(world).timestamp()


def ready_next_week(world: dict[str, Any]) -> None:
    advance(world, 7 * 86400)


def calls_per_kind(world: dict[str, Any], since: int) -> tuple[Counter[str], int]:
    """Accounting calls since ``since`` per kind (a batch's first pages count as one call of kind ``batch``), and how
    many of them the sandbox refused (429)."""
    calls = api_calls(world, since)
    kinds = Counter(describe(c).split(" ")[1] for c in calls)  # "query Customer 1001" / "POST batch" / "GET cdc"
    return kinds, sum(1 for c in calls if c.get("status") == 429)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with soak_world(monkeypatch) as w:
        yield w


def _index_balances(world: dict[str, Any]) -> Any:
    sandbox = qbo(world)
    original = type(sandbox).customer_balance
    with world["sandbox"].core.lock:
        realm = sandbox.realms[world["realm"]]
        owed: dict[str, Decimal] = defaultdict(Decimal)
        credit: dict[str, Decimal] = defaultdict(Decimal)
        for inv in realm.entities["Invoice"].values():
            owed[inv["CustomerRef"]["value"]] += sandbox.invoice_balance(realm, inv)
        for pay in realm.entities["Payment"].values():
            credit[pay["CustomerRef"]["value"]] += sandbox.payment_unapplied(pay)
        sample = random.Random(7).sample(sorted(realm.entities["Customer"]), 25)

    def indexed(self: Any, realm: Any, customer_id: str) -> Decimal:
        from local.sandbox.quickbooks import money

        return money(owed.get(customer_id, Decimal(0)) - credit.get(customer_id, Decimal(0)))

    with world["sandbox"].core.lock:
        for cid in sample:
            assert indexed(sandbox, realm, cid) == original(sandbox, realm, cid), cid
    return indexed


@pytest.mark.timeout(3600)
def test_ten_thousand_records_per_type(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    t0 = time.monotonic()
    seed_fast(world, N, monkeypatch)
    seeded = time.monotonic()
    ready_first_run(world)
    since = last_seq(world)
    # When the first weekly run imports everything (in as many 300 s invocations as it needs)
    invocations = run_weekly(world)
    imported = time.monotonic()
    calls = api_calls(world, since)
    per_type = Counter(describe(c).split(" ")[1] for c in calls if c["method"] == "GET")
    # Then each type cost exactly ceil(N / 1000) calls: one batch (count + first page) and nine more pages
    assert len(calls) == 4 * math.ceil(N / 1000), Counter(describe(c) for c in calls)
    assert per_type == dict.fromkeys(("Customer", "Item", "Invoice", "Payment"), math.ceil(N / 1000) - 1)
    assert Counter(describe(c) for c in calls if c["method"] == "POST") == {"POST batch": 4}
    run = integration()["health"]["lastImport"]
    assert run["status"] == "succeeded" and run["calls"] == 4 * math.ceil(N / 1000) == run["pages"]
    assert run["durationMs"] > 0
    assert {k: v["created"] for k, v in run["counts"].items()} == dict.fromkeys(
        ("customer", "item", "invoice", "payment"), N
    )
    assert run["errorCount"] == 0
    assert len(stored("customer")) == N and len(stored("item")) == N
    # When a week passes with nothing changed: one CDC call, nothing written
    ready_next_week(world)
    since = last_seq(world)
    assert run_weekly(world) == 1
    assert [describe(c) for c in api_calls(world, since)] == ["GET cdc"]
    run = integration()["health"]["lastImport"]
    assert run["calls"] == 1 and all(v["created"] == v["updated"] == 0 for v in run["counts"].values())
    # When every customer is imported again by hand: ten calls, every one unchanged
    since = last_seq(world)
    again = invoke(api(), http_event("api/list_integrations.json", method="POST", path="/customers/import"))
    assert again.status == 200, again.body
    if again.body["status"] == "continuing":  # the API's 20 s budget ran out: the queue finished the run
        from tests.integration.qbo_helpers import drain

        drain(world["aws"]["sqs"], world["aws"]["queues"]["import"], "import_changes")
        run = integration()["health"]["lastImport"]
        assert run["status"] == "succeeded"
        unchanged, created = run["counts"]["customer"]["unchanged"], run["counts"]["customer"]["created"]
    else:
        unchanged, created = again.body["unchanged"], again.body["created"]
    assert (unchanged, created) == (N, 0)
    assert len(api_calls(world, since)) == math.ceil(N / 1000)
    print(  # the measured figures, for the report
        f"\nsoak: seeded {4 * N} objects in {seeded - t0:.0f} s; first import {imported - seeded:.0f} s "
        f"in {invocations} invocation(s); provider calls {4 * math.ceil(N / 1000)} / 1 / {math.ceil(N / 1000)}"
    )
