"""Imports from Wave end to end: handlers in-process, moto server and the Wave GraphQL sandbox over real HTTP.

Bulk data is seeded through the sandbox's own mutation resolvers in-process (``wave_helpers.wave_mutate``, under the
sandbox lock): the same validation as over HTTP, without the 60-per-minute limit. Every provider call the importer
makes is counted from the sandbox's request log (``/_sandbox/requests``); since Wave is one URL, what each call asked
is read from the sandbox's operation record (``WaveSandbox.operations``, the same seq numbers).

Wave's API has no server clock: the importer stamps a run with BlueClerk's clock. A week passing moves the sandbox's
clock, so the fixture makes BlueClerk's clock (the importer's and the token manager's) follow it, as a real week
passes for both.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from graphql import parse, validate

from local.sandbox.wave_schema import schema
from tests.helpers import http_event, invoke
from tests.integration.test_import_qbo import (
    COMPANY,
    ScriptedContext,
    advance,
    api,
    fan_out,
    list_all,
    post_import,
    stored,
    weekly,
)
from tests.integration.wave_helpers import (
    connect_wave,
    drain,
    seed_wave_books,
    tenant,
    wave_api_calls,
    wave_last_seq,
    wave_mutate,
    wave_operations,
    wave_sandbox,
    wave_world,
)

pytestmark = pytest.mark.moto_server

PAGE = 200  # Wave's pageSize cap


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    with wave_world() as w:
        w["business"] = connect_wave(COMPANY)
        drain(w["aws"]["sqs"], w["aws"]["queues"]["import"], "import_changes")  # whatever connecting queued
        clock = w["sandbox"].core.clock
        monkeypatch.setattr("booksync.providers.wave.imports.utcnow", clock.now)
        from booksync import wiring

        pacer = wiring.rate_pacer()  # BlueClerk's own pacing of provider calls keeps the provider's (sandbox) time
        pacer.clock, pacer.sleep = clock.timestamp, lambda seconds: advance(w, seconds)
        yield w
        _documents_were_valid(w)


def _documents_were_valid(world: dict[str, Any]) -> None:
    """Every import document the importer sent validates against the shared Wave schema, and Wave refused none."""
    from booksync.providers import importer
    from booksync.providers.wave.imports import DOCUMENTS

    for kind in set(importer("wave").sent):
        assert validate(schema(), parse(DOCUMENTS[kind][1])) == [], kind
    stats = tenant(world["url"], world["business"])["stats"]
    assert (stats["validation_failures"], stats["bad_user_input"]) == (0, 0), stats


def integration(company: str = COMPANY) -> dict[str, Any]:
    r = invoke(api(), http_event("api/list_integrations.json", company=company))
    assert r.status == 200, r.body
    return next(i for i in r.body["data"] if i["provider"] == "wave")


def last_import() -> dict[str, Any]:
    return dict(integration()["health"]["lastImport"])


def patch(world: dict[str, Any], mutation: str, **fields: Any) -> None:
    wave_mutate(world, world["business"], mutation, [fields])


def wave_record(world: dict[str, Any], table: str, record_id: str) -> dict[str, Any]:
    with world["sandbox"].core.lock:
        return dict(getattr(wave_sandbox(world).businesses[world["business"]], table)[record_id])


# ---- tests -------------------------------------------------------------------------------------------------------
def test_all_import_documents_validate_against_the_shared_wave_schema() -> None:
    from booksync.providers.wave.imports import DOCUMENTS

    assert set(DOCUMENTS) == {"customer", "item", "invoice"}  # payments come nested in invoices
    for kind, (_field, document) in DOCUMENTS.items():
        assert validate(schema(), parse(document)) == [], kind


def test_first_import_reads_each_kind_in_ceil_n_over_200_calls_and_creates_everything_once(
    world: dict[str, Any],
) -> None:
    n = {"customer": 401, "item": 3, "invoice": 5, "payment": 2}  # 10,000 each: test_import_soak_wave.py
    made = seed_wave_books(world, world["business"], *n.values())
    since = wave_last_seq(world)
    # When the weekly job runs for the first time (no watermark yet: a full import)
    weekly(world)
    calls = wave_api_calls(world, since)
    # Then each kind cost exactly ceil(N / 200) calls (payments ride on their invoices): no empty page was asked for
    expected = sum(math.ceil(n[k] / PAGE) for k in ("customer", "item", "invoice"))
    assert len(calls) == expected == 5, wave_operations(world, since)
    assert all(c["status"] == 200 and not c["token_refresh"] for c in calls)
    assert wave_operations(world, since) == [
        "ImportCustomers 1",
        "ImportCustomers 2",
        "ImportCustomers 3",
        "ImportProducts 1",
        "ImportInvoices 1",
    ]
    with world["sandbox"].core.lock:
        asked = [o["variables"] for o in wave_sandbox(world).operations if o["seq"] > since]
    assert all(v["pageSize"] == PAGE and "after" not in v for v in asked)  # a full import: no modifiedAtAfter
    # And BlueClerk holds each record once, linked to its Wave id
    customers = stored("customer")
    assert len(customers) == 401 and {c.provider_ids["wave"] for c in customers} == set(made["customer"])
    assert {i.provider_ids["wave"] for i in stored("item")} == set(made["item"])
    invoices = list_all("/invoices")
    assert len(invoices) == 5 and all(i["syncStatus"] == "synced" for i in invoices)
    paid = next(i for i in invoices if i["providerIds"]["wave"] == made["invoice"][0])
    detail = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{paid['id']}")).body
    assert (detail["total"], detail["amountPaid"], detail["balance"]) == ("20.00", "5.00", "15.00")
    assert detail["lines"][0]["quantity"] == "2" and detail["lines"][0]["unitPrice"] == "10.00"
    (payment,) = detail["payments"]
    assert payment["providerIds"]["wave"] == made["payment"][0]
    assert (payment["method"], payment["reference"], payment["date"]) == ("check", "CHK-0", "2025-03-05")
    # And the health screen shows the run
    last = last_import()
    assert last["status"] == "succeeded" and last["trigger"] == "weekly"
    assert last["calls"] == 5 and last["pages"] == 5 and last["errorCount"] == 0
    assert last["counts"]["customer"]["created"] == 401 and last["counts"]["payment"]["created"] == 2
    assert last["watermark"] and last["lastSuccessAt"]


def test_an_unchanged_week_costs_one_call_per_kind_and_a_changed_one_imports_only_the_changes(
    world: dict[str, Any],
) -> None:
    business = world["business"]
    made = seed_wave_books(world, business, 30, 5, 10, 4)
    advance(world, 3600)  # the books were written an hour before the first run (outside the next run's overlap)
    weekly(world)
    assert last_import()["counts"]["invoice"]["created"] == 10
    # Given a week passes with nothing changed in Wave
    advance(world, 7 * 86400)
    since = wave_last_seq(world)
    weekly(world)
    # Then the run asked Wave once per kind, for what changed since the last run, and read nothing
    assert wave_operations(world, since) == ["ImportCustomers 1", "ImportProducts 1", "ImportInvoices 1"]
    with world["sandbox"].core.lock:
        asked = [o["variables"] for o in wave_sandbox(world).operations if o["seq"] > since]
    assert all(v.get("after") for v in asked)
    last = last_import()
    assert last["calls"] == 3 and last["status"] == "succeeded"
    assert all(c["read"] == c["created"] == c["updated"] == 0 for c in last["counts"].values()), last["counts"]
    # When a customer's email and a product's price change in Wave, a new invoice is added and one is paid again
    cust, product = made["customer"][3], made["item"][1]
    patch(world, "customerPatch", id=cust, email="new.mail@example.com")
    patch(world, "productPatch", id=product, unitPrice="99.50")
    patch(
        world,
        "invoiceCreate",
        businessId=business,
        customerId=cust,
        invoiceNumber="NEW-1",
        status="SAVED",
        items=[{"productId": product, "quantity": "1", "unitPrice": "99.50"}],
    )
    patch(
        world,
        "invoicePaymentCreateManual",
        invoiceId=made["invoice"][7],
        paymentAccountId=next(iter(_cash(world))),
        amount="20.00",
        paymentDate=dt.date(2025, 4, 1),
        paymentMethod="CASH",
        exchangeRate="1",
    )
    advance(world, 7 * 86400)
    since = wave_last_seq(world)
    weekly(world)
    # Then one call per kind brought exactly those changes
    assert len(wave_api_calls(world, since)) == 3
    counts = last_import()["counts"]
    assert (counts["customer"]["read"], counts["customer"]["updated"]) == (1, 1)
    assert (counts["item"]["read"], counts["item"]["updated"]) == (1, 1)
    assert (counts["invoice"]["read"], counts["invoice"]["created"], counts["invoice"]["unchanged"]) == (2, 1, 1)
    assert (counts["payment"]["read"], counts["payment"]["created"]) == (1, 1)
    local = next(c for c in list_all("/customers") if c["providerIds"]["wave"] == cust)
    assert local["email"] == "new.mail@example.com"
    item = next(i for i in list_all("/items") if i["providerIds"]["wave"] == product)
    assert item["price"] == "99.50"
    invoices = {i["number"]: i for i in list_all("/invoices")}
    assert "NEW-1" in invoices
    paid = invoke(api(), http_event("api/get_invoice.json", path=f"/invoices/{invoices['W00007']['id']}")).body
    assert paid["amountPaid"] == "20.00" and paid["status"] == "PAID"


def _cash(world: dict[str, Any]) -> list[str]:
    with world["sandbox"].core.lock:
        accounts = wave_sandbox(world).businesses[world["business"]].accounts
        return [a["id"] for a in accounts.values() if a["name"] == "Cash on Hand"]


def test_an_interrupted_run_resumes_where_it_stopped_without_rereading_finished_pages(world: dict[str, Any]) -> None:
    seed_wave_books(world, world["business"], 401, 2, 1, 0)
    since = wave_last_seq(world)
    # Given the first invocation has time for one page only (then less than the safety margin)
    responses = weekly(world, ScriptedContext([300_000, 1_000]))
    assert responses[0] == {"batchItemFailures": []}
    run = last_import()
    assert run["status"] == "running" and run["pages"] == 1
    assert run["counts"]["customer"]["created"] == PAGE
    assert wave_operations(world, since) == ["ImportCustomers 1"]
    continued = world["aws"]["sqs"].get_queue_attributes(
        QueueUrl=world["aws"]["queues"]["import"], AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    assert continued == "1"
    # Then it re-enqueued itself; the next invocation finishes the run
    drain(world["aws"]["sqs"], world["aws"]["queues"]["import"], "import_changes")
    run = last_import()
    assert run["status"] == "succeeded", run
    # And no page was read twice
    assert wave_operations(world, since) == [
        "ImportCustomers 1",
        "ImportCustomers 2",
        "ImportCustomers 3",
        "ImportProducts 1",
        "ImportInvoices 1",
    ]
    assert len(wave_api_calls(world, since)) == 5
    assert run["calls"] == 5 and run["pages"] == 5 and run["counts"]["customer"]["created"] == 401
    assert len(stored("customer")) == 401


def test_customer_import_classifies_and_rerunning_it_changes_nothing(world: dict[str, Any]) -> None:
    business = world["business"]
    wave_mutate(
        world,
        business,
        "customerCreate",
        [
            {"businessId": business, "name": "Jane Doe", "firstName": "Jane", "lastName": "Doe"},
            {"businessId": business, "name": "Smith Builders LLC", "address": {"addressLine1": "400 Commerce Way"}},
            {"businessId": business, "name": "Home Depot #4521"},
            {"businessId": business, "name": "Acme Plumbing Supply", "email": "ap@acme.example"},
        ],
    )
    since = wave_last_seq(world)
    r = post_import()
    assert r.status == 200, r.body
    assert r.body["status"] == "completed"
    assert (r.body["imported"], r.body["created"], r.body["updated"], r.body["unchanged"]) == (4, 4, 0, 0)
    assert sum(r.body["byClass"].values()) == 4
    assert wave_operations(world, since) == ["ImportCustomers 1"]  # customers only
    before = {c["id"]: c for c in list_all("/customers")}
    assert {c["classification"] for c in before.values()} <= {"Homeowner", "Business", "Builder"}
    # When it is run again with nothing changed in Wave, nothing changes in BlueClerk
    again = post_import()
    assert again.status == 200
    assert (again.body["imported"], again.body["created"], again.body["updated"], again.body["unchanged"]) == (
        4,
        0,
        0,
        4,
    )
    assert again.body["byClass"] == r.body["byClass"]
    assert {c["id"]: c for c in list_all("/customers")} == before


def test_archived_customers_and_products_are_imported_as_inactive_and_drafts_wait_for_approval(
    world: dict[str, Any],
) -> None:
    business = world["business"]
    made = seed_wave_books(world, business, 2, 2, 1, 0)
    with world["sandbox"].core.lock:  # archived in Wave (the sandbox has no archive mutation: set the flag)
        books = wave_sandbox(world).businesses[business]
        books.customers[made["customer"][1]]["isArchived"] = True
        books.products[made["item"][1]]["isArchived"] = True
    (draft,) = wave_mutate(
        world,
        business,
        "invoiceCreate",
        [
            {
                "businessId": business,
                "customerId": made["customer"][0],
                "invoiceNumber": "DRAFT-1",
                "items": [{"productId": made["item"][0], "quantity": "1"}],
            }
        ],
    )
    weekly(world)
    # Then the archived ones are in BlueClerk (invoices refer to them) and the draft is not (not in the books yet)
    assert len(stored("customer")) == 2 and len(stored("item")) == 2
    assert [i["number"] for i in list_all("/invoices")] == ["W00000"]
    from booksync.providers.wave.imports import customer, item  # the archived flag: inactive in the neutral record

    assert customer(wave_record(world, "customers", made["customer"][1])).active is False
    assert item(wave_record(world, "products", made["item"][1]) | {"incomeAccount": None}).active is False
    # When the draft is approved in Wave, the next run brings it
    advance(world, 86400)
    wave_mutate(world, business, "invoiceApprove", [{"invoiceId": draft}])
    weekly(world)
    assert sorted(i["number"] for i in list_all("/invoices")) == ["DRAFT-1", "W00000"]


def test_records_blueclerk_already_has_are_linked_by_natural_key_not_duplicated(world: dict[str, Any]) -> None:
    business = world["business"]
    # Given BlueClerk already has a customer, an item and an invoice (never pushed: the sync queue is not drained)
    cust = invoke(api(), http_event("api/create_customer.json", body={"name": "Jane Doe", "email": "jane@example.com"}))
    assert cust.status == 201, cust.body
    item = invoke(api(), http_event("api/create_item.json", body={"name": "Drain snaking", "price": "150.00"}))
    assert item.status == 201, item.body
    body = {
        "number": "W-100",
        "customerId": cust.body["id"],
        "issueDate": "2025-03-01",
        "dueDate": "2025-03-31",
        "lines": [{"itemId": item.body["id"], "quantity": "1", "unitPrice": "150.00"}],
    }
    inv = invoke(api(), http_event("api/create_invoice.json", body=body))
    assert inv.status == 201, inv.body
    # And Wave has the same customer (other case, same email), product and invoice number
    sales = next(iter(_income(world)))
    (wave_cust,) = wave_mutate(
        world, business, "customerCreate", [{"businessId": business, "name": "jane doe", "email": "jane@example.com"}]
    )
    (product,) = wave_mutate(
        world,
        business,
        "productCreate",
        [{"businessId": business, "name": "Drain snaking", "unitPrice": "150.00", "incomeAccountId": sales}],
    )
    (wave_inv,) = wave_mutate(
        world,
        business,
        "invoiceCreate",
        [
            {
                "businessId": business,
                "customerId": wave_cust,
                "invoiceNumber": "W-100",
                "status": "SAVED",
                "invoiceDate": dt.date(2025, 3, 1),
                "dueDate": dt.date(2025, 3, 31),
                "items": [{"productId": product, "quantity": "1", "unitPrice": "150.00"}],
            }
        ],
    )
    weekly(world)
    # Then each exists once in BlueClerk, linked to its Wave twin
    (customer,) = list_all("/customers")
    assert customer["id"] == cust.body["id"] and customer["providerIds"]["wave"] == wave_cust
    (local_item,) = list_all("/items")
    assert local_item["id"] == item.body["id"] and local_item["providerIds"]["wave"] == product
    (invoice,) = list_all("/invoices")
    assert invoice["id"] == inv.body["id"] and invoice["providerIds"]["wave"] == wave_inv
    counts = last_import()["counts"]
    assert all(c["created"] == 0 for c in counts.values()), counts
    # And running it again adds nothing
    advance(world, 86400)
    weekly(world)
    assert len(list_all("/customers")) == len(list_all("/items")) == len(list_all("/invoices")) == 1


def _income(world: dict[str, Any]) -> list[str]:
    with world["sandbox"].core.lock:
        accounts = wave_sandbox(world).businesses[world["business"]].accounts
        return [a["id"] for a in accounts.values() if a["name"] == "Sales"]


def test_a_dead_token_raises_one_needs_reauth_notification_not_one_per_week(world: dict[str, Any]) -> None:
    from booksync import wiring

    seed_wave_books(world, world["business"], 3, 1, 1, 0)
    weekly(world)
    tokens = wiring.token_manager().current(COMPANY, "wave")
    revoke = httpx.post(
        f"{world['url']}/wave/oauth2/token/revoke/",
        data={"token": tokens.refresh_token, "client_id": "local-wave-client", "client_secret": "local-wave-secret"},
    )
    assert revoke.status_code == 200, revoke.text
    for _week in range(3):
        advance(world, 7 * 86400)
        weekly(world)
    notes = invoke(api(), http_event("api/list_notifications.json")).body
    reauth = [n for n in notes["data"] if n["code"] == "needs_reauth"]
    assert len(reauth) == 1 and reauth[0]["occurrences"] == 1, notes
    assert [n["code"] for n in notes["data"]] == ["needs_reauth"]
    row = integration()
    assert row["status"] == "needs_reauth"
    assert row["health"]["lastImport"]["status"] == "failed"
    assert row["health"]["lastImport"]["lastError"] == "needs_reauth"
    assert fan_out(world)["jobs"] == 0  # it left the connected index


def test_a_rate_limited_page_waits_retry_after_and_the_run_goes_on_without_rereading(world: dict[str, Any]) -> None:
    from booksync import wiring

    seed_wave_books(world, world["business"], 401, 1, 1, 0)
    # Wave allows 3 requests a minute here and answers 429 with Retry-After: 30; waiting moves the sandbox's clock
    httpx.post(
        f"{world['url']}/_sandbox/wave/config", json={"rate_limit_per_minute": 3, "retry_after_on_429": 30}
    ).raise_for_status()
    wiring.import_service().sleep = lambda seconds: advance(world, seconds)
    advance(world, 120)  # the connection's own calls are out of the window
    since = wave_last_seq(world)
    weekly(world)
    run = last_import()
    assert run["status"] == "succeeded", run
    ops = dict(zip(wave_operations_seqs(world, since), wave_operations(world, since), strict=True))
    answered = [(ops[c["seq"]], c["status"]) for c in wave_api_calls(world, since)]
    # the three customer pages fill the minute; the products page is refused twice, then answered 60 s later
    assert answered == [
        ("ImportCustomers 1", 200),
        ("ImportCustomers 2", 200),
        ("ImportCustomers 3", 200),
        ("ImportProducts 1", 429),
        ("ImportProducts 1", 429),
        ("ImportProducts 1", 200),
        ("ImportInvoices 1", 200),
    ], answered
    assert run["calls"] == 5 and run["pages"] == 5 and len(stored("customer")) == 401


def wave_operations_seqs(world: dict[str, Any], since: int) -> list[int]:
    with world["sandbox"].core.lock:
        return [o["seq"] for o in wave_sandbox(world).operations if o["seq"] > since]


def test_invoice_lines_and_payment_mapping() -> None:
    from booksync.providers.wave.imports import invoice, payment

    row = {
        "id": "inv1",
        "invoiceNumber": "W-1",
        "status": "PARTIAL",
        "invoiceDate": "2025-03-01",
        "dueDate": "2025-03-31",
        "memo": "BlueClerk invoice inv_x",
        "customer": {"id": "c1"},
        "total": {"value": "49.99"},
        "amountDue": {"value": "29.99"},
        "items": [
            {
                "product": {"id": "p1"},
                "description": None,
                "quantity": "1.5",
                "unitPrice": "33.33",
                "subtotal": {"value": "50.00"},
            },
        ],
    }
    got = invoice(row)
    assert (got.total, got.balance, got.marker, got.voided) == (Decimal("49.99"), Decimal("29.99"), row["memo"], False)
    (line,) = got.lines
    assert (line.quantity, line.unit_price, line.amount) == (Decimal("1.5"), Decimal("33.33"), Decimal("50.00"))
    ours = payment(
        {"id": "p", "amount": "20", "memo": "BlueClerk payment pay_1 (ref CHK-9)", "paymentMethod": "CASH"}, "inv1"
    )
    assert (ours.reference, ours.method, ours.applications[0].amount) == ("CHK-9", "cash", Decimal("20.00"))
    assert payment({"id": "p", "amount": "1", "memo": "BlueClerk payment pay_1"}, "inv1").reference is None
    assert payment({"id": "p", "amount": "1", "paymentMethod": "PAYPAL"}, "i").method == "other"


def test_a_kind_nested_in_another_rides_on_its_pages_and_is_kept_only_when_wanted() -> None:
    """KindPager.nested_kinds (Wave: payments inside invoices): never walked on its own, no call of its own."""
    from booksync.imports.paging import KindPage, KindPager
    from booksync.imports.ports import Application, ImportedInvoice, ImportedPayment, Kind
    from booksync.sync.ports import Session

    class Books(KindPager):
        name = "fake"
        kinds: tuple[Kind, ...] = ("invoice", "payment")
        nested_kinds: dict[Kind, Kind] = {"payment": "invoice"}  # noqa: RUF012

        def __init__(self) -> None:
            self.asked: list[str] = []

        def read_kind(self, s: Session, kind: Kind, since: Any, token: str | None) -> KindPage:
            self.asked.append(kind)
            inv = ImportedInvoice(provider_id="i1", number="1", customer_id="c", lines=(), total=Decimal(1), balance=0)
            pay = ImportedPayment(
                provider_id="p1", date=dt.date(2025, 1, 1), total=Decimal(1), applications=(Application("i1", 1),)
            )
            return KindPage(records=[inv], nested={"payment": [pay]})

    session = Session(tenant_id="t", access_token="a")
    for wanted, invoices, payments in (
        (["invoice", "payment"], ["i1"], ["p1"]),
        (["invoice"], ["i1"], []),
        (["payment"], [], ["p1"]),  # the carrier is read for its payments, its own records are not kept
    ):
        books = Books()
        page = books.read(session, wanted, None, None)  # type: ignore[arg-type]
        assert [i.provider_id for i in page.invoices] == invoices
        assert [p.provider_id for p in page.payments] == payments
        assert books.asked == ["invoice"] and page.next_cursor is None
    assert Books().read(session, ["customer"], None, None).calls == 0  # nothing of it wanted: nothing read
