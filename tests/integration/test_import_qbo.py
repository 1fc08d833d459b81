"""Imports from QuickBooks end to end: handlers in-process, moto server and the QuickBooks sandbox over real HTTP.

Bulk data is seeded through the sandbox's in-process core (``SandboxServer.core``, under its lock), the way its
own handlers store it — POSTing thousands of objects through the rate-limited API would only test the seeding.
Every provider call the importer makes is counted from the sandbox's request log (``/_sandbox/requests``).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from unittest import mock
from urllib.parse import parse_qs

import httpx
import pytest

from tests.helpers import LambdaContext, http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.qbo_helpers import connect_quickbooks, drain, qbo_world, tenant

pytestmark = pytest.mark.moto_server

COMPANY = "co_a"


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with qbo_world() as w:
        w["realm"] = connect_quickbooks(COMPANY)
        yield w


# ---- sandbox helpers ---------------------------------------------------------------------------------------------
def qbo(world: dict[str, Any]) -> Any:
    return world["sandbox"].core.providers["quickbooks"]


def seed(world: dict[str, Any], entity: str, bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Create objects in the realm through the sandbox's own validation (its builders), under the sandbox lock."""
    core, sandbox = world["sandbox"].core, qbo(world)
    with core.lock:
        realm = sandbox.realms[world["realm"]]
        return [sandbox._create(realm, entity, body, set()) for body in bodies]


def qbo_update(world: dict[str, Any], entity: str, entity_id: str, **changes: Any) -> dict[str, Any]:
    core, sandbox = world["sandbox"].core, qbo(world)
    with core.lock:
        realm = sandbox.realms[world["realm"]]
        current = realm.get(entity, entity_id)
        body = {"Id": entity_id, "SyncToken": current["SyncToken"], "sparse": True, **changes}
        return dict(sandbox._update(realm, entity, body, set()))


def income_account(world: dict[str, Any]) -> str:
    with world["sandbox"].core.lock:
        return str(qbo(world).realms[world["realm"]].find_by_name("Account", "Name", "Services")["Id"])


def seed_books(
    world: dict[str, Any], customers: int, items: int, invoices: int, payments: int, prefix: str = ""
) -> dict[str, list[dict[str, Any]]]:
    account = income_account(world)
    made: dict[str, list[dict[str, Any]]] = {}
    made["Customer"] = seed(
        world,
        "Customer",
        [
            {
                "DisplayName": f"{prefix}Customer {i:05d}",
                "GivenName": "Pat",
                "FamilyName": f"Doe{i}",
                "BillAddr": {"Line1": f"{i} Oak Lane", "City": "Springfield"},
            }
            for i in range(customers)
        ],
    )
    made["Item"] = seed(
        world,
        "Item",
        [
            {
                "Name": f"{prefix}Service {i:05d}",
                "Type": "Service",
                "UnitPrice": 10 + i % 7,
                "IncomeAccountRef": {"value": account},
            }
            for i in range(items)
        ],
    )
    made["Invoice"] = seed(
        world,
        "Invoice",
        [
            {
                "CustomerRef": {"value": made["Customer"][i % customers]["Id"]},
                "DocNumber": f"{prefix}Q{i:05d}",
                "TxnDate": "2025-03-01",
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": 20,
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": made["Item"][i % items]["Id"]},
                            "Qty": 2,
                            "UnitPrice": 10,
                        },
                    }
                ],
            }
            for i in range(invoices)
        ],
    )
    made["Payment"] = seed(
        world,
        "Payment",
        [
            {
                "CustomerRef": {"value": made["Invoice"][i]["CustomerRef"]["value"]},
                "TotalAmt": 5,
                "TxnDate": "2025-03-05",
                "Line": [{"Amount": 5, "LinkedTxn": [{"TxnId": made["Invoice"][i]["Id"], "TxnType": "Invoice"}]}],
            }
            for i in range(payments)
        ],
    )
    return made


