"""Imports from FreshBooks end to end: handlers in-process, moto server and the FreshBooks sandbox over real HTTP.

The books are seeded through the sandbox's in-process core (its own create methods, under its lock). Every provider
call the importer makes is read back from the sandbox's request log (``/_sandbox/requests``).

FreshBooks pages at most 100 records; to page small lists the tests lower the sandbox's silent ``per_page`` cap
(control-plane knob ``max_per_page``): the importer still asks for 100 and must follow the answer's ``pages``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.helpers import LambdaContext, http_event, invoke
from tests.integration.freshbooks_helpers import (
    PROVIDER,
    configure,
    connect_freshbooks,
    drain,
    fb_seed,
    fb_update,
    freshbooks_world,
    last_seq,
    list_calls,
    map_default_income_account,
    notifications,
    pay,
    send,
    tenant,
)
from tests.integration.test_api_flow import _setup_invoice
from tests.integration.test_import_qbo import (
    COMPANY,
    ScriptedContext,
    advance,
    api,
    fan_out,
    history,
    list_all,
    post_import,
    sandbox_now,
    stored,
)
from tests.integration.test_import_qbo import weekly as qbo_weekly

pytestmark = pytest.mark.moto_server

DAY = 86400
PLURAL = {"customer": "clients", "item": "items", "invoice": "invoices", "payment": "payments"}


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with freshbooks_world() as w:
        w["account"] = connect_freshbooks(COMPANY)
        yield w


# ---- helpers -----------------------------------------------------------------------------------------------------
def seed_books(
    world: dict[str, Any], clients: int, items: int, invoices: int, payments: int, prefix: str = ""
) -> dict[str, list[dict[str, Any]]]:
    account = world["account"]
    made: dict[str, list[dict[str, Any]]] = {}
    made["client"] = fb_seed(
        world,
        account,
        "client",
        [
            {
                "organization": f"{prefix}Client {i:05d}",
                "fname": "Pat",
                "lname": f"Doe{i}",
                "email": f"client{i}@example.com",
                "p_street": f"{i} Oak Lane",
                "p_city": "Springfield",
            }
            for i in range(clients)
        ],
    )
    made["item"] = fb_seed(
        world,
        account,
        "item",
        [
            {"name": f"{prefix}Service {i:05d}", "unit_cost": {"amount": f"{10 + i % 7}.00", "code": "USD"}}
            for i in range(items)
        ],
    )
    made["invoice"] = fb_seed(
        world,
        account,
        "invoice",
        [
            {
                "customerid": made["client"][i % clients]["id"],
                "invoice_number": f"{prefix}F{i:05d}",
                "create_date": "2025-03-01",
                "due_offset_days": 30,
                "action_mark_as_sent": True,
                "lines": [
                    {
                        "type": 0,
                        "name": made["item"][i % items]["name"],
                        "qty": 2,
                        "unit_cost": {"amount": "10.00", "code": "USD"},
                    }
                ],
            }
            for i in range(invoices)
        ],
    )
    made["payment"] = fb_seed(
        world,
        account,
        "payment",
        [
            {
                "invoiceid": made["invoice"][i]["id"],
                "amount": {"amount": "5.00", "code": "USD"},
                "date": "2025-03-05",
                "type": "Check",
                "note": f"CHK-{i}",
            }
            for i in range(payments)
        ],
    )
    return made


def weekly(world: dict[str, Any], context: LambdaContext | None = None) -> list[dict[str, Any]]:
    """The weekly run, with BlueClerk's clock following the sandbox's (a real week passes for both): FreshBooks has no
    server time in its answers, so the importer's clock sets the next run's watermark."""
    from booksync import providers

    offset = sandbox_now(world) - datetime.now(UTC)
    providers.importer(PROVIDER).clock = lambda: datetime.now(UTC) + offset
    return qbo_weekly(world, context)


def integration() -> dict[str, Any]:
    r = invoke(api(), http_event("api/list_integrations.json", company=COMPANY))
    assert r.status == 200, r.body
    return next(i for i in r.body["data"] if i["provider"] == PROVIDER)


def last_run() -> dict[str, Any]:
    return dict(integration()["health"]["lastImport"])


def pages(calls: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(c["kind"], c["params"].get("page", "")) for c in calls]


def expected_pages(n: dict[str, int], cap: int) -> list[tuple[str, str]]:
    return [(PLURAL[k], str(p)) for k in PLURAL for p in range(1, max(1, math.ceil(n[k] / cap)) + 1)]


# ---- tests -------------------------------------------------------------------------------------------------------
def test_the_sandbox_page_cap_is_a_knob_that_cannot_exceed_freshbooks_cap(world: dict[str, Any]) -> None:
    assert configure(world["url"], max_per_page=5)["max_per_page"] == 5
    with pytest.raises(httpx.HTTPStatusError):
        configure(world["url"], max_per_page=101)
    assert configure(world["url"], max_per_page=None)["max_per_page"] == 100


def test_first_import_reads_each_kind_in_ceil_n_over_page_size_calls_and_creates_everything_once(
    world: dict[str, Any],
) -> None:
    cap = 5
    configure(world["url"], max_per_page=cap)
    n = {"customer": 12, "item": 3, "invoice": 6, "payment": 2}  # 10,000 each: test_import_soak_freshbooks.py
    made = seed_books(world, n["customer"], n["item"], n["invoice"], n["payment"])
    since = last_seq(world["url"])
    # When the weekly job runs for the first time (no watermark yet: a full import)
    weekly(world)
    calls = list_calls(world["url"], since)
    # Then each kind cost exactly ceil(N / page size) calls, in dependency order, and no empty page was asked for
    assert len(calls) == sum(math.ceil(v / cap) for v in n.values()) == 7, pages(calls)
    assert pages(calls) == expected_pages(n, cap)
    assert all(c["method"] == "GET" and c["status"] == 200 for c in calls)
    assert {c["params"]["per_page"] for c in calls} == {"100"}  # asks FreshBooks' cap; follows the answer's pages
    assert all("search[updated_min]" not in c["params"] for c in calls)
    assert [c["params"].get("include[]") for c in calls if c["kind"] == "invoices"] == ["lines", "lines"]
    # And BlueClerk holds each record once, linked to its FreshBooks id
    customers = stored("customer")
    assert len(customers) == 12 and len({c.provider_ids[PROVIDER] for c in customers}) == 12
    items = {i.name: i for i in stored("item")}
    assert len(items) == 3 and all(i.provider_ids.get(PROVIDER) for i in items.values())
    invoices = list_all("/invoices")
    assert len(invoices) == 6 and all(i["syncStatus"] == "synced" for i in invoices)
    paid = next(i for i in invoices if i["providerIds"][PROVIDER] == str(made["invoice"][0]["id"]))
    detail = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{paid['id']}")).body
    assert (detail["total"], detail["amountPaid"], detail["balance"]) == ("20.00", "5.00", "15.00")
    assert detail["number"] == "F00000" and detail["issueDate"] == "2025-03-01" and detail["dueDate"] == "2025-03-31"
    (line,) = detail["lines"]
    assert (line["quantity"], line["unitPrice"], line["amount"]) == ("2", "10.00", "20.00")
    assert line["itemId"] == items["Service 00000"].id  # FreshBooks lines name their item: matched by name
    (payment,) = detail["payments"]
    assert payment["providerIds"][PROVIDER] == str(made["payment"][0]["id"])
    assert (payment["method"], payment["reference"]) == ("check", "CHK-0")
    # And the health screen shows the run
    run = last_run()
    assert run["status"] == "succeeded" and run["trigger"] == "weekly"
    assert run["calls"] == 7 and run["pages"] == 7 and run["errorCount"] == 0
    assert {k: v["created"] for k, v in run["counts"].items()} == n
    assert run["watermark"] and run["lastSuccessAt"]


def test_an_unchanged_week_costs_one_call_per_kind_and_a_changed_one_imports_only_the_changes(
    world: dict[str, Any],
) -> None:
    configure(world["url"], max_per_page=5)
    made = seed_books(world, 7, 2, 3, 1)
    advance(world, 3 * DAY)  # the books were written days before the first run (updated_min is day-granular)
    weekly(world)
    assert last_run()["calls"] == 2 + 1 + 1 + 1
    # Given a week passes with nothing changed in FreshBooks
    advance(world, 7 * DAY)
    since = last_seq(world["url"])
    weekly(world)
    calls = list_calls(world["url"], since)
    # Then the run asked once per kind, for what changed since the last run's (Eastern) day minus a day's overlap
    assert pages(calls) == [("clients", "1"), ("items", "1"), ("invoices", "1"), ("payments", "1")]
    bounds = {c["params"]["search[updated_min]"] for c in calls}
    assert len(bounds) == 1
    (bound,) = bounds
    # (the Eastern date, not the UTC one: from 00:00 to 05:00 UTC they differ by a day)
    from booksync.providers.freshbooks.imports import EASTERN

    previous = sandbox_now(world) - timedelta(days=7)
    earliest = (previous - timedelta(days=1, minutes=20)).astimezone(EASTERN).date().isoformat()
    assert earliest <= bound <= (previous - timedelta(days=1)).astimezone(EASTERN).date().isoformat(), bound
    run = last_run()
    assert run["status"] == "succeeded" and run["calls"] == 4
    assert all(c["read"] == c["created"] == c["updated"] == 0 for c in run["counts"].values()), run["counts"]
    # When a client's email and an item's price change in FreshBooks, and a new invoice is added
    account, client, item = world["account"], made["client"][3], made["item"][1]
    fb_update(world, account, "client", client["id"], email="new.mail@example.com")
    fb_update(world, account, "item", item["id"], unit_cost={"amount": "99.50", "code": "USD"})
    fb_seed(
        world,
        account,
        "invoice",
        [
            {
                "customerid": client["id"],
                "invoice_number": "NEW-1",
                "create_date": "2025-04-01",
                "lines": [{"type": 0, "name": item["name"], "qty": 1, "unit_cost": {"amount": "99.50"}}],
            }
        ],
    )
    advance(world, 7 * DAY)
    since = last_seq(world["url"])
    weekly(world)
    # Then one call per kind brought exactly those changes
    assert pages(list_calls(world["url"], since)) == [
        ("clients", "1"),
        ("items", "1"),
        ("invoices", "1"),
        ("payments", "1"),
    ]
    counts = last_run()["counts"]
    assert (counts["customer"]["read"], counts["customer"]["updated"]) == (1, 1)
    assert (counts["item"]["read"], counts["item"]["updated"]) == (1, 1)
    assert (counts["invoice"]["read"], counts["invoice"]["created"]) == (1, 1)
    assert counts.get("payment", {}).get("read", 0) == 0
    local = next(c for c in list_all("/customers") if c["providerIds"][PROVIDER] == str(client["id"]))
    assert local["email"] == "new.mail@example.com"
    changed = next(i for i in list_all("/items") if i["providerIds"][PROVIDER] == str(item["id"]))
    assert changed["price"] == "99.50"
    new = next(i for i in list_all("/invoices") if i["number"] == "NEW-1")
    detail = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{new['id']}")).body
    assert detail["customerId"] == local["id"] and detail["lines"][0]["itemId"] == changed["id"]
    assert len(stored("customer")) == 7 and len(stored("item")) == 2 and len(list_all("/invoices")) == 4


def test_an_interrupted_run_resumes_where_it_stopped_without_rereading_finished_pages(world: dict[str, Any]) -> None:
    configure(world["url"], max_per_page=5)
    seed_books(world, 12, 2, 1, 0)
    since = last_seq(world["url"])
    # Given the first invocation has time for one page only (then less than the safety margin)
    responses = weekly(world, ScriptedContext([300_000, 1_000]))
    assert responses[0] == {"batchItemFailures": []}
    run = last_run()
    assert run["status"] == "running" and run["pages"] == 1
    assert run["counts"]["customer"]["created"] == 5
    assert pages(list_calls(world["url"], since)) == [("clients", "1")]
    # Then it re-enqueued itself; the next invocation (plenty of time) finishes the run
    drain(world["aws"]["sqs"], world["aws"]["queues"]["import"], "import_changes")
    run = last_run()
    assert run["status"] == "succeeded", run
    # And no page was read twice
    assert pages(list_calls(world["url"], since)) == [
        ("clients", "1"),
        ("clients", "2"),
        ("clients", "3"),
        ("items", "1"),
        ("invoices", "1"),
        ("payments", "1"),
    ]
    assert run["calls"] == 6 and run["pages"] == 6 and run["counts"]["customer"]["created"] == 12
    assert len(stored("customer")) == 12


def test_customer_import_classifies_every_client_and_rerunning_changes_nothing(world: dict[str, Any]) -> None:
    configure(world["url"], max_per_page=2)
    fb_seed(
        world,
        world["account"],
        "client",
        [
            {"fname": "Jane", "lname": "Doe", "p_street": "12 Oak Ln Apt 4B"},
            {"fname": "Bob", "lname": "Builder", "p_street": "7 Birch Rd"},
            {"organization": "Smith Builders LLC", "p_street": "400 Commerce Way", "p_street2": "Suite 10"},
            {"organization": "Home Depot #4521"},
            {"organization": "Acme Plumbing Supply", "email": "ap@acme.example"},
        ],
    )
    since = last_seq(world["url"])
    # When the user imports customers
    r = post_import()
    assert r.status == 200, r.body
    assert r.body["status"] == "completed"
    assert (r.body["imported"], r.body["created"], r.body["updated"], r.body["unchanged"]) == (5, 5, 0, 0)
    assert sum(r.body["byClass"].values()) == 5
    assert pages(list_calls(world["url"], since)) == [("clients", "1"), ("clients", "2"), ("clients", "3")]
    customers = {c["name"]: c for c in list_all("/customers")}
    assert set(customers) == {
        "Jane Doe",
        "Bob Builder",
        "Smith Builders LLC",
        "Home Depot #4521",
        "Acme Plumbing Supply",
    }
    assert customers["Jane Doe"]["classification"] == "Homeowner"
    assert customers["Smith Builders LLC"]["classification"] == "Builder"
    assert customers["Acme Plumbing Supply"]["email"] == "ap@acme.example"
    assert customers["Smith Builders LLC"]["billingAddress"]["line1"] == "400 Commerce Way"
    # When it is run again with nothing changed in FreshBooks, nothing changes in BlueClerk
    before = {c["id"]: c for c in list_all("/customers")}
    again = post_import()
    assert again.status == 200
    assert (again.body["imported"], again.body["created"], again.body["updated"], again.body["unchanged"]) == (
        5,
        0,
        0,
        5,
    )
    assert again.body["byClass"] == r.body["byClass"]
    assert {c["id"]: c for c in list_all("/customers")} == before


def test_a_dead_token_raises_one_needs_reauth_notification_not_one_per_week(world: dict[str, Any]) -> None:
    from booksync import wiring

    seed_books(world, 3, 1, 1, 0)
    weekly(world)
    tokens = wiring.token_manager().current(COMPANY, PROVIDER)
    revoke = httpx.post(
        f"{world['url']}/freshbooks/auth/oauth/revoke",
        json={
            "client_id": "local-freshbooks-client",
            "client_secret": "local-freshbooks-secret",
            "token": tokens.refresh_token,
        },
    )
    assert revoke.status_code == 200, revoke.text
    for _week in range(3):
        advance(world, 7 * DAY)  # the 12-hour access token has expired: the refresh finds the grant revoked
        weekly(world)
    notes = notifications(COMPANY)
    reauth = [n for n in notes["data"] if n["code"] == "needs_reauth"]
    assert len(reauth) == 1 and reauth[0]["occurrences"] == 1
    assert [n["code"] for n in notes["data"]] == ["needs_reauth"]
    row = integration()
    assert row["status"] == "needs_reauth"
    assert row["health"]["lastImport"]["status"] == "failed"
    assert row["health"]["lastImport"]["lastError"] == "needs_reauth"
    assert fan_out(world)["jobs"] == 0  # the company left the connected index


def test_records_blueclerk_already_holds_are_linked_by_natural_key_not_duplicated(world: dict[str, Any]) -> None:
    # Given BlueClerk has a customer, an item and an invoice that were never pushed to FreshBooks
    made = _setup_invoice(api(), number="INV-1001")
    cust, item, inv = made["customer"], made["item"], made["invoice"]
    advance(world, 60)  # the books' copies are written a minute later (the books' copies are newer: they win)
    account = world["account"]
    # And the accountant typed the same ones into FreshBooks (names in another case, same invoice number)
    (client,) = fb_seed(world, account, "client", [{"organization": "jane doe", "email": "jane@example.com"}])
    (fb_item,) = fb_seed(world, account, "item", [{"name": "WATER HEATER FLUSH", "unit_cost": {"amount": "175.00"}}])
    (fb_inv,) = fb_seed(
        world,
        account,
        "invoice",
        [
            {
                "customerid": client["id"],
                "invoice_number": "INV-1001",
                "create_date": "2026-11-24",
                "due_offset_days": 30,
                "lines": [{"type": 0, "name": "Water heater flush", "qty": 2, "unit_cost": {"amount": "175.00"}}],
            }
        ],
    )
    # When the weekly import runs
    weekly(world)
    run = last_run()
    assert run["status"] == "succeeded", run
    # Then nothing was created: each FreshBooks record was linked to BlueClerk's record of the same natural key
    assert all(c["created"] == 0 for c in run["counts"].values()), run["counts"]
    (customer,) = list_all("/customers")
    assert customer["id"] == cust["id"] and customer["providerIds"] == {PROVIDER: str(client["id"])}
    (local_item,) = list_all("/items")
    assert local_item["id"] == item["id"] and local_item["providerIds"] == {PROVIDER: str(fb_item["id"])}
    (invoice,) = list_all("/invoices")
    assert invoice["id"] == inv["id"] and invoice["providerIds"] == {PROVIDER: str(fb_inv["id"])}
    detail = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}")).body
    assert [(ln["itemId"], ln["quantity"], ln["unitPrice"]) for ln in detail["lines"]] == [(item["id"], "2", "175.00")]
    assert [h["result"] for h in history("invoice", inv["id"]) if h["result"] == "imported"] == ["imported"]
    # And the next day's run finds everything unchanged
    advance(world, DAY)
    weekly(world)
    counts = last_run()["counts"]
    assert all(c["created"] == c["updated"] == 0 for c in counts.values()), counts


def test_an_invoice_line_naming_no_item_is_reported_not_imported_half(world: dict[str, Any]) -> None:
    (client,) = fb_seed(world, world["account"], "client", [{"organization": "Acme Rentals"}])
    fb_seed(
        world,
        world["account"],
        "invoice",
        [
            {
                "customerid": client["id"],
                "invoice_number": "FREE-1",
                "create_date": "2025-03-01",
                "lines": [{"type": 0, "name": "Labor (free text)", "qty": 1, "unit_cost": {"amount": "80.00"}}],
            }
        ],
    )
    weekly(world)
    run = last_run()
    assert run["status"] == "succeeded" and run["counts"]["invoice"]["errors"] == 1
    assert list_all("/invoices") == []
    assert any(e["code"] == "item_missing" and "Labor (free text)".casefold() in e["message"] for e in run["errors"])


def test_what_blueclerk_pushed_comes_back_linked_not_duplicated(world: dict[str, Any]) -> None:
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    map_default_income_account(PROVIDER, COMPANY)
    made = _setup_invoice(api())
    inv = made["invoice"]
    send(api(), inv["id"])
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    paid = pay(api(), inv["id"], "350.00")
    drain(sqs, queues["payment-sync"], "sync_payments")
    books = tenant(world["url"], world["account"])
    assert (books["counts"]["invoice"], books["counts"]["payment"]) == (1, 1)
    before = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}")).body
    (customer,) = list_all("/customers")
    assert customer["classification"] is None  # made through the API: classified by its first import
    # When the weekly import reads the books BlueClerk wrote (invoice lines name the item; the payment carries
    # BlueClerk's marker and reference in its note)
    advance(world, DAY)
    weekly(world)
    run = last_run()
    assert run["status"] == "succeeded" and run["errorCount"] == 0, run
    # Then every record is matched to the one it came from: nothing created, nothing changed but the customer's class
    changed = {k: (c["created"], c["updated"], c["linked"], c["conflicts"]) for k, c in run["counts"].items()}
    assert changed == {**dict.fromkeys(PLURAL, (0, 0, 0, 0)), "customer": (0, 1, 0, 0)}, changed
    (again,) = list_all("/customers")
    assert again["classification"] == "Homeowner"
    assert {k: v for k, v in again.items() if not k.startswith("classification")} == {
        k: v for k, v in customer.items() if not k.startswith("classification")
    }
    assert {k: c["read"] for k, c in run["counts"].items()} == {"customer": 1, "item": 1, "invoice": 1, "payment": 1}
    assert again["id"] == made["customer"]["id"]
    assert [i["id"] for i in list_all("/items")] == [made["item"]["id"]]
    after = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}")).body
    assert [p["id"] for p in after["payments"]] == [paid["id"]]
    assert after["payments"][0]["reference"] == "CHK-1"
    assert (after["lines"], after["total"], after["amountPaid"]) == (before["lines"], "400.00", "350.00")
    # And the next day's run changes nothing at all
    advance(world, DAY)
    weekly(world)
    counts = last_run()["counts"]
    assert all(c["created"] == c["updated"] == c["conflicts"] == 0 for c in counts.values()), counts
    assert tenant(world["url"], world["account"])["counts"] == books["counts"]  # and nothing was written back
