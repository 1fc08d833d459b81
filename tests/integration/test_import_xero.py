"""Imports from Xero end to end: handlers in-process, moto server and the Xero sandbox over real HTTP (spec-checked).

The scenarios of test_import_qbo.py that apply to Xero (no sub-customers, no change data capture: Xero pages each
kind with ``If-Modified-Since``). Bulk data is seeded through the sandbox's in-process books (``Books``, under the
sandbox lock), the way its own handlers store it. Every provider call the importer makes is counted from the
sandbox's request log (``/_sandbox/requests``); the headers it sent come from the sandbox's recorded exchanges,
which ``xero_world()`` also checks against Xero's OpenAPI file on exit (0 violations).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from local.sandbox.xero import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.helpers import http_event, invoke
from tests.integration.qbo_helpers import drain
from tests.integration.test_import_qbo import (
    COMPANY,
    ScriptedContext,
    advance,
    api,
    fan_out,
    history,
    list_all,
    post_import,
    stored,
    weekly,
)
from tests.integration.xero_helpers import (
    connect_xero,
    tenant,
    xero_api_calls,
    xero_last_seq,
    xero_world,
)

pytestmark = pytest.mark.moto_server

PAGE = 1000  # Xero's pageSize ceiling


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with xero_world() as w:
        w["tenant"] = connect_xero(COMPANY)
        # a connect may queue a backfill run on the import queue: let it finish before the scenario starts
        drain(w["aws"]["sqs"], w["aws"]["queues"]["import"], "import_changes")
        yield w


# ---- sandbox helpers ---------------------------------------------------------------------------------------------
def xero(world: dict[str, Any]) -> Any:
    return world["sandbox"].core.providers["xero"]


def seed(world: dict[str, Any], resource: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create objects in the organisation through the sandbox's own rules (its ``Books``), under the sandbox lock.
    Returns them as the API renders them."""
    core, sandbox = world["sandbox"].core, xero(world)
    books = sandbox.books
    out = []
    with core.lock:
        org = sandbox.orgs[world["tenant"]]
        for body in bodies:
            if resource == "Contacts":
                row = books.write_contact(org, body, "create")
            elif resource == "Items":
                row = books.write_item(org, body, "create")
            elif resource == "Invoices":
                row = books.write_invoice(org, body, "create")
            else:
                row = books.create_payment(org, body)
            out.append(sandbox._render(org, resource, row))
    return out


def xero_update(world: dict[str, Any], resource: str, ident: str, **changes: Any) -> dict[str, Any]:
    core, sandbox = world["sandbox"].core, xero(world)
    books = sandbox.books
    with core.lock:
        org = sandbox.orgs[world["tenant"]]
        if resource == "Contacts":
            row = books.write_contact(org, changes, "update", ident)
        elif resource == "Items":
            row = books.write_item(org, {"Code": org.items[ident]["Code"], **changes}, "update", ident)
        else:
            row = books.write_invoice(org, changes, "update", ident)
        return dict(sandbox._render(org, resource, row))


def invoice_body(contact_id: str, number: str, item_code: str, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "InvoiceNumber": number,
        "Date": "2025-03-01",
        "DueDate": "2025-03-31",
        "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax",
        "LineItems": [
            {"ItemCode": item_code, "Description": "Work", "Quantity": 2, "UnitAmount": 10, "AccountCode": "200"}
        ],
        **extra,
    }