def last_seq(world: dict[str, Any]) -> int:
    return int(httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": "quickbooks"}).json()["last_seq"])


def api_calls(world: dict[str, Any], since: int) -> list[dict[str, Any]]:
    """Accounting API requests received since ``since`` (token refreshes and control calls excluded)."""
    rows = httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": "quickbooks", "since": since}).json()
    return [r for r in rows["requests"] if "/v3/company/" in r["path"]]


def describe(call: dict[str, Any]) -> str:
    path = call["path"].rsplit("/", 1)[-1]
    if path == "query":
        statement = parse_qs(call["query"])["query"][0]
        return f"query {statement.split(' from ')[1].split()[0]} {statement.split('startposition ')[1].split()[0]}"
    return f"{call['method']} {path}"


# ---- app helpers -------------------------------------------------------------------------------------------------
def api() -> Any:
    return load_function("api").lambda_handler


def post_import(company: str = COMPANY) -> Any:
    return invoke(
        api(), http_event("api/list_integrations.json", method="POST", path="/customers/import", company=company)
    )


def list_all(path: str, company: str = COMPANY) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = invoke(api(), http_event("api/list_customers.json", path=path, query=query, company=company))
        assert page.status == 200, page.body
        out += page.body["data"]
        cursor = page.body.get("nextCursor")
        if not cursor:
            return out


def integration(provider: str = "quickbooks", company: str = COMPANY) -> dict[str, Any]:
    r = invoke(api(), http_event("api/list_integrations.json", company=company))
    assert r.status == 200, r.body
    return next(i for i in r.body["data"] if i["provider"] == provider)


class ScriptedContext(LambdaContext):
    """A Lambda context whose remaining time follows a script (then stays at the last value)."""

    def __init__(self, remaining_ms: list[int]) -> None:
        super().__init__()
        self.script = list(remaining_ms)

    def get_remaining_time_in_millis(self) -> int:
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]


def sandbox_now(world: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(httpx.get(f"{world['url']}/_sandbox/clock").json()["now"])


def fan_out(world: dict[str, Any]) -> dict[str, Any]:
    """The Sunday schedule fires: the fan-out names its run after the day (the sandbox's day: tests move its clock)."""
    with mock.patch("booksync.sync.schedule.utcnow", return_value=sandbox_now(world)):
        return dict(
            load_function("weekly_sync").lambda_handler(
                {"source": "blueclerk.scheduler", "job": "weekly_sync"}, LambdaContext()
            )
        )


def weekly(world: dict[str, Any], context: LambdaContext | None = None) -> list[dict[str, Any]]:
    """Fire the weekly fan-out and feed the import queue to ImportChangesFunction (as real SQS batches). Our token
    manager reads the sandbox's clock, as a real week would pass for both (an expired access token is refreshed
    before the call, not discovered by a 401)."""
    from booksync import wiring

    wiring.token_manager().clock = lambda: sandbox_now(world).timestamp()
    fan_out(world)
    sqs, queue = world["aws"]["sqs"], world["aws"]["queues"]["import"]
    if context is None:
        return drain(sqs, queue, "import_changes")
    handler = load_function("import_changes").lambda_handler
    msgs = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
    responses = []
    for m in msgs:
        event = {"Records": [_record(sqs, queue, m)]}
        responses.append(handler(event, context))
        sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return responses


def _record(sqs: Any, queue: str, m: dict[str, Any]) -> dict[str, Any]:
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m["Attributes"],
        "messageAttributes": {},
        "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "us-east-1",
    }


def advance(world: dict[str, Any], seconds: float) -> None:
    httpx.post(f"{world['url']}/_sandbox/clock", json={"advance": seconds}).raise_for_status()


def stored(kind: str) -> list[Any]:
    """BlueClerk's records of a kind, read straight from the table (faster than paging the API 100 at a time)."""
    from booksync.adapters.dynamodb import ImportRepository

    repo = ImportRepository()
    return repo.customer_index(COMPANY) if kind == "customer" else repo.item_index(COMPANY)


def history(entity_type: str, entity_id: str) -> list[dict[str, Any]]:
    from booksync.adapters.dynamodb import SyncHistoryRepository

    return SyncHistoryRepository().list_for(COMPANY, entity_type, entity_id)


