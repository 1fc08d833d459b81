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
from typing import Any
from urllib.parse import parse_qs

import pytest

from local.sandbox.xero_books import Books
from tests.helpers import http_event, invoke
from tests.integration.qbo_helpers import drain
from tests.integration.test_import_qbo import COMPANY, advance, api, sandbox_now, stored
from tests.integration.test_import_soak import run_weekly
from tests.integration.test_import_xero import describe, integration, seed_books
from tests.integration.xero_helpers import connect_xero, record, xero_api_calls, xero_last_seq, xero_world

pytestmark = [pytest.mark.moto_server, pytest.mark.soak]

N = 10_000
PAGE = 1000


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with xero_world() as w:
        w["tenant"] = connect_xero(COMPANY)
        drain(w["aws"]["sqs"], w["aws"]["queues"]["import"], "import_changes")  # a connect's backfill run, if any
        record(w["url"], on=False)
        yield w


def _seed_fast(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, list[dict[str, Any]]]:
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
        made = seed_books(world, N, N, N, N)
    # the real checks agree with the seeded data (spot check, with the original methods back)
    sandbox = world["sandbox"].core.providers["xero"]
    with world["sandbox"].core.lock:
        org = sandbox.orgs[world["tenant"]]
        assert sandbox.books.item_by_code(org, made["Items"][-1]["Code"])["ItemID"] == made["Items"][-1]["ItemID"]
        assert len({c["Name"].casefold() for c in org.contacts.values()}) == N
        assert len({i["InvoiceNumber"].casefold() for i in org.invoices.values()}) == N
    return made


@pytest.mark.timeout(3600)
def test_ten_thousand_records_per_type(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    t0 = time.monotonic()
    _seed_fast(world, monkeypatch)
    seeded = time.monotonic()
    advance(world, 3600)  # the books were written an hour before the first run (outside the next run's overlap)
    since = xero_last_seq(world["url"])
    # When the first weekly run imports everything (in as many 300 s invocations as it needs)
    from booksync import wiring

    wiring.token_manager().clock = lambda: sandbox_now(world).timestamp()
    invocations = run_weekly(world)
    imported = time.monotonic()
    calls = xero_api_calls(world["url"], since)
    per_type = Counter(describe(c).split(" ")[0] for c in calls)
    # Then each paged type cost exactly ceil(N / 1000) calls (no empty last page) and Items (not paged) one
    assert per_type == {"Contacts": math.ceil(N / PAGE), "Items": 1, "Invoices": 10, "Payments": 10}, per_type
    assert len(calls) == 3 * math.ceil(N / PAGE) + 1 == 31
    assert all(c["status"] == 200 for c in calls), Counter(c["status"] for c in calls)
    assert all(parse_qs(c["query"])["pageSize"] == ["1000"] for c in calls if "page=" in c["query"])
    run = integration()["health"]["lastImport"]
    assert run["status"] == "succeeded" and run["calls"] == 31 and run["pages"] == 31
    assert {k: v["created"] for k, v in run["counts"].items()} == dict.fromkeys(
        ("customer", "item", "invoice", "payment"), N
    )
    assert run["errorCount"] == 0
    assert len(stored("customer")) == N and len(stored("item")) == N
    # When a week passes with nothing changed: one call per type, nothing written
    advance(world, 7 * 86400)
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
        f"in {invocations} invocation(s); provider calls 31 / 4 / {math.ceil(N / PAGE)}"
    )