def seed_books(
    world: dict[str, Any], contacts: int, items: int, invoices: int, payments: int, prefix: str = ""
) -> dict[str, list[dict[str, Any]]]:
    made: dict[str, list[dict[str, Any]]] = {}
    made["Contacts"] = seed(
        world,
        "Contacts",
        [
            {
                "Name": f"{prefix}Customer {i:05d}",
                "FirstName": "Pat",
                "LastName": f"Doe{i}",
                "Addresses": [{"AddressType": "POBOX", "AddressLine1": f"{i} Oak Lane", "City": "Springfield"}],
            }
            for i in range(contacts)
        ],
    )
    made["Items"] = seed(
        world,
        "Items",
        [
            {
                "Code": f"{prefix}S{i:05d}",
                "Name": f"{prefix}Service {i:05d}",
                "SalesDetails": {"UnitPrice": 10 + i % 7, "AccountCode": "200"},
            }
            for i in range(items)
        ],
    )
    made["Invoices"] = seed(
        world,
        "Invoices",
        [
            invoice_body(
                made["Contacts"][i % contacts]["ContactID"], f"{prefix}X{i:05d}", made["Items"][i % items]["Code"]
            )
            for i in range(invoices)
        ],
    )
    made["Payments"] = seed(
        world,
        "Payments",
        [
            {
                "Invoice": {"InvoiceID": made["Invoices"][i]["InvoiceID"]},
                "Account": {"Code": "090"},
                "Date": "2025-03-05",
                "Amount": 5,
                "Reference": f"CHK-{i}",
            }
            for i in range(payments)
        ],
    )
    return made


def describe(call: dict[str, Any]) -> str:
    """``Contacts p2`` for a paged read, ``Items`` for the unpaged one."""
    resource = call["path"].rsplit("/", 1)[-1]
    page = parse_qs(call["query"]).get("page")
    return f"{resource} p{page[0]}" if page else resource


def sent_headers(world: dict[str, Any], first: int) -> list[dict[str, str]]:
    """Headers of the Accounting API requests the sandbox recorded from index ``first`` on."""
    return [ex.headers for ex in xero(world).exchanges[first:] if "/api.xro/2.0/" in ex.path]


def integration(company: str = COMPANY) -> dict[str, Any]:
    r = invoke(api(), http_event("api/list_integrations.json", company=company))
    assert r.status == 200, r.body
    return next(i for i in r.body["data"] if i["provider"] == "xero")