# ---- tests -------------------------------------------------------------------------------------------------------
def test_first_import_reads_each_kind_in_ceil_n_over_1000_calls_and_creates_everything_once(
    world: dict[str, Any],
) -> None:
    n = {"Customer": 1000, "Item": 1001, "Invoice": 12, "Payment": 8}  # 10,000 each: test_import_soak.py
    made = seed_books(world, n["Customer"], n["Item"], n["Invoice"], n["Payment"])
    since = last_seq(world)
    # When the weekly job runs for the first time (no watermark yet: a full import)
    weekly(world)
    calls = api_calls(world, since)
    # Then each kind cost exactly ceil(N / 1000) calls: a batch (count + first page), then plain pages; no empty page
    assert len(calls) == sum(math.ceil(v / 1000) for v in n.values()) == 5, [describe(c) for c in calls]
    pages = Counter(describe(c) if c["method"] == "POST" else describe(c).rsplit(" ", 1)[0] for c in calls)
    assert pages == {"POST batch": 4, "query Item": 1}, pages  # 1000 customers: one page, and no empty second one
    assert [describe(c) for c in calls if c["method"] == "GET"] == ["query Item 1001"]
    assert "maxresults 1000" in parse_qs(calls[2]["query"])["query"][0]
    assert all(c["status"] == 200 for c in calls)
    # And BlueClerk holds each record once, linked to its QuickBooks id
    customers = stored("customer")
    assert len(customers) == 1000 and len({c.provider_ids["quickbooks"] for c in customers}) == 1000
    assert len(stored("item")) == 1001
    invoices = list_all("/invoices")
    assert len(invoices) == 12 and all(i["syncStatus"] == "synced" for i in invoices)
    paid = next(i for i in invoices if i["providerIds"]["quickbooks"] == made["Invoice"][0]["Id"])
    detail = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{paid['id']}")).body
    assert (detail["total"], detail["amountPaid"], detail["balance"]) == ("20.00", "5.00", "15.00")
    assert detail["lines"][0]["quantity"] == "2" and detail["lines"][0]["unitPrice"] == "10.00"
    assert len(detail["payments"]) == 1
    assert detail["payments"][0]["providerIds"]["quickbooks"]
    # And the health screen shows the run
    last = integration()["health"]["lastImport"]
    assert last["status"] == "succeeded" and last["trigger"] == "weekly"
    assert last["calls"] == 5 and last["pages"] == 5
    assert last["counts"]["customer"]["created"] == 1000 and last["counts"]["payment"]["created"] == 8
    assert last["errorCount"] == 0 and last["watermark"] and last["lastSuccessAt"]


def test_an_unchanged_week_costs_one_cdc_call_and_a_changed_one_imports_only_the_changes(world: dict[str, Any]) -> None:
    made = seed_books(world, 30, 5, 10, 4)
    weekly(world)
    # Given a week passes with nothing changed in QuickBooks
    advance(world, 7 * 86400)
    since = last_seq(world)
    weekly(world)
    calls = api_calls(world, since)
    # Then the run asked QuickBooks exactly once: one CDC call for all four kinds
    assert [describe(c) for c in calls] == ["GET cdc"], [describe(c) for c in calls]
    assert parse_qs(calls[0]["query"])["entities"] == ["Customer,Item,Invoice,Payment"]
    last = integration()["health"]["lastImport"]
    assert last["calls"] == 1 and last["status"] == "succeeded"
    assert all(c["created"] == c["updated"] == 0 for c in last["counts"].values())
    # When a customer's email and an item's price change in QuickBooks, and a new invoice is added
    cust = made["Customer"][3]
    qbo_update(world, "Customer", cust["Id"], PrimaryEmailAddr={"Address": "new.mail@example.com"})
    qbo_update(world, "Item", made["Item"][1]["Id"], UnitPrice=99.5)
    seed(
        world,
        "Invoice",
        [
            {
                "CustomerRef": {"value": cust["Id"]},
                "DocNumber": "NEW-1",
                "Line": [
                    {
                        "DetailType": "SalesItemLineDetail",
                        "Amount": 99.5,
                        "SalesItemLineDetail": {
                            "ItemRef": {"value": made["Item"][1]["Id"]},
                            "Qty": 1,
                            "UnitPrice": 99.5,
                        },
                    }
                ],
            }
        ],
    )
    advance(world, 7 * 86400)
    since = last_seq(world)
    weekly(world)
    # Then one CDC call brought exactly those changes
    assert [describe(c) for c in api_calls(world, since)] == ["GET cdc"]
    counts = integration()["health"]["lastImport"]["counts"]
    assert counts["customer"]["updated"] == 1 and counts["item"]["updated"] == 1 and counts["invoice"]["created"] == 1
    local = next(c for c in list_all("/customers") if c["providerIds"]["quickbooks"] == cust["Id"])
    assert local["email"] == "new.mail@example.com"
    item = next(i for i in list_all("/items") if i["providerIds"]["quickbooks"] == made["Item"][1]["Id"])
    assert item["price"] == "99.50"
    assert "NEW-1" in {i["number"] for i in list_all("/invoices")}


