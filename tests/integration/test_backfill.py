"""Backfill (issue 9): after a connect (and on demand) every sent invoice not yet in the books is pushed with its
customer, items and payments, in batches — within 1.1x the batching floor, resumable, de-duplicated with the normal
sync by the same claims."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function

pytestmark = pytest.mark.moto_server

PROVIDERS = ["quickbooks", "xero"]


# ---- seeding (also used by bench/run.py) ------------------------------------------------------------------------
def seed_books(company: str, customers: int, items: int, invoices: int, prefix: str = "BF") -> dict[str, list[str]]:
    """Write sent invoices (one payment each) straight into the table — the records the repositories write, in batch
    writes — as a company that used BlueClerk before it connected its books: nothing queued, nothing linked.
    Invoice n bills customer n % customers for item n % items."""
    from booksync.adapters.dynamodb import (
        CustomerRecord,
        CustomerRepository,
        InvoiceNumberRecord,
        InvoiceRecord,
        InvoiceRepository,
        ItemRecord,
        ItemRepository,
        PaymentRecord,
        _number_key,
        company_pk,
    )
    from booksync.catalog.models import Customer, Item
    from booksync.ids import utcnow
    from booksync.invoicing.models import Invoice, InvoiceLine, InvoiceStatus, Payment, PaymentMethod

    now = utcnow()
    out: dict[str, list[str]] = {"customers": [], "items": [], "invoices": [], "payments": []}
    with CustomerRecord.batch_write() as batch:
        for c in range(customers):
            cid = f"cus_{prefix.lower()}{c:05d}"
            batch.save(
                CustomerRepository._record(
                    company, Customer(id=cid, name=f"{prefix} Customer {c:05d}", created_at=now, updated_at=now)
                )
            )
            out["customers"].append(cid)
    with ItemRecord.batch_write() as batch:
        for i in range(items):
            iid = f"itm_{prefix.lower()}{i:04d}"
            price = Decimal("100.00")
            item = Item(id=iid, name=f"{prefix} Service {i:04d}", price=price, created_at=now, updated_at=now)
            batch.save(ItemRepository._record(company, item))
            out["items"].append(iid)
    with InvoiceRecord.batch_write() as batch:
        for n in range(invoices):
            amount = Decimal("100.00") + Decimal(n % 7)
            line = InvoiceLine(item_id=out["items"][n % items], quantity=Decimal("1"), unit_price=amount, amount=amount)
            inv = Invoice(
                id=f"inv_{prefix.lower()}{n:05d}",
                number=f"{prefix}-{n:05d}",
                customer_id=out["customers"][n % customers],
                issue_date=dt.date(2026, 11, 1),
                due_date=dt.date(2026, 12, 1),
                status=InvoiceStatus.SENT,
                lines=[line],
                total=amount,
                created_at=now,
                updated_at=now,
                version=1,
            )
            batch.save(InvoiceRepository._record(company, inv))
            out["invoices"].append(inv.id)
    with InvoiceNumberRecord.batch_write() as batch:
        for n, inv_id in enumerate(out["invoices"]):
            batch.save(InvoiceNumberRecord(company_pk(company), _number_key(f"{prefix}-{n:05d}"), invoice_id=inv_id))
    with PaymentRecord.batch_write() as batch:
        for n, inv_id in enumerate(out["invoices"]):
            pay = Payment(
                id=f"pay_{prefix.lower()}{n:05d}",
                invoice_id=inv_id,
                amount=Decimal("40.00"),
                method=PaymentMethod.CHECK,
                date=dt.date(2026, 11, 10),
                created_at=now,
            )
            batch.save(InvoiceRepository._payment_record(company, pay))
            out["payments"].append(pay.id)
    return out


def batching_floor(provider: str, customers: int, items: int, invoices: int, payments: int) -> int:
    """Fewest write calls batching allows: customers and items, then invoices (they need their ids), then payments
    (they need the invoice's id), each level in batches of the adapter's ``Capabilities.max_batch`` (QuickBooks 30
    of any kind together, Xero 50 of one kind; FreshBooks and Wave have no batch API: one write per object)."""
    caps = capabilities(provider)
    per = max(1, caps.max_batch)
    total = 0
    for level in ((customers, items), (invoices,), (payments,)):
        if caps.batch_mixes_kinds:
            total += math.ceil(sum(level) / per)
        else:
            total += sum(math.ceil(n / per) for n in level if n)
    return total


def lookup_floor(provider: str, customers: int, items: int, invoices: int, payments: int) -> int:
    """Reads the engine must add to the writes: a provider that takes no idempotency key gets one lookup per object
    before its create (lookup-before-create is how a retried create is not made twice); a batching provider with keys
    needs none (its per-run reference reads are not counted here)."""
    if capabilities(provider).idempotency_keys:
        return 0
    return customers + items + invoices + payments


def capabilities(provider: str) -> Any:
    from booksync import providers

    return providers.accounting(provider).capabilities


# what an accounting API call's path holds (token, consent and identity calls are not counted)
API_PATH = {
    "quickbooks": "/v3/company/",
    "xero": "/api.xro/2.0/",
    "freshbooks": "/accounting/",
    "wave": "/graphql/public",
}
ENTITIES = {
    "quickbooks": ("Customer", "Item", "Invoice", "Payment"),
    "xero": ("Contacts", "Items", "Invoices", "Payments"),
    "freshbooks": ("client", "item", "invoice", "payment"),
    "wave": ("customers", "products", "invoices", "payments"),
}
# where each provider keeps what we write: customer name, item name, invoice number, payment marker
NAME = {"quickbooks": "DisplayName", "xero": "Name", "freshbooks": "organization", "wave": "name"}
ITEM_NAME = {"quickbooks": "Name", "xero": "Name", "freshbooks": "name", "wave": "name"}
NUMBER = {"quickbooks": "DocNumber", "xero": "InvoiceNumber", "freshbooks": "invoice_number", "wave": "invoiceNumber"}
NOTE = {"quickbooks": "PrivateNote", "xero": "Reference", "freshbooks": "note", "wave": "memo"}


@contextmanager
def provider_world(provider: str, company: str = "co_a", connect: bool = True) -> Iterator[dict[str, Any]]:
    """moto + the provider's sandbox; ``connect`` walks the OAuth flow (which queues a backfill) and maps the
    default income account."""
    if provider == "quickbooks":
        from tests.integration.qbo_helpers import qbo_world as world
    elif provider == "xero":
        from tests.integration.xero_helpers import xero_world as world
    elif provider == "freshbooks":
        from tests.integration.freshbooks_helpers import freshbooks_world as world
    else:
        from tests.integration.wave_helpers import wave_world as world
    with world() as w:
        w["provider"] = provider
        if connect:
            _connect(w, company)
        yield w


def connect(w: dict[str, Any], company: str = "co_a") -> None:
    provider = w["provider"]
    if provider == "quickbooks":
        from tests.integration import qbo_helpers as h

        w["tenant"] = h.connect_quickbooks(company)
        h.map_default_income_account(company)
    elif provider == "xero":
        from tests.integration import xero_helpers as x

        w["tenant"] = x.connect_xero(company)
        x.map_default_income_account(company, "200")
    else:
        from tests.integration import freshbooks_helpers as fb
        from tests.integration import wave_helpers as wv

        w["tenant"] = fb.connect_freshbooks(company) if provider == "freshbooks" else wv.connect_wave(company)
        fb.map_default_income_account(provider, company)


_connect = connect  # provider_world's ``connect`` parameter hides the function's name inside it


def last_seq(w: dict[str, Any]) -> int:
    r = httpx.get(f"{w['url']}/_sandbox/requests", params={"provider": w["provider"]})
    return int(r.json()["last_seq"])


def api_calls(w: dict[str, Any], since: int) -> list[dict[str, Any]]:
    rows = httpx.get(f"{w['url']}/_sandbox/requests", params={"provider": w["provider"], "since": since}).json()
    return [r for r in rows["requests"] if API_PATH[w["provider"]] in r["path"]]


def books(w: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    r = httpx.get(f"{w['url']}/_sandbox/{w['provider']}/tenants/{w['tenant']}")
    r.raise_for_status()
    ents = r.json()["entities"]
    return {
        kind: list(ents.get(name) or [])
        for kind, name in zip(("customer", "item", "invoice", "payment"), ENTITIES[w["provider"]], strict=True)
    }


def ours(w: dict[str, Any], prefix: str = "BF") -> dict[str, int]:
    """How many of each seeded object the books hold (matched by our names, numbers and markers)."""
    b = books(w)
    p = w["provider"]
    live = [
        [r for r in b[kind] if r.get("vis_state", 0) != 1]  # FreshBooks keeps deleted rows (vis_state 1)
        for kind in ("customer", "item", "invoice", "payment")
    ]
    return {
        "customer": len([c for c in live[0] if str(c.get(NAME[p], "")).startswith(f"{prefix} Customer")]),
        "item": len([i for i in live[1] if str(i.get(ITEM_NAME[p], "")).startswith(f"{prefix} Service")]),
        "invoice": len([i for i in live[2] if str(i.get(NUMBER[p], "")).startswith(f"{prefix}-")]),
        "payment": len([x for x in live[3] if f"BlueClerk payment pay_{prefix.lower()}" in str(x.get(NOTE[p]))]),
    }


def drain_imports(w: dict[str, Any]) -> list[dict[str, Any]]:
    from tests.integration.qbo_helpers import drain

    return drain(w["aws"]["sqs"], w["aws"]["queues"]["import"], "import_changes", rounds=50)


def all_linked(provider: str, seeded: dict[str, list[str]], company: str = "co_a") -> bool:
    from booksync import wiring
    from booksync.invoicing.models import PAYMENT_PROVIDER_ID_FIELDS

    engine = wiring.sync_engine()
    field = PAYMENT_PROVIDER_ID_FIELDS[provider]
    for inv_id, pay_id in zip(seeded["invoices"], seeded["payments"], strict=True):
        if not engine.invoices.get(company, inv_id).provider_ids.get(provider):
            return False
        if not getattr(engine.invoices.get_payment(company, inv_id, pay_id), field):
            return False
    return True


# ---- tests ---------------------------------------------------------------------------------------------------------
# a few hundred objects: enough batches that the one reference read (payment methods / bank accounts) stays in 10%
SIZES = {"quickbooks": (20, 10, 150), "xero": (20, 10, 200)}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_connect_backfills_a_few_hundred_objects_within_the_batching_floor(provider: str) -> None:
    customers, items, invoices = SIZES[provider]
    with provider_world(provider, connect=False) as w:
        # Given a company with sent invoices (one payment each) from before it connected its books
        seeded = seed_books("co_a", customers, items, invoices)
        # When it connects (the callback queues a backfill) and the import queue is worked
        connect(w)
        since = last_seq(w)
        drain_imports(w)
        # Then every object is in the books exactly once, linked, within 1.1x the batching floor
        assert ours(w) == {"customer": customers, "item": items, "invoice": invoices, "payment": invoices}
        assert all_linked(provider, seeded)
        calls = api_calls(w, since)
        writes = [c for c in calls if c["method"] in ("POST", "PUT")]
        floor = batching_floor(provider, customers, items, invoices, invoices)
        assert len(writes) == floor, [(c["method"], c["path"]) for c in writes]
        assert len(calls) <= 1.1 * floor, (len(calls), floor, [(c["method"], c["path"]) for c in calls][:40])
        # And a backfill started again pushes nothing (everything is linked)
        from booksync import wiring

        since = last_seq(w)
        out = wiring.sync_engine().backfill("co_a", provider)
        assert out["status"] == "done" and out["pushed"] == {}, out
        assert not [c for c in api_calls(w, since) if c["method"] in ("POST", "PUT")]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_interrupted_backfill_resumes_without_re_pushing(provider: str) -> None:
    from booksync import wiring

    with provider_world(provider, connect=False) as w:
        seeded = seed_books("co_a", customers=12, items=4, invoices=70)
        connect(w)
        engine = wiring.sync_engine()
        sqs, queue = w["aws"]["sqs"], w["aws"]["queues"]["import"]
        sqs.purge_queue(QueueUrl=queue)  # drop the connect's backfill: this test runs it by hand
        since = last_seq(w)
        # Given a run whose Lambda runs out of time after its second batch
        real = engine._push_batch
        batches = [0]

        def counting(*a: Any, **k: Any) -> Any:
            batches[0] += 1
            return real(*a, **k)

        engine._push_batch = counting  # type: ignore[method-assign]
        first = engine.backfill("co_a", provider, time_left=lambda: 100.0 if batches[0] < 2 else 1.0)
        assert first["status"] == "continued", first
        partial = ours(w)
        assert 0 < sum(partial.values()) < 12 + 4 + 70 + 70
        # When the continuation runs
        second = engine.backfill("co_a", provider, time_left=lambda: 100.0)
        engine._push_batch = real  # type: ignore[method-assign]
        assert second["status"] == "done", second
        # Then everything is in the books once, and nothing the first run pushed was pushed again
        assert ours(w) == {"customer": 12, "item": 4, "invoice": 70, "payment": 70}
        assert all_linked(provider, seeded)
        writes = [c for c in api_calls(w, since) if c["method"] in ("POST", "PUT")]
        assert len(writes) <= batching_floor(provider, 12, 4, 70, 70) + 1, len(writes)
        pushed = {k: first["pushed"].get(k, 0) + second["pushed"].get(k, 0) for k in ("customer", "item")}
        assert pushed == {"customer": 12, "item": 4}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_backfill_continues_through_the_queue_when_time_runs_short(provider: str, monkeypatch: Any) -> None:
    """The handler path: a run that stops for time queues its continuation on the ImportQueue, which finishes it."""
    from tests import helpers

    with provider_world(provider, connect=False) as w:
        seeded = seed_books("co_a", customers=6, items=2, invoices=40)
        left = iter([100_000, 100_000, 100_000, 1_000] + [100_000] * 10_000)
        monkeypatch.setattr(helpers.LambdaContext, "get_remaining_time_in_millis", lambda self: next(left))
        connect(w)
        drain_imports(w)
        assert ours(w) == {"customer": 6, "item": 2, "invoice": 40, "payment": 40}
        assert all_linked(provider, seeded)


@pytest.mark.parametrize("order", ["resync_first", "resync_during_backfill"])
def test_backfill_and_resync_of_the_same_invoice_make_one_provider_invoice(order: str) -> None:
    from booksync import wiring

    with provider_world("quickbooks", connect=False) as w:
        seeded = seed_books("co_a", customers=3, items=2, invoices=10)
        connect(w)
        w["aws"]["sqs"].purge_queue(QueueUrl=w["aws"]["queues"]["import"])
        engine = wiring.sync_engine()
        engine.wait_for_other = 0.2
        target = seeded["invoices"][4]
        sync = load_function("sync_invoice").lambda_handler
        results: list[Any] = []

        def resync() -> None:
            event = http_event("sync_invoice/http_sync.json", path=f"/invoices/{target}/sync")
            results.append(invoke(sync, event))

        if order == "resync_first":
            resync()
            assert results[0].status == 200, results[0].body
        real = engine._push_batch

        def during(company_id: str, conn: Any, provider: Any, s: Any, elements: list[Any], **k: Any) -> Any:
            if order == "resync_during_backfill" and any(el.entity_id == target for el in elements) and not results:
                # the backfill holds the invoice's claim while it sends its batch: a click now must not push it
                def click_then_send() -> Any:
                    return real(company_id, conn, provider, s, elements, **k)

                return _with_click(click_then_send, resync)
            return real(company_id, conn, provider, s, elements, **k)

        engine._push_batch = during  # type: ignore[method-assign]
        out = engine.backfill("co_a", "quickbooks")
        engine._push_batch = real  # type: ignore[method-assign]
        assert out["status"] == "done", out
        assert results, "the Resync ran"
        numbers = [i["DocNumber"] for i in books(w)["invoice"]]
        assert numbers.count("BF-00004") == 1
        assert ours(w) == {"customer": 3, "item": 2, "invoice": 10, "payment": 10}
        assert all_linked("quickbooks", seeded)


def _with_click(send: Any, click: Any) -> Any:
    """Run ``click`` while the batch's claims are held (after they were taken, before the batch is sent)."""
    from booksync import wiring

    engine = wiring.sync_engine()
    real_send = engine._send_batch

    def send_batch(*a: Any, **k: Any) -> Any:
        engine._send_batch = real_send  # type: ignore[method-assign]
        click()
        return real_send(*a, **k)

    engine._send_batch = send_batch  # type: ignore[method-assign]
    try:
        return send()
    finally:
        engine._send_batch = real_send  # type: ignore[method-assign]


def test_backfill_route_queues_a_run_and_rejects_an_unconnected_provider() -> None:
    with provider_world("quickbooks") as w:
        seeded = seed_books("co_a", customers=2, items=1, invoices=3)
        api = load_function("api").lambda_handler
        r = invoke(
            api, http_event("api/list_integrations.json", method="POST", path="/integrations/quickbooks/backfill")
        )
        assert r.status == 202, r.body
        assert r.body["runId"] and r.body["provider"] == "quickbooks"
        no = invoke(api, http_event("api/list_integrations.json", method="POST", path="/integrations/xero/backfill"))
        assert no.status == 409 and no.body["error"]["code"] == "not_connected", no.body
        drain_imports(w)
        assert ours(w) == {"customer": 2, "item": 1, "invoice": 3, "payment": 3}
        assert all_linked("quickbooks", seeded)


def test_backfill_without_mapping_notifies_once_and_sends_nothing() -> None:
    from tests.integration import qbo_helpers as h

    with provider_world("quickbooks", connect=False) as w:
        seed_books("co_a", customers=3, items=2, invoices=8)
        since = last_seq(w)
        w["tenant"] = h.connect_quickbooks("co_a")  # no account mapping yet
        drain_imports(w)
        assert not [c for c in api_calls(w, since) if c["method"] == "POST"]
        api = load_function("api").lambda_handler
        notes = invoke(api, http_event("api/list_notifications.json")).body["data"]
        assert [n["code"] for n in notes] == ["item_unmapped"]


def test_provider_without_batching_backfills_one_object_per_call() -> None:
    """FreshBooks has no batch endpoint (max_batch = 1): the backfill takes the normal one-invoice path."""
    from booksync import wiring
    from tests.integration import freshbooks_helpers as fb

    with fb.freshbooks_world() as w:
        seeded = seed_books("co_a", customers=2, items=1, invoices=4)
        fb.connect_freshbooks("co_a")
        fb.map_default_income_account("freshbooks", "co_a")
        drain_imports(w)
        assert all_linked("freshbooks", seeded)
        w["provider"] = "freshbooks"
        since = last_seq(w)
        again = wiring.sync_engine().backfill("co_a", "freshbooks")
        assert again["status"] == "done"
        writes = [
            r
            for r in httpx.get(
                f"{w['url']}/_sandbox/requests", params={"provider": "freshbooks", "since": since}
            ).json()["requests"]
            if r["method"] in ("POST", "PUT")
        ]
        assert writes == []