# ---- tests -------------------------------------------------------------------------------------------------------
def test_first_import_reads_each_kind_in_ceil_n_over_1000_calls_and_creates_everything_once(
    world: dict[str, Any],
) -> None:
    n = {"Contacts": 1001, "Items": 5, "Invoices": 12, "Payments": 8}  # 10,000 each: test_import_soak_xero.py
    made = seed_books(world, n["Contacts"], n["Items"], n["Invoices"], n["Payments"])
    # and a supplier with a bill and a bill payment, which are not BlueClerk's to import
    (supplier,) = seed(world, "Contacts", [{"Name": "Pipe Wholesale Ltd"}])
    (bill,) = seed(
        world, "Invoices", [invoice_body(supplier["ContactID"], "BILL-1", made["Items"][0]["Code"], Type="ACCPAY")]
    )
    seed(world, "Payments", [{"Invoice": {"InvoiceID": bill["InvoiceID"]}, "Account": {"Code": "090"},
                              "Date": "2025-03-05", "Amount": 1}])  # fmt: skip
    since, first = xero_last_seq(world["url"]), len(xero(world).exchanges)
    # When the weekly job runs for the first time (no watermark yet: a full import)
    weekly(world)
    calls = xero_api_calls(world["url"], since)
    # Then each paged kind cost exactly ceil(N / 1000) calls (no empty last page), and Items (not paged) one
    assert [describe(c) for c in calls] == ["Contacts p1", "Contacts p2", "Items", "Invoices p1", "Payments p1"]
    paged = sum(math.ceil(n[k] / PAGE) for k in ("Contacts", "Invoices", "Payments"))
    assert len(calls) == paged + 1 == 5
    assert all(c["status"] == 200 for c in calls)
    assert all(parse_qs(c["query"])["pageSize"] == ["1000"] for c in calls if "page=" in c["query"])
    assert parse_qs(calls[3]["query"])["where"] == ['Type=="ACCREC"']
    assert not any("if-modified-since" in h for h in sent_headers(world, first))  # a full import
    # And BlueClerk holds each record once, linked to its Xero id
    customers = stored("customer")
    assert len(customers) == 1001 and len({c.provider_ids["xero"] for c in customers}) == 1001
    assert "Pipe Wholesale Ltd" not in {c.name for c in customers}
    local = next(c for c in customers if c.provider_ids["xero"] == made["Contacts"][0]["ContactID"])
    got = invoke(api(), http_event("api/get_invoice.json", path=f"/customers/{local.id}")).body
    assert (got["givenName"], got["familyName"], got["billingAddress"]["line1"]) == ("Pat", "Doe0", "0 Oak Lane")
    items = stored("item")
    assert len(items) == 5 and {i.sku for i in items} == {f"S{i:05d}" for i in range(5)}
    invoices = list_all("/invoices")
    assert len(invoices) == 12 and all(i["syncStatus"] == "synced" for i in invoices)
    assert "BILL-1" not in {i["number"] for i in invoices}
    paid = next(i for i in invoices if i["providerIds"]["xero"] == made["Invoices"][0]["InvoiceID"])
    detail = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{paid['id']}")).body
    assert (detail["total"], detail["amountPaid"], detail["balance"]) == ("20.00", "5.00", "15.00")
    assert detail["lines"][0]["quantity"] == "2" and detail["lines"][0]["unitPrice"] == "10.00"
    assert [(p["amount"], p["reference"]) for p in detail["payments"]] == [("5.00", "CHK-0")]
    assert detail["payments"][0]["providerIds"]["xero"] == made["Payments"][0]["PaymentID"]
    # And the health screen shows the run
    last = integration()["health"]["lastImport"]
    assert last["status"] == "succeeded" and last["trigger"] == "weekly"
    assert last["calls"] == 5 and last["pages"] == 5
    assert last["counts"]["customer"]["created"] == 1001 and last["counts"]["payment"]["created"] == 8
    assert last["errorCount"] == 0 and last["watermark"] and last["lastSuccessAt"]


def test_an_unchanged_week_costs_one_call_per_kind_and_a_changed_one_imports_only_the_changes(
    world: dict[str, Any],
) -> None:
    made = seed_books(world, 30, 5, 10, 4)
    weekly(world)
    # Given a week passes with nothing changed in Xero
    advance(world, 7 * 86400)
    since, first = xero_last_seq(world["url"]), len(xero(world).exchanges)
    weekly(world)
    calls = xero_api_calls(world["url"], since)
    # Then the run asked Xero once per kind, each with If-Modified-Since (UTC, to the second)
    assert [describe(c) for c in calls] == ["Contacts p1", "Items", "Invoices p1", "Payments p1"]
    stamps = {h.get("if-modified-since") for h in sent_headers(world, first)}
    assert len(stamps) == 1 and None not in stamps
    (stamp,) = stamps
    assert len(stamp) == 20 and stamp[10] == "T" and stamp.endswith("Z"), stamp
    last = integration()["health"]["lastImport"]
    assert last["calls"] == 4 and last["status"] == "succeeded"
    assert all(c["created"] == c["updated"] == 0 for c in last["counts"].values())
    # When a customer's email and an item's price change in Xero, and a new invoice is added
    contact = made["Contacts"][3]
    xero_update(world, "Contacts", contact["ContactID"], EmailAddress="new.mail@example.com")
    xero_update(world, "Items", made["Items"][1]["ItemID"], SalesDetails={"UnitPrice": 99.5})
    seed(world, "Invoices", [invoice_body(contact["ContactID"], "NEW-1", made["Items"][1]["Code"])])
    advance(world, 7 * 86400)
    since = xero_last_seq(world["url"])
    weekly(world)
    # Then one call per kind brought exactly those changes
    assert [describe(c) for c in xero_api_calls(world["url"], since)] == [
        "Contacts p1",
        "Items",
        "Invoices p1",
        "Payments p1",
    ]
    counts = integration()["health"]["lastImport"]["counts"]
    assert counts["customer"]["read"] == 1 and counts["customer"]["updated"] == 1
    assert counts["item"]["read"] == 1 and counts["item"]["updated"] == 1
    assert counts["invoice"]["read"] == 1 and counts["invoice"]["created"] == 1
    local = next(c for c in list_all("/customers") if c["providerIds"]["xero"] == contact["ContactID"])
    assert local["email"] == "new.mail@example.com"
    item = next(i for i in list_all("/items") if i["providerIds"]["xero"] == made["Items"][1]["ItemID"])
    assert item["price"] == "99.50"
    assert "NEW-1" in {i["number"] for i in list_all("/invoices")}