def test_an_interrupted_run_resumes_where_it_stopped_without_rereading_finished_pages(world: dict[str, Any]) -> None:
    seed_books(world, 1001, 2, 1, 0)
    since = last_seq(world)
    # Given the first invocation has time for one page only (then less than the safety margin)
    responses = weekly(world, ScriptedContext([300_000, 1_000]))
    assert responses[0] == {"batchItemFailures": []}
    run = integration()["health"]["lastImport"]
    assert run["status"] == "running" and run["pages"] == 1
    assert run["counts"]["customer"]["created"] == 1000
    assert [describe(c) for c in api_calls(world, since)] == ["POST batch"]
    continued = world["aws"]["sqs"].get_queue_attributes(
        QueueUrl=world["aws"]["queues"]["import"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert continued == "1"
    # Then it re-enqueued itself; the next invocation (plenty of time) finishes the run
    drain(world["aws"]["sqs"], world["aws"]["queues"]["import"], "import_changes")
    run = integration()["health"]["lastImport"]
    assert run["status"] == "succeeded", run
    calls = [describe(c) for c in api_calls(world, since)]
    # And no page was read twice: 2 customer pages + 1 item page + 1 invoice page + 1 payment page
    assert calls == ["POST batch", "query Customer 1001", "POST batch", "POST batch", "POST batch"]
    assert run["calls"] == 5 and run["counts"]["customer"]["created"] == 1001 and run["pages"] == 5
    assert len(stored("customer")) == 1001


def test_customer_import_classifies_counts_per_class_and_rerunning_changes_nothing(world: dict[str, Any]) -> None:
    account = income_account(world)
    del account
    rows = seed(
        world,
        "Customer",
        [
            {
                "DisplayName": "Jane Doe",
                "GivenName": "Jane",
                "FamilyName": "Doe",
                "BillAddr": {"Line1": "12 Oak Ln Apt 4B"},
            },
            {
                "DisplayName": "Bob Builder",
                "GivenName": "Bob",
                "FamilyName": "Builder",
                "BillAddr": {"Line1": "7 Birch Rd"},
            },
            {
                "DisplayName": "Smith Builders LLC",
                "CompanyName": "Smith Builders LLC",
                "BillAddr": {"Line1": "400 Commerce Way", "Line2": "Suite 10"},
            },
            {"DisplayName": "Home Depot #4521"},
            {"DisplayName": "Builders FirstSource"},
            {"DisplayName": "The Johnsons", "BillAddr": {"Line1": "9 Pine St"}},
            {"DisplayName": "Acme Plumbing Supply"},
        ],
    )
    builder_id = rows[2]["Id"]
    seed(world, "Customer", [{"DisplayName": "Lot 14 Maple Ridge", "ParentRef": {"value": builder_id}, "Job": True}])
    # When the user imports customers
    r = post_import()
    assert r.status == 200, r.body
    assert r.body["status"] == "completed"
    assert r.body["byClass"] == {"Homeowner": 3, "Business": 3, "Builder": 2}
    assert (r.body["imported"], r.body["created"], r.body["updated"], r.body["unchanged"]) == (8, 8, 0, 0)
    customers = {c["name"]: c for c in list_all("/customers")}
    assert customers["Bob Builder"]["classification"] == "Homeowner"
    assert customers["Bob Builder"]["classificationReason"].endswith("[individual_name]")
    assert customers["Builders FirstSource"]["classification"] == "Business"
    assert customers["Lot 14 Maple Ridge"]["classification"] == "Builder"
    assert "[job_of_parent]" in customers["Lot 14 Maple Ridge"]["classificationReason"]
    # When it is run again with nothing changed in QuickBooks, nothing changes in BlueClerk
    before = {c["id"]: c for c in list_all("/customers")}
    again = post_import()
    assert again.status == 200
    assert (again.body["imported"], again.body["created"], again.body["updated"], again.body["unchanged"]) == (
        8,
        0,
        0,
        8,
    )
    assert again.body["byClass"] == r.body["byClass"]
    assert {c["id"]: c for c in list_all("/customers")} == before


def test_a_manual_override_sticks_across_imports(world: dict[str, Any]) -> None:
    (row,) = seed(world, "Customer", [{"DisplayName": "Maple Ridge", "BillAddr": {"Line1": "1 Ridge Rd"}}])
    assert post_import().body["byClass"]["Homeowner"] == 1
    local = next(c for c in list_all("/customers") if c["name"] == "Maple Ridge")
    r = invoke(
        api(),
        http_event(
            "api/get_invoice.json", method="PATCH", path=f"/customers/{local['id']}", body={"classification": "Builder"}
        ),
    )
    assert r.status == 200, r.body
    drain(world["aws"]["sqs"], world["aws"]["queues"]["invoice-sync"], "sync_invoice")  # the edit reaches QuickBooks
    # When the customer changes in QuickBooks and is imported again
    qbo_update(world, "Customer", row["Id"], CompanyName="Maple Ridge Homes")
    again = post_import()
    assert again.body["updated"] == 1 and again.body["byClass"]["Builder"] == 1
    local = next(c for c in list_all("/customers") if c["name"] == "Maple Ridge")
    assert local["companyName"] == "Maple Ridge Homes"
    assert (local["classification"], local["classificationReason"]) == (
        "Builder",
        "Set manually by a user (kept across imports).",
    )


def test_a_local_change_not_yet_pushed_survives_an_import_and_is_recorded(world: dict[str, Any]) -> None:
    made = seed_books(world, 2, 1, 1, 0)
    weekly(world)
    cust_pid, inv_pid = made["Customer"][0]["Id"], made["Invoice"][0]["Id"]
    local = next(c for c in list_all("/customers") if c["providerIds"]["quickbooks"] == cust_pid)
    invoice = next(i for i in list_all("/invoices") if i["providerIds"]["quickbooks"] == inv_pid)
    # Given the user edits the customer's email and the invoice's due date in BlueClerk (pushes still queued)
    r = invoke(
        api(),
        http_event(
            "api/get_invoice.json",
            method="PATCH",
            path=f"/customers/{local['id']}",
            body={"email": "local@example.com"},
        ),
    )
    assert r.status == 200, r.body
    r = invoke(
        api(),
        http_event(
            "api/get_invoice.json", method="PATCH", path=f"/invoices/{invoice['id']}", body={"dueDate": "2025-12-31"}
        ),
    )
    assert r.status == 200, r.body
    # And someone edits the same customer and invoice in QuickBooks
    qbo_update(world, "Customer", cust_pid, PrimaryEmailAddr={"Address": "books@example.com"})
    qbo_update(world, "Invoice", inv_pid, DueDate="2025-06-30")
    advance(world, 86400)  # the next day's run (runs are named after their day)
    weekly(world)
    # Then BlueClerk kept its own versions, and the sync history says why
    local = next(c for c in list_all("/customers") if c["id"] == local["id"])
    assert local["email"] == "local@example.com"
    detail = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{invoice['id']}")).body
    assert detail["dueDate"] == "2025-12-31" and detail["syncStatus"] == "not_synced"
    kept = [h for h in history("customer", local["id"]) if h["result"] == "kept_local"]
    assert len(kept) == 1 and kept[0]["provider_id"] == cust_pid
    assert [h for h in detail["syncHistory"] if h["result"] == "kept_local"]
    counts = integration()["health"]["lastImport"]["counts"]
    assert counts["customer"]["conflicts"] == 1 and counts["invoice"]["conflicts"] == 1
    # And once the queued push has run, the books hold BlueClerk's version and the next import changes nothing
    drain(world["aws"]["sqs"], world["aws"]["queues"]["invoice-sync"], "sync_invoice")
    books = tenant(world["url"], world["realm"])
    (qb_customer,) = [c for c in books["entities"]["Customer"] if c["Id"] == cust_pid]
    assert qb_customer["PrimaryEmailAddr"]["Address"] == "local@example.com"
    advance(world, 86400)  # the next day's run (runs are named after their day)
    weekly(world)
    counts = integration()["health"]["lastImport"]["counts"]
    assert counts["customer"]["conflicts"] == 0 and counts["customer"]["updated"] == 0
    assert next(c for c in list_all("/customers") if c["id"] == local["id"])["email"] == "local@example.com"


def test_customers_created_in_blueclerk_are_linked_by_name_not_duplicated(world: dict[str, Any]) -> None:
    r = invoke(api(), http_event("api/create_customer.json", body={"name": "Jane Doe", "email": "jane@example.com"}))
    assert r.status == 201, r.body
    seed(
        world,
        "Customer",
        [
            {
                "DisplayName": "jane doe",
                "PrimaryEmailAddr": {"Address": "jane@example.com"},
                "GivenName": "Jane",
                "FamilyName": "Doe",
            }
        ],
    )
    answer = post_import()
    assert answer.status == 200, answer.body
    customers = list_all("/customers")
    assert len(customers) == 1
    assert customers[0]["id"] == r.body["id"] and customers[0]["providerIds"]["quickbooks"]
    assert customers[0]["classification"] == "Homeowner"


def test_jobs_at_several_addresses_make_their_parent_a_business_and_follow_it(world: dict[str, Any]) -> None:
    (parent,) = seed(
        world,
        "Customer",
        [
            {
                "DisplayName": "Linda Park",
                "GivenName": "Linda",
                "FamilyName": "Park",
                "ShipAddr": {"Line1": "14 Maple Dr"},
            }
        ],
    )
    seed(
        world,
        "Customer",
        [
            {
                "DisplayName": "Rental A",
                "ParentRef": {"value": parent["Id"]},
                "Job": True,
                "ShipAddr": {"Line1": "5 Elm St"},
            },
            {
                "DisplayName": "Rental B",
                "ParentRef": {"value": parent["Id"]},
                "Job": True,
                "ShipAddr": {"Line1": "9 Oak Ave"},
            },
        ],
    )
    first = post_import()
    assert first.body["byClass"] == {"Homeowner": 0, "Business": 3, "Builder": 0}, first.body
    customers = {c["name"]: c for c in list_all("/customers")}
    assert customers["Linda Park"]["classificationReason"].endswith("[multiple_locations]")
    assert customers["Rental A"]["classification"] == customers["Rental B"]["classification"] == "Business"
    again = post_import()
    assert (again.body["updated"], again.body["unchanged"]) == (0, 3)
    assert {c["name"]: c for c in list_all("/customers")} == customers


def test_a_dead_token_raises_one_needs_reauth_notification_not_one_per_week(world: dict[str, Any]) -> None:
    from booksync import wiring

    seed_books(world, 3, 1, 1, 0)
    weekly(world)
    tokens = wiring.token_manager().current(COMPANY, "quickbooks")
    revoke = httpx.post(
        f"{world['url']}/quickbooks/v2/oauth2/tokens/revoke",
        json={"token": tokens.refresh_token},
        auth=("local-quickbooks-client", "local-quickbooks-secret"),
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
    # and the fan-out no longer queues this company (it left the connected index)
    fan = fan_out(world)
    assert fan["jobs"] == 0


def test_import_respects_the_sync_settings(world: dict[str, Any]) -> None:
    seed_books(world, 3, 2, 2, 0)
    body = {"syncInvoices": False, "syncCustomers": True, "syncItems": False}
    r = invoke(
        api(),
        http_event("api/list_integrations.json", method="PUT", path="/integrations/quickbooks/settings", body=body),
    )
    assert r.status == 200, r.body
    since = last_seq(world)
    weekly(world)
    assert [describe(c) for c in api_calls(world, since)] == ["POST batch"]  # customers only
    assert len(list_all("/customers")) == 3 and list_all("/items") == [] and list_all("/invoices") == []
    body = {"syncInvoices": True, "syncCustomers": False, "syncItems": True}
    invoke(
        api(),
        http_event("api/list_integrations.json", method="PUT", path="/integrations/quickbooks/settings", body=body),
    )
    refused = post_import()
    assert refused.status == 409 and refused.body["error"]["code"] == "customer_sync_off"


def test_import_without_a_connection_or_without_an_importer_answers_not_connected(world: dict[str, Any]) -> None:
    from booksync import providers

    r = post_import(company="co_nobody")
    assert r.status == 409 and r.body["error"]["code"] == "not_connected"
    with pytest.raises(Exception) as info:
        providers.importer("nonexistent")
    assert getattr(info.value, "code", None) == "not_connected"


def test_a_provider_5xx_mid_run_is_retried_by_the_queue_and_the_run_resumes(world: dict[str, Any]) -> None:
    from booksync import wiring

    wiring.import_service().backoff_cap = 0.01
    seed_books(world, 1001, 1, 1, 0)
    since = last_seq(world)
    # QuickBooks fails the second page five times (the four attempts inside the invocation, then one more)
    httpx.post(
        f"{world['url']}/_sandbox/faults",
        json={
            "provider": "quickbooks",
            "method": "GET",
            "path": "/query$",
            "mode": "status",
            "status": 503,
            "count": 5,
        },
    ).raise_for_status()
    fan = fan_out(world)
    assert fan["jobs"] == 1
    sqs, queue = world["aws"]["sqs"], world["aws"]["queues"]["import"]
    first = drain(sqs, queue, "import_changes", rounds=1)
    assert first[0]["batchItemFailures"], first  # the message failed: SQS will redeliver it
    run = integration()["health"]["lastImport"]
    assert run["status"] == "running" and run["pages"] == 1 and run["lastError"] == "provider_unavailable"
    import time

    time.sleep(2.5)  # the queue's visibility timeout in the test stack
    drain(sqs, queue, "import_changes")
    run = integration()["health"]["lastImport"]
    assert run["status"] == "succeeded"
    calls = api_calls(world, since)
    good = [describe(c) for c in calls if c["status"] == 200]
    assert good == ["POST batch", "query Customer 1001", "POST batch", "POST batch", "POST batch"]
    assert [describe(c) for c in calls if c["status"] == 503] == ["query Customer 1001"] * 5
    assert len(stored("customer")) == 1001


def test_messages_name_the_run_and_a_finished_run_is_not_run_twice(world: dict[str, Any]) -> None:
    seed_books(world, 2, 1, 1, 0)
    weekly(world)
    sqs, queue = world["aws"]["sqs"], world["aws"]["queues"]["import"]
    run_id = integration()["health"]["lastImport"]["runId"]
    body = {"companyId": COMPANY, "provider": "quickbooks", "runId": run_id, "kind": "weekly"}
    sqs.send_message(
        QueueUrl=queue,
        MessageBody=json.dumps(body),
        MessageGroupId=f"{COMPANY}#quickbooks",
        MessageDeduplicationId="again",
    )
    since = last_seq(world)
    drain(sqs, queue, "import_changes")
    assert api_calls(world, since) == []


def test_a_week_with_more_changes_than_cdc_returns_is_read_by_queries_instead(world: dict[str, Any]) -> None:
    seed_books(world, 3, 1, 1, 0)
    advance(world, 3600)  # older than the 10-minute overlap the next run re-reads
    weekly(world)
    advance(world, 86400)
    seed(world, "Customer", [{"DisplayName": f"New {i:04d}"} for i in range(1001)])  # CDC answers at most 1000
    since = last_seq(world)
    weekly(world)
    calls = [describe(c) for c in api_calls(world, since)]
    # the CDC answer was cut at 1000 objects: the same window is read by queries (2 customer pages, 1 per other kind)
    assert calls == ["GET cdc", "POST batch", "query Customer 1001", "POST batch", "POST batch", "POST batch"], calls
    counts = integration()["health"]["lastImport"]["counts"]
    assert counts["customer"]["created"] == 1001 and counts["customer"]["unchanged"] == 0
    assert len(stored("customer")) == 1004


def test_a_watermark_beyond_the_cdc_look_back_is_read_by_queries(world: dict[str, Any]) -> None:
    made = seed_books(world, 3, 1, 1, 0)
    advance(world, 3600)  # older than the 10-minute overlap the next run re-reads
    weekly(world)
    advance(world, 40 * 86400)  # the company's books moved 40 days on: CDC refuses a changedSince that old
    qbo_update(world, "Customer", made["Customer"][0]["Id"], CompanyName="Renamed Co")
    since = last_seq(world)
    weekly(world)
    calls = api_calls(world, since)
    assert [describe(c) for c in calls] == ["GET cdc", "POST batch", "POST batch", "POST batch", "POST batch"]
    assert calls[0]["status"] == 400  # refused: the look-back is 30 days
    counts = integration()["health"]["lastImport"]["counts"]
    assert counts["customer"]["updated"] == 1 and counts["customer"]["unchanged"] == 0
    assert counts["customer"]["read"] == 1  # only what changed since the watermark


def test_an_invoice_deleted_in_the_books_is_recorded_not_deleted(world: dict[str, Any]) -> None:
    made = seed_books(world, 2, 1, 2, 0)
    weekly(world)
    doomed = made["Invoice"][1]
    core, sandbox = world["sandbox"].core, qbo(world)
    with core.lock:
        realm = sandbox.realms[world["realm"]]
        sandbox._delete(
            realm, "Invoice", {"Id": doomed["Id"], "SyncToken": realm.get("Invoice", doomed["Id"])["SyncToken"]}
        )
    advance(world, 86400)
    weekly(world)
    counts = integration()["health"]["lastImport"]["counts"]
    assert counts["invoice"]["deleted"] == 1
    local = next(i for i in list_all("/invoices") if i["providerIds"]["quickbooks"] == doomed["Id"])
    assert [h["result"] for h in history("invoice", local["id"])] == ["deleted_upstream"]


def test_an_imported_item_keeps_its_income_account_when_blueclerk_pushes_it(world: dict[str, Any]) -> None:
    account = income_account(world)
    (qb_item,) = seed(
        world,
        "Item",
        [{"Name": "Drain snaking", "Type": "Service", "UnitPrice": 150, "IncomeAccountRef": {"value": account}}],
    )
    weekly(world)
    (item,) = stored("item")
    mappings = invoke(api(), http_event("api/list_integrations.json", path="/account-mappings")).body
    assert mappings["quickbooks"]["items"] == {item.id: account}
    # When the price changes in BlueClerk (no default income account is mapped) the push keeps the item's account
    r = invoke(
        api(), http_event("api/get_invoice.json", method="PATCH", path=f"/items/{item.id}", body={"price": "175.00"})
    )
    assert r.status == 200, r.body
    drain(world["aws"]["sqs"], world["aws"]["queues"]["invoice-sync"], "sync_invoice")
    (pushed,) = [i for i in tenant(world["url"], world["realm"])["entities"]["Item"] if i["Id"] == qb_item["Id"]]
    assert pushed["UnitPrice"] == 175.0 and pushed["IncomeAccountRef"]["value"] == account


def test_a_kind_by_kind_provider_needs_only_read_kind() -> None:
    """The helper other providers' importers build on: pages each kind in order, cursor opaque and resumable."""
    from decimal import Decimal

    from booksync.imports.paging import KindPage, KindPager
    from booksync.imports.ports import ImportedCustomer, ImportedItem, Kind
    from booksync.sync.ports import Session

    class Books(KindPager):
        name = "fake"
        max_page_size = 2
        kinds: tuple[Kind, ...] = ("customer", "item")

        def __init__(self) -> None:
            self.asked: list[tuple[str, str | None]] = []

        def read_kind(self, s: Session, kind: Kind, since: Any, token: str | None) -> KindPage:
            self.asked.append((kind, token))
            if kind == "customer":
                start = int(token or 0)
                rows = [ImportedCustomer(provider_id=str(i), name=f"C{i}") for i in range(start, min(start + 2, 3))]
                return KindPage(records=rows, next_token=str(start + 2) if start + 2 < 3 else None)
            return KindPage(records=[ImportedItem(provider_id="i1", name="I", price=Decimal("1.00"))], deleted=["i0"])

    books, session, cursor = Books(), Session(tenant_id="t", access_token="a"), None
    seen: list[str] = []
    while True:
        page = books.read(session, ["customer", "item", "invoice"], None, cursor)
        seen += [c.provider_id for c in page.customers] + [i.provider_id for i in page.items]
        seen += [f"-{d.kind}:{d.provider_id}" for d in page.deleted]
        cursor = page.next_cursor
        if cursor is None:
            break
        json.loads(cursor)  # a plain JSON cursor, stored in the run's checkpoint
    assert seen == ["0", "1", "2", "i1", "-item:i0"]
    assert books.asked == [("customer", None), ("customer", "2"), ("item", None)]


def test_a_never_pushed_customer_edited_after_the_books_copy_keeps_blueclerks_version(world: dict[str, Any]) -> None:
    (qb,) = seed(world, "Customer", [{"DisplayName": "Sam Rivera", "PrimaryEmailAddr": {"Address": "old@example.com"}}])

    # BlueClerk's copy is made after the books' copy (whose time is the sandbox's, in whole seconds)
    r = invoke(api(), http_event("api/create_customer.json", body={"name": "Sam Rivera", "email": "new@example.com"}))
    assert r.status == 201, r.body
    answer = post_import()
    assert answer.status == 200 and answer.body["conflicts"] == 1, answer.body
    (local,) = list_all("/customers")
    assert local["id"] == r.body["id"] and local["email"] == "new@example.com"
    assert local["providerIds"] == {"quickbooks": qb["Id"]}
    assert [h["result"] for h in history("customer", local["id"])] == ["kept_local"]
    # and BlueClerk's copy reaches the books with the queued push
    drain(world["aws"]["sqs"], world["aws"]["queues"]["invoice-sync"], "sync_invoice")
    books = tenant(world["url"], world["realm"])["entities"]["Customer"]
    assert [c["PrimaryEmailAddr"]["Address"] for c in books] == ["new@example.com"]
