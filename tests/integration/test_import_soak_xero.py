"""10,000 records per type from Xero (``make soak``): calls per type, an unchanged week, an idempotent re-import.

The books are seeded through the sandbox's in-process ``Books`` (under its lock): 40,000 objects through the API
would take Xero's 60 calls a minute, not the importer, to the test.

Test-only speed-ups, behaviour unchanged: the sandbox's uniqueness checks scan every contact / item / invoice
(O(N) per write, O(N²) for the seeding); while seeding, names, codes and numbers are unique by construction, so the
scans are replaced by an index (item codes, which invoice lines resolve) or skipped (name and number clashes), and
put back before the import. The exchange recorder (spec check) is off: its per-field pass over 31 answers of 1,000
records is the checker's cost, not the importer's; the same requests are spec-checked in test_import_xero.py.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

import pytest

from local.sandbox.xero_books import Books
from tests.helpers import http_event, invoke
from tests.integration.qbo_helpers import drain
from tests.integration.test_import_qbo import COMPANY, api, stored
from tests.integration.test_import_soak import ready_first_run, ready_next_week, run_weekly
from tests.integration.test_import_xero import describe, integration, seed_books
from tests.integration.xero_helpers import connect_xero, record, xero_api_calls, xero_last_seq, xero_world

pytestmark = [pytest.mark.moto_server, pytest.mark.soak]

N = 10_000
PAGE = 1000


# ---- the soak's set-up, also used by bench/run.py (its weekly-import section) -----------------------------------
@contextmanager
def soak_world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto + the sandbox, connected as ``COMPANY``, the exchange recorder off (see the module doc)."""
    with xero_world() as w:
        w["tenant"] = connect_xero(COMPANY)
        drain(w["aws"]["sqs"], w["aws"]["queues"]["import"], "import_changes")  # a connect's backfill run, if any
        record(w["url"], on=False)
        yield w


def calls_per_kind(world: dict[str, Any], since: int) -> tuple[Counter[str], int]:
    """Accounting calls since ``since`` per resource (Contacts, Items, Invoices, Payments), and the refused ones."""
    calls = xero_api_calls(world["url"], since)
    return Counter(describe(c).split(" ")[0] for c in calls), sum(1 for c in calls if c["status"] == 429)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with soak_world(monkeypatch) as w:
        yield w


def seed_fast(world: dict[str, Any], n: int, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
    """``n`` contacts, items, invoices and payments in the books, the uniqueness scans indexed (see the module doc)."""
    codes: dict[str, dict[str, Any]] = {}
    original = Books.write_item

    def write_item(self: Books, org: Any, el: dict[str, Any], mode: str, *args: Any, **kw: Any) -> dict[str, Any]:
        row = original(self, org, el, mode, *args, **kw)
        codes[row["Code"].casefold()] = row
        return row

    with monkeypatch.context() as m:
        m.setattr(Books, "_name_taken", lambda self, org, name, own_id: False)
        m.setattr(Books, "invoice_number_taken", lambda self, org, number, own_id: False)
        m.setattr(Books, "item_by_code", lambda self, org, code: codes.get(code.strip().casefold()))
        m.setattr(Books, "write_item", write_item)
        made = seed_books(world, n, n, n, n)
    # the real checks agree with the seeded data (spot check, with the original methods back)
    sandbox = world["sandbox"].core.providers["xero"]
    with world["sandbox"].core.lock:
        org = sandbox.orgs[world["tenant"]]
        assert sandbox.books.item_by_code(org, made["Items"][-1]["Code"])["ItemID"] == made["Items"][-1]["ItemID"]
        assert len({c["Name"].casefold() for c in org.contacts.values()}) == n
        assert len({i["InvoiceNumber"].casefold() for i in org.invoices.values()}) == n
    return made


@pytest.mark.timeout(3600)
def test_ten_thousand_records_per_type(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    t0 = time.monotonic()
    seed_fast(world, N, monkeypatch)
    seeded = time.monotonic()
    ready_first_run(world)
    since = xero_last_seq(world["url"])
    # When the first weekly run imports everything (in as many 300 s invocations as it needs)
    invocations = run_weekly(world)
    imported = time.monotonic()
    calls = xero_api_calls(world["url"], since)
    per_type = Counter(describe(c).split(" ")[0] for c in calls)
    # Then each paged type cost exactly ceil(N / 1000) calls (no empty last page) and Items (not paged) one
    assert per_type == {"Contacts": math.ceil(N / PAGE), "Items": 1} | dict.fromkeys(
        ("Invoices", "Payments"), math.ceil(N / PAGE)
    ), per_type
    assert len(calls) == 3 * math.ceil(N / PAGE) + 1
    assert all(c["status"] == 200 for c in calls), Counter(c["status"] for c in calls)
    assert all(parse_qs(c["query"])["pageSize"] == ["1000"] for c in calls if "page=" in c["query"])
    run = integration()["health"]["lastImport"]
    assert run["status"] == "succeeded" and run["calls"] == 3 * math.ceil(N / PAGE) + 1 == run["pages"]
    assert {k: v["created"] for k, v in run["counts"].items()} == dict.fromkeys(
        ("customer", "item", "invoice", "payment"), N
    )
    assert run["errorCount"] == 0
    assert len(stored("customer")) == N and len(stored("item")) == N
    # When a week passes with nothing changed: one call per type, nothing written
    ready_next_week(world)
    since = xero_last_seq(world["url"])
    assert run_weekly(world) == 1
    assert [describe(c) for c in xero_api_calls(world["url"], since)] == [
        "Contacts p1",
        "Items",
        "Invoices p1",
        "Payments p1",
    ]
    run = integration()["health"]["lastImport"]
    assert run["calls"] == 4 and all(v["created"] == v["updated"] == 0 for v in run["counts"].values())
    # When every customer is imported again by hand: ten calls, every one unchanged
    since = xero_last_seq(world["url"])
    again = invoke(api(), http_event("api/list_integrations.json", method="POST", path="/customers/import"))
    assert again.status == 200, again.body
    if again.body["status"] == "continuing":  # the API's budget ran out: the queue finished the run
        drain(world["aws"]["sqs"], world["aws"]["queues"]["import"], "import_changes")
        run = integration()["health"]["lastImport"]
        assert run["status"] == "succeeded"
        unchanged, created = run["counts"]["customer"]["unchanged"], run["counts"]["customer"]["created"]
    else:
        unchanged, created = again.body["unchanged"], again.body["created"]
    assert (unchanged, created) == (N, 0)
    assert len(xero_api_calls(world["url"], since)) == math.ceil(N / PAGE)
    print(  # the measured figures, for the report
        f"\nxero soak: seeded {4 * N} objects in {seeded - t0:.0f} s; first import {imported - seeded:.0f} s "
        f"in {invocations} invocation(s); provider calls {len(calls)} / 4 / {math.ceil(N / PAGE)}"
    )