def test_an_interrupted_run_resumes_where_it_stopped_without_rereading_finished_pages(world: dict[str, Any]) -> None:
    seed_books(world, 1001, 2, 1, 0)
    since = xero_last_seq(world["url"])
    # Given the first invocation has time for one page only (then less than the safety margin)
    responses = weekly(world, ScriptedContext([300_000, 1_000]))
    assert responses[0] == {"batchItemFailures": []}
    run = integration()["health"]["lastImport"]
    assert run["status"] == "running" and run["pages"] == 1
    assert run["counts"]["customer"]["created"] == 1000
    assert [describe(c) for c in xero_api_calls(world["url"], since)] == ["Contacts p1"]
    continued = world["aws"]["sqs"].get_queue_attributes(
        QueueUrl=world["aws"]["queues"]["import"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert continued == "1"
    # Then it re-enqueued itself; the next invocation (plenty of time) finishes the run
    drain(world["aws"]["sqs"], world["aws"]["queues"]["import"], "import_changes")
    run = integration()["health"]["lastImport"]
    assert run["status"] == "succeeded", run
    calls = [describe(c) for c in xero_api_calls(world["url"], since)]
    # And no page was read twice
    assert calls == ["Contacts p1", "Contacts p2", "Items", "Invoices p1", "Payments p1"]
    assert run["calls"] == 5 and run["counts"]["customer"]["created"] == 1001 and run["pages"] == 5
    assert len(stored("customer")) == 1001


def test_customer_import_classifies_counts_per_class_and_rerunning_changes_nothing(world: dict[str, Any]) -> None:
    seed(
        world,
        "Contacts",
        [
            {
                "Name": "Jane Doe",
                "FirstName": "Jane",
                "LastName": "Doe",
                "Addresses": [{"AddressType": "POBOX", "AddressLine1": "12 Oak Ln Apt 4B"}],
            },
            {"Name": "Bob Builder", "FirstName": "Bob", "LastName": "Builder"},
            {
                "Name": "Smith Builders LLC",
                "Addresses": [{"AddressType": "STREET", "AddressLine1": "400 Commerce Way"}],
            },
            {"Name": "Home Depot #4521"},
            {"Name": "Acme Plumbing Supply", "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": "555-0100"}]},
        ],
    )
    since = xero_last_seq(world["url"])
    # When the user imports customers
    r = post_import()
    assert r.status == 200, r.body
    assert r.body["status"] == "completed"
    assert sum(r.body["byClass"].values()) == 5 and r.body["byClass"]["Homeowner"] >= 1
    assert r.body["byClass"]["Business"] >= 1
    assert (r.body["imported"], r.body["created"], r.body["updated"], r.body["unchanged"]) == (5, 5, 0, 0)
    assert [describe(c) for c in xero_api_calls(world["url"], since)] == ["Contacts p1"]  # customers only
    customers = {c["name"]: c for c in list_all("/customers")}
    assert customers["Bob Builder"]["classification"] == "Homeowner"
    assert customers["Acme Plumbing Supply"]["phone"] == "555-0100"
    # When it is run again with nothing changed in Xero, nothing changes in BlueClerk
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
    tokens = wiring.token_manager().current(COMPANY, "xero")
    revoke = httpx.post(
        f"{world['url']}/xero/connect/revocation",
        data={"token": tokens.refresh_token},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    assert revoke.status_code == 200
    for _week in range(3):
        advance(world, 7 * 86400)
        weekly(world)
    notes = invoke(api(), http_event("api/list_notifications.json")).body
    reauth = [n for n in notes["data"] if n["code"] == "needs_reauth"]
    assert len(reauth) == 1 and reauth[0]["occurrences"] == 1
    assert [n["code"] for n in notes["data"]] == ["needs_reauth"]
    row = integration()
    assert row["status"] == "needs_reauth"
    assert row["health"]["lastImport"]["status"] == "failed"
    assert row["health"]["lastImport"]["lastError"] == "needs_reauth"
    fan = fan_out(world)  # the fan-out no longer queues this company (it left the connected index)
    assert fan["jobs"] == 0


def test_records_blueclerk_already_has_are_linked_by_natural_key_not_duplicated(world: dict[str, Any]) -> None:
    # Given BlueClerk already holds a customer, an item and an invoice (never pushed to Xero)
    cust = invoke(api(), http_event("api/create_customer.json", body={"name": "Jane Doe", "email": "jane@example.com"}))
    assert cust.status == 201, cust.body
    item = invoke(api(), http_event("api/create_item.json", body={"name": "Drain snaking", "price": "150.00"}))
    assert item.status == 201, item.body
    body = {
        "number": "INV-0077",
        "customerId": cust.body["id"],
        "issueDate": "2025-03-01",
        "dueDate": "2025-03-31",
        "lines": [{"itemId": item.body["id"], "quantity": "1", "unitPrice": "150.00"}],
    }
    inv = invoke(api(), http_event("api/create_invoice.json", body=body))
    assert inv.status == 201, inv.body
    # And Xero holds the same records under the same natural keys (name, name, number), made after them
    advance(world, 60)
    (contact,) = seed(world, "Contacts", [{"Name": "jane doe", "EmailAddress": "jane@example.com"}])
    (xitem,) = seed(
        world,
        "Items",
        [{"Code": "Drain snaking", "Name": "Drain snaking", "SalesDetails": {"UnitPrice": 150, "AccountCode": "200"}}],
    )
    (xinv,) = seed(world, "Invoices", [invoice_body(contact["ContactID"], "INV-0077", xitem["Code"])])
    # When the weekly import runs
    weekly(world)
    # Then each BlueClerk record is linked to its Xero twin, and nothing was created twice
    customers = list_all("/customers")
    assert [(c["id"], c["providerIds"]) for c in customers] == [(cust.body["id"], {"xero": contact["ContactID"]})]
    items = list_all("/items")
    assert [(i["id"], i["providerIds"]) for i in items] == [(item.body["id"], {"xero": xitem["ItemID"]})]
    invoices = list_all("/invoices")
    assert [(i["id"], i["providerIds"]) for i in invoices] == [(inv.body["id"], {"xero": xinv["InvoiceID"]})]
    counts = integration()["health"]["lastImport"]["counts"]
    assert all(c["created"] == 0 for c in counts.values()), counts
    # And a second run changes nothing
    advance(world, 86400)
    weekly(world)
    counts = integration()["health"]["lastImport"]["counts"]
    assert all(c["created"] == c["updated"] == 0 for c in counts.values()), counts
    assert len(list_all("/customers")) == len(list_all("/items")) == len(list_all("/invoices")) == 1


def test_a_voided_invoice_is_imported_void_and_blueclerks_payment_reference_is_read_back(world: dict[str, Any]) -> None:
    made = seed_books(world, 2, 1, 2, 0)
    # a payment whose Reference carries BlueClerk's method and marker (as the sync adapter writes it)
    seed(
        world,
        "Payments",
        [
            {
                "Invoice": {"InvoiceID": made["Invoices"][0]["InvoiceID"]},
                "Account": {"Code": "090"},
                "Date": "2025-03-05",
                "Amount": 4,
                "Reference": "CHK-9 | method: check | BlueClerk payment pay_x",
            }
        ],
    )
    advance(world, 3600)  # the books were written an hour before the first run (outside the next run's overlap)
    weekly(world)
    local = next(i for i in list_all("/invoices") if i["providerIds"]["xero"] == made["Invoices"][0]["InvoiceID"])
    detail = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{local['id']}")).body
    assert [(p["amount"], p["method"], p["reference"]) for p in detail["payments"]] == [("4.00", "check", "CHK-9")]
    # When the second invoice is voided in Xero
    doomed = made["Invoices"][1]
    xero_update(world, "Invoices", doomed["InvoiceID"], Status="VOIDED")
    advance(world, 86400)
    weekly(world)
    counts = integration()["health"]["lastImport"]["counts"]
    assert counts["invoice"]["read"] == 1 and "payment" not in counts  # no payment changed
    voided = next(i for i in list_all("/invoices") if i["providerIds"]["xero"] == doomed["InvoiceID"])
    assert voided["status"] == "VOID"
    assert [h["result"] for h in history("invoice", voided["id"])][-1] == "imported"
    detail = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{local['id']}")).body
    assert len(detail["payments"]) == 1


def test_the_importer_is_registered_for_xero_and_reads_blueclerks_payment_reference() -> None:
    from booksync import providers
    from booksync.providers.xero.imports import XeroImporter, split_reference

    assert isinstance(providers.importer("xero"), XeroImporter)
    assert providers.importer("xero").max_page_size == PAGE
    assert split_reference("CHK-1 | method: card | BlueClerk payment pay_1") == ("CHK-1", "card")
    assert split_reference("method: cash | BlueClerk payment pay_2") == (None, "cash")
    assert split_reference("Bank transfer 4411") == ("Bank transfer 4411", "other")
    assert split_reference(None) == (None, "other")


def test_an_import_only_reads_the_books(world: dict[str, Any]) -> None:
    seed_books(world, 2, 1, 1, 1)
    before = tenant(world["url"], world["tenant"])["counts"]
    since = xero_last_seq(world["url"])
    weekly(world)
    assert tenant(world["url"], world["tenant"])["counts"] == before
    assert Counter(c["method"] for c in xero_api_calls(world["url"], since)) == {"GET": 4}


def test_a_429_mid_run_is_waited_out_as_xero_asks_and_no_page_is_read_twice(world: dict[str, Any]) -> None:
    import time

    from booksync import wiring

    seed_books(world, 3, 2, 2, 1)
    service = wiring.import_service()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    service.sleep = sleep
    # Xero answers the Items read with its minute limit once (429, Retry-After: 1, X-Rate-Limit-Problem: minute)
    httpx.post(
        f"{world['url']}/_sandbox/faults",
        json={"provider": "xero", "method": "GET", "path": "/api.xro/2.0/Items$", "mode": "status", "status": 429,
              "retry_after": 1, "count": 1},
    ).raise_for_status()  # fmt: skip
    since = xero_last_seq(world["url"])
    weekly(world)
    calls = xero_api_calls(world["url"], since)
    assert [(describe(c), c["status"]) for c in calls] == [
        ("Contacts p1", 200),
        ("Items", 429),
        ("Items", 200),
        ("Invoices p1", 200),
        ("Payments p1", 200),
    ]
    assert waits and waits[0] >= 1.0  # the wait Xero named, not a guess
    run = integration()["health"]["lastImport"]
    assert run["status"] == "succeeded" and run["pages"] == 4
    assert run["counts"]["item"]["created"] == 2 and run["counts"]["customer"]["created"] == 3
