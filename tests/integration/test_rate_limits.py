"""Per-tenant pacing across concurrent callers and deferral of provider-named waits (booksync.ratelimit).

Real threads and real HTTP: moto server holds the shared budget, the Xero sandbox enforces 60/min, 5 concurrent and
the day allowance. The pacer's clock IS the sandbox clock, and waiting moves it forward: no real minute is waited.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from booksync.ratelimit import LIMITS, Blocked, Pacer
from booksync.sync.ports import RateLimited, Ref, Session
from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.qbo_helpers import drain
from tests.integration.test_api_flow import _setup_invoice
from tests.integration.xero_helpers import (
    connect_xero,
    fault,
    map_default_income_account,
    requests_log,
    tenant,
    xero_world,
)

pytestmark = pytest.mark.moto_server


class SandboxTime:
    """The pacer's clock and sleeps on the sandbox clock: a wait moves the clock to the waiter's wake-up time
    (concurrent waiters do not add up), then yields briefly so other threads run."""

    def __init__(self, sandbox: Any) -> None:
        self.clock = sandbox.core.clock
        self.start = self.clock.timestamp()
        self.waits: list[float] = []
        self.lock = threading.Lock()

    def now(self) -> float:
        return float(self.clock.timestamp())

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.waits.append(seconds)
            target = self.now() + seconds
            behind = target - self.now()
            if behind > 0:
                self.clock.advance(behind)
        time.sleep(0.001)

    @property
    def elapsed(self) -> float:
        return self.now() - self.start


def _pace_on_sandbox_time(world: dict[str, Any], *, lease_seconds: float = 3600.0, max_wait: float = 900.0) -> Any:
    """Point the process's pacer at the sandbox clock. Leases outlive the virtual minutes a test skips (dead-Lambda
    expiry has its own test)."""
    from booksync import wiring

    t = SandboxTime(world["sandbox"])
    pacer = wiring.rate_pacer()
    pacer.clock, pacer.sleep = t.now, t.sleep
    pacer.lease_seconds, pacer.max_wait = lease_seconds, max_wait
    return t


def _session(company: str, org: str) -> Session:
    from booksync import wiring

    tokens = wiring.token_manager().access_token(company, "xero")
    return Session(tenant_id=org, access_token=tokens.access_token)


def _hammer(session: Session, threads: int, calls: int) -> tuple[int, list[BaseException]]:
    """``threads`` callers, each making ``calls`` provider calls for the same organisation."""
    from booksync import providers

    xero = providers.accounting("xero")
    done: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        for _ in range(calls):
            try:
                xero.income_accounts(session)
                done.append(1)
            except Exception as exc:
                errors.append(exc)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(120)
    return len(done), errors


def _api_calls(url: str, org: str) -> list[dict[str, Any]]:
    return [e for e in requests_log(url) if e.get("tenant") == org]


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with xero_world() as w:
        yield w


# ---- pacing across threads --------------------------------------------------------------------------------------
def test_threads_for_one_organisation_never_meet_a_minute_or_concurrency_429(world: dict[str, Any]) -> None:
    org = connect_xero("co_a")
    session = _session("co_a", org)
    t = _pace_on_sandbox_time(world)
    seen_before = len(_api_calls(world["url"], org))
    # When 8 threads make 12 calls each for one organisation (96 calls; Xero allows 60/min and 5 at once)
    ok, errors = _hammer(session, threads=8, calls=12)
    # Then every call succeeded and the sandbox never refused one
    assert errors == [] and ok == 96
    limits = tenant(world["url"], org)["limits"]
    assert limits["throttled_rate"] == 0 and limits["throttled_concurrency"] == 0, limits
    assert 1 <= limits["max_inflight"] <= LIMITS["xero"].concurrency, limits
    calls = _api_calls(world["url"], org)[seen_before:]
    assert len(calls) == 96 and {c["outcome"] for c in calls} == {"ok"}
    # And it took the (virtual) time the budget demands: burst, then per_minute - burst a minute
    floor = (96 - LIMITS["xero"].burst) / LIMITS["xero"].refill_per_second
    assert t.elapsed >= floor * 0.95, (t.elapsed, floor)


def test_without_pacing_the_same_load_meets_429s(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The control for the test above: the sandbox does refuse this load when nothing paces it."""
    org = connect_xero("co_a")
    session = _session("co_a", org)
    monkeypatch.setenv("BOOKSYNC_PROVIDER_PACING", "off")
    ok, errors = _hammer(session, threads=8, calls=12)
    limits = tenant(world["url"], org)["limits"]
    assert ok < 96 and errors and all(isinstance(e, RateLimited) for e in errors)
    assert limits["throttled_rate"] + limits["throttled_concurrency"] > 0


def test_two_organisations_do_not_throttle_each_other(world: dict[str, Any]) -> None:
    org_a = connect_xero("co_a")
    plan = {"next_connect": {"tenants": ["0b5e0b5e-0000-4000-8000-00000000000b"], "user": "owner-b"}}
    httpx.post(f"{world['url']}/_sandbox/xero/config", json=plan).raise_for_status()
    org_b = connect_xero("co_b")
    assert org_a != org_b
    session_a, session_b = _session("co_a", org_a), _session("co_b", org_b)
    t = _pace_on_sandbox_time(world, max_wait=20.0)
    from booksync import providers, wiring

    xero = providers.accounting("xero")
    # Given organisation A used up its day allowance (as Xero said in a 429)
    wiring.rate_pacer().throttled("xero", org_a, "day", 80_000.0)
    calls_a = len(_api_calls(world["url"], org_a))
    # Then A's calls are held back locally (no request reaches Xero) ...
    with pytest.raises(RateLimited) as held:
        xero.income_accounts(session_a)
    assert held.value.retry_after is not None and held.value.retry_after >= 79_000
    assert len(_api_calls(world["url"], org_a)) == calls_a
    # ... while B's go straight through, without waiting for anything
    for _ in range(LIMITS["xero"].burst):
        xero.income_accounts(session_b)
    assert t.waits == []
    assert tenant(world["url"], org_b)["limits"]["throttled_rate"] == 0


def test_a_dead_callers_concurrency_slot_frees_itself_when_its_lease_expires(world: dict[str, Any]) -> None:
    from booksync.adapters.dynamodb import RateBudgetRepository

    t = SandboxTime(world["sandbox"])
    pacer = Pacer(store=RateBudgetRepository(), clock=t.now, sleep=t.sleep, pause=lambda s: None, max_wait=2.0)
    pacer.lease_seconds = 35.0
    # Given five callers took Xero's five slots and died without releasing them
    for _ in range(LIMITS["xero"].concurrency):
        pacer.acquire("xero", "org-dead")
    # Then a sixth caller cannot get a slot (and says so instead of calling) ...
    with pytest.raises(Blocked) as blocked:
        pacer.acquire("xero", "org-dead")
    assert blocked.value.problem == "concurrent"
    # ... until the leases run out
    t.clock.advance(36)
    lease = pacer.acquire("xero", "org-dead")
    pacer.release("xero", "org-dead", lease)
    # and a released slot is free at once for the next caller
    again = pacer.acquire("xero", "org-dead")
    assert again != lease


# ---- Retry-After ----------------------------------------------------------------------------------------------------
def test_a_minute_429s_retry_after_holds_back_every_caller_until_then(world: dict[str, Any]) -> None:
    from booksync import providers

    org = connect_xero("co_a")
    session = _session("co_a", org)
    t = _pace_on_sandbox_time(world)
    xero = providers.accounting("xero")
    # Given Xero answers one call with a minute-limit 429 naming 7 s
    fault(world["url"], method="GET", path="/Accounts$", mode="status", status=429, retry_after=7, count=1)
    with pytest.raises(RateLimited) as first:
        xero.income_accounts(session)
    assert first.value.retry_after == 7.0
    refused_at = t.now()
    # When another caller (any Lambda: the wait is in the shared budget) calls next
    xero.income_accounts(session)
    # Then it waited the named 7 s before its request reached Xero
    assert t.now() - refused_at >= 7.0 - 0.01
    assert any(abs(w - 7.0) < 0.5 for w in t.waits), t.waits


def test_the_engine_retries_a_minute_429_after_the_named_wait(world: dict[str, Any]) -> None:
    from booksync import wiring

    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    map_default_income_account("co_a")
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    t = _pace_on_sandbox_time(world)
    wiring.sync_engine().sleep = t.sleep
    fault(world["url"], method="PUT", path="/Invoices$", mode="status", status=429, retry_after=9, count=1)
    sync = load_function("sync_invoice").lambda_handler
    r = invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv['id']}/sync"))
    assert r.status == 200, r.body
    puts = [e for e in _api_calls(world["url"], org) if e["method"] == "PUT" and e["path"].endswith("/Invoices")]
    assert [p["outcome"] for p in puts] == ["fault", "ok"]  # retried once, after the wait, not hammered
    assert any(abs(w - 9.0) < 0.5 for w in t.waits), t.waits
    assert tenant(world["url"], org)["counts"]["Invoices"] == 1


# ---- Xero's day limit: the queue defers ----------------------------------------------------------------------------
def _moto_queue(url: str) -> Any:
    from moto.backends import get_backend

    name = url.rsplit("/", 1)[-1]
    return get_backend("sqs")["123456789012"]["us-east-1"].queues[name]


def _invisible_for(url: str) -> list[float]:
    """Seconds until each in-flight message of the queue is visible again (moto runs in this process)."""
    now_ms = time.time() * 1000
    return [(m.visible_at - now_ms) / 1000 for m in _moto_queue(url)._messages if not m.visible]


def _redeliver_now(url: str) -> None:
    """What the passing of the deferral's hours does: the message becomes visible again."""
    for m in _moto_queue(url)._messages:
        m.change_visibility(0)
    time.sleep(0.01)


def _notifications(api: Any, company: str = "co_a") -> list[dict[str, Any]]:
    body = invoke(api, http_event("api/list_notifications.json", company=company)).body
    return list(body["data"])


def test_day_limit_defers_the_queued_push_without_hammering_then_syncs_next_day(world: dict[str, Any]) -> None:
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    map_default_income_account("co_a")
    inv = _setup_invoice(api)["invoice"]
    drain(sqs, queues["invoice-sync"], "sync_invoice")  # the new contact and item go first
    t = _pace_on_sandbox_time(world)
    # Given the organisation's daily allowance is used up
    used = tenant(world["url"], org)["limits"]["requests_last_day"]
    httpx.post(f"{world['url']}/_sandbox/xero/config", json={"daily_limit": used}).raise_for_status()
    calls = len(_api_calls(world["url"], org))
    # When the invoice is sent and its queued push meets the day limit
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    (response,) = drain(sqs, queues["invoice-sync"], "sync_invoice", rounds=1)
    assert len(response["batchItemFailures"]) == 1
    # Then the message is kept but out of sight for the day's remainder (capped below SQS's 12 h), not the queue's
    # own 2 s visibility timeout
    (hidden,) = _invisible_for(queues["invoice-sync"])
    assert 40_000 < hidden <= 43_200
    assert len(_api_calls(world["url"], org)) == calls + 1  # exactly one refused call
    # And redeliveries meanwhile (each counts towards maxReceiveCount 5) never call Xero and never dead-letter
    for _ in range(6):
        _redeliver_now(queues["invoice-sync"])
        drain(sqs, queues["invoice-sync"], "sync_invoice", rounds=1)
    assert len(_api_calls(world["url"], org)) == calls + 1
    assert tenant(world["url"], org)["limits"]["throttled_day"] == 1
    dlq = sqs.receive_message(QueueUrl=queues["invoice-sync-dlq"], WaitTimeSeconds=0).get("Messages", [])
    assert dlq == []
    attrs = sqs.get_queue_attributes(QueueUrl=queues["invoice-sync"], AttributeNames=["All"])["Attributes"]
    assert int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 1
    # And the company hears about it once (informational: nothing to do), not once per attempt as a failure
    notes = _notifications(api)
    assert [n["code"] for n in notes] == ["provider_rate_limited"], notes
    assert "nothing to do" in notes[0]["message"]
    # When the day has passed (and with it the organisation's real allowance is back: the tiny limit above stood for
    # a used-up 5,000, and Xero's X-DayLimit-Remaining of a tiny one would keep background work on the reserve)
    t.sleep(86_401)
    httpx.post(f"{world['url']}/_sandbox/xero/config", json={"daily_limit": 5000}).raise_for_status()
    _redeliver_now(queues["invoice-sync"])
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    # Then the push goes through once
    assert tenant(world["url"], org)["counts"]["Invoices"] == 1
    attrs = sqs.get_queue_attributes(QueueUrl=queues["invoice-sync"], AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert sqs.receive_message(QueueUrl=queues["invoice-sync-dlq"], WaitTimeSeconds=0).get("Messages", []) == []


def test_the_sync_button_during_a_day_limit_says_when_it_will_be_retried(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    map_default_income_account("co_a")
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    used = tenant(world["url"], org)["limits"]["requests_last_day"]
    httpx.post(f"{world['url']}/_sandbox/xero/config", json={"daily_limit": used}).raise_for_status()
    sync = load_function("sync_invoice").lambda_handler
    first = invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv['id']}/sync"))
    second = invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv['id']}/sync"))
    for r in (first, second):
        assert r.status == 503 and r.body["error"]["code"] == "provider_unavailable", r.body
        assert "retried automatically after" in r.body["error"]["message"] and "UTC" in r.body["error"]["message"]
        assert int(r.headers["retry-after"]) > 60, r.headers  # the frontend can tell the user when, not "try again"
    # the second click did not reach Xero: the day block is shared
    assert len([e for e in requests_log(world["url"]) if e["outcome"] == "throttled_day"]) == 1


# ---- the local SQS poller keeps a consumer's deferral ---------------------------------------------------------------
class _FakeSqs:
    def __init__(self) -> None:
        self.deleted: list[str] = []
        self.shortened: list[str] = []

    def delete_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> None:
        self.deleted += [e["ReceiptHandle"] for e in Entries]

    def change_message_visibility_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> None:
        self.shortened += [e["ReceiptHandle"] for e in Entries]


def test_the_local_poller_does_not_shorten_a_deferred_records_visibility() -> None:
    """Lambda leaves a failed record's visibility alone; the local poller's fast retry must not undo a deferral
    (the reason the first attempt at deferring looked fine alone and failed in the local stack)."""
    from booksync.ratelimit import deferred_receipts
    from local.stack.poller import QueuePoller

    class Runtime:
        logical_id = "SyncInvoiceFunction"

        def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
            deferred_receipts.note("rh-deferred", 43_000)  # what the consumer does when it defers a record
            return {"batchItemFailures": [{"itemIdentifier": "m-deferred"}, {"itemIdentifier": "m-failed"}]}

    sqs = _FakeSqs()
    poller = QueuePoller(
        sqs=sqs,
        runtime=Runtime(),  # type: ignore[arg-type]
        queue_url="http://q",
        queue_arn="arn:aws:sqs:us-east-1:123456789012:invoice-sync.fifo",
        batch_size=10,
        report_batch_item_failures=True,
        region="us-east-1",
    )
    messages = [
        {"MessageId": m, "ReceiptHandle": f"rh-{m[2:]}", "Body": "{}"} for m in ("m-ok", "m-deferred", "m-failed")
    ]
    outcome = poller._process(messages)
    assert outcome.failed == 1
    assert sqs.deleted == ["rh-ok"]
    assert sqs.shortened == ["rh-failed"]  # the deferred one keeps the hours the consumer set


# ---- every adapter reads the local 429 like the provider's own ----------------------------------------------------
class _DayBlocked:
    """A pacer whose tenant is blocked for most of a day."""

    def __init__(self) -> None:
        self.tenants: list[str] = []

    def acquire(self, provider: str, tenant: str, path: str = "") -> str:
        self.tenants.append(tenant)
        raise Blocked(50_000.0, "day")


@pytest.mark.parametrize("provider", ["quickbooks", "xero", "freshbooks", "wave"])
def test_a_held_back_call_never_leaves_and_reads_as_the_providers_rate_limit(provider: str) -> None:
    import importlib

    from booksync.providers.http import PacedTransport

    sent: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    pacer = _DayBlocked()
    http = httpx.Client(transport=PacedTransport(provider, httpx.MockTransport(upstream), pacer=lambda: pacer))
    module = importlib.import_module(f"booksync.providers.{provider}.accounting")
    cls = next(v for k, v in vars(module).items() if k.endswith("Accounting") and isinstance(v, type))
    adapter = cls(api_base=f"http://{provider}.test", http=http)
    session = Session(tenant_id="tenant-1", access_token="at-1")
    with pytest.raises(RateLimited) as limited:
        adapter.get_invoice(session, Ref("1"))
    assert sent == []  # nothing reached the provider
    assert limited.value.retry_after is not None and limited.value.retry_after >= 3600
    assert pacer.tenants and all("at-1" not in t for t in pacer.tenants)  # never the token itself as a key


# ---- Xero's day allowance, client-side: background stops at its share, the Sync button keeps the reserve ----------
def _second_invoice(api: Any, made: dict[str, Any], number: str) -> dict[str, Any]:
    body = {
        "number": number,
        "customerId": made["customer"]["id"],
        "issueDate": "2026-11-24",
        "dueDate": "2026-12-24",
        "lines": [{"itemId": made["item"]["id"], "quantity": "1", "unitPrice": "80.00"}],
    }
    inv = invoke(api, http_event("api/create_invoice.json", body=body))
    assert inv.status == 201, inv.body
    return dict(inv.body)


def sent_deferred_then_clicked(world: dict[str, Any], org: str, inv_a: dict[str, Any], inv_b: dict[str, Any]) -> int:
    """Send both invoices: their queued pushes are deferred (out of sight for hours) without a call to Xero and with
    one informational notification; then Sync on B answers 200 and B is in the books. Returns the calls before."""
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    api = load_function("api").lambda_handler
    calls = len(_api_calls(world["url"], org))
    for inv in (inv_a, inv_b):
        invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    (response,) = drain(sqs, queues["invoice-sync"], "sync_invoice", rounds=1)
    assert len(response["batchItemFailures"]) == 2, response
    assert all(3600 < hidden <= 43_200 for hidden in _invisible_for(queues["invoice-sync"]))
    assert len(_api_calls(world["url"], org)) == calls
    assert [n["code"] for n in _notifications(api)] == ["provider_rate_limited"]  # once, informational
    sync = load_function("sync_invoice").lambda_handler
    clicked = invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv_b['id']}/sync"))
    assert clicked.status == 200, clicked.body
    assert tenant(world["url"], org)["counts"]["Invoices"] == 1
    return calls


def test_a_spent_background_day_share_defers_queued_pushes_while_a_sync_click_still_works(
    world: dict[str, Any],
) -> None:
    from booksync import wiring
    from booksync.ratelimit import Budget, next_utc_midnight, utc_day_start

    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    t = _pace_on_sandbox_time(world, max_wait=20.0)
    t.sleep(next_utc_midnight(t.now()) - t.now() + 12 * 3600)  # noon UTC: the day's remainder is hours, not seconds
    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    map_default_income_account("co_a")
    made = _setup_invoice(api)
    inv_a = made["invoice"]
    inv_b = _second_invoice(api, made, "INV-1002")
    drain(sqs, queues["invoice-sync"], "sync_invoice")  # the new contact and item go first
    # Given background work used up its share of today's Xero allowance (our count, not Xero's: Xero still has room)
    day = LIMITS["xero"].day
    assert day is not None
    pacer = wiring.rate_pacer()
    key = f"xero#{org}#day"
    stored = pacer.store.read(key)
    spent = Budget(tokens=float(day.allowance(False)), refilled_at=utc_day_start(t.now()), version=99)
    assert pacer.store.write(key, spent, stored.version if stored else None)
    pacer._cache.clear()  # this Lambda's cached count is stale, as another Lambda's would be
    assert tenant(world["url"], org)["limits"]["requests_last_day"] < 5000
    # When both invoices are sent and their queued pushes run, then the user clicks Sync on invoice B
    calls = sent_deferred_then_clicked(world, org, inv_a, inv_b)
    # Then B goes through on the reserve kept for the button
    used_by_click = len(_api_calls(world["url"], org)) - calls
    assert used_by_click >= 1
    assert pacer.store.read(key).tokens == day.allowance(False) + used_by_click  # the click was counted too
    # When the UTC day rolls over and the deferred messages come back
    t.sleep(next_utc_midnight(t.now()) - t.now() + 1)
    _redeliver_now(queues["invoice-sync"])
    drain(sqs, queues["invoice-sync"], "sync_invoice")
    # Then the deferred push of A runs once (B was already synced), nothing is left and nothing dead-lettered
    assert tenant(world["url"], org)["counts"]["Invoices"] == 2
    attrs = sqs.get_queue_attributes(QueueUrl=queues["invoice-sync"], AttributeNames=["All"])["Attributes"]
    assert attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    assert sqs.receive_message(QueueUrl=queues["invoice-sync-dlq"], WaitTimeSeconds=0).get("Messages", []) == []
    assert tenant(world["url"], org)["limits"]["throttled_day"] == 0  # we stopped before Xero had to


# ---- the Sync button's deadline (API Gateway's HTTP API gives up at 29 s) -----------------------------------------
def test_a_sync_click_that_would_outlast_the_gateway_answers_503_in_time_without_extra_calls(
    world: dict[str, Any],
) -> None:
    from booksync import wiring

    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    map_default_income_account("co_a")
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    t = _pace_on_sandbox_time(world, max_wait=20.0)  # the production wait limit
    wiring.sync_engine().sleep = t.sleep
    # Given Xero asked every caller to wait 15 s (a minute 429 another Lambda met) ...
    wiring.rate_pacer().throttled("xero", org, "minute", 15.0)
    # ... and will answer the invoice with another minute 429 naming 15 s
    fault(world["url"], method="PUT", path="/Invoices$", mode="status", status=429, retry_after=15, count=1)
    start = t.now()
    sync = load_function("sync_invoice").lambda_handler
    r = invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv['id']}/sync"))
    # Then the click waited out the first 15 s, but not the second (15 + 15 > 25): it answers our own 503 with the
    # Retry-After while the gateway still listens, instead of the gateway's bodiless timeout
    assert r.status == 503 and r.body["error"]["code"] == "provider_unavailable", r.body
    assert int(r.headers["retry-after"]) >= 15, r.headers
    assert t.now() - start < 25.0, t.now() - start
    assert any(abs(w - 15.0) < 0.5 for w in t.waits), t.waits  # the first wait did happen
    # And Xero saw the refused PUT once, no retry
    puts = [e for e in _api_calls(world["url"], org) if e["method"] == "PUT" and e["path"].endswith("/Invoices")]
    assert [p["outcome"] for p in puts] == ["fault"]
    assert tenant(world["url"], org)["counts"].get("Invoices", 0) == 0


# ---- QuickBooks /batch: 40 batch requests a minute per realm+app -------------------------------------------------
@pytest.fixture
def qbo() -> Iterator[dict[str, Any]]:
    from tests.integration.qbo_helpers import qbo_world

    with qbo_world() as w:
        yield w


def _batches(company: str, realm: str, threads: int, each: int) -> list[int]:
    """``threads`` callers each sending ``each`` (query-only) batch requests through the paced provider client."""
    import os

    from booksync import wiring
    from booksync.providers import http as provider_http

    token = wiring.token_manager().access_token(company, "quickbooks").access_token
    url = f"{os.environ['QUICKBOOKS_API_URL'].rstrip('/')}/v3/company/{realm}/batch"
    client = provider_http.client("quickbooks")
    statuses: list[int] = []
    barrier = threading.Barrier(threads)

    def work(n: int) -> None:
        barrier.wait()
        for i in range(each):
            r = client.post(
                url,
                params={"minorversion": "75", "requestid": f"rl-{n}-{i}"},
                json={"BatchItemRequest": [{"bId": "q1", "Query": "select * from Customer"}]},
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
            statuses.append(r.status_code)

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(120)
    return statuses


def test_batches_for_one_realm_never_meet_quickbooks_batch_limit(qbo: dict[str, Any]) -> None:
    from tests.integration.qbo_helpers import connect_quickbooks

    realm = connect_quickbooks("co_a")
    t = _pace_on_sandbox_time(qbo)
    # When 3 callers send 20 batches each for one realm (QuickBooks allows 40 batches a minute, 500 calls)
    statuses = _batches("co_a", realm, threads=3, each=20)
    # Then QuickBooks never refused one, and it took the (virtual) time the batch budget demands
    assert statuses.count(200) == 60, statuses
    batch = next(s for s in LIMITS["quickbooks"].sub_limits if s.name == "batch")
    assert t.elapsed >= (60 - batch.burst) / batch.refill_per_second * 0.95, t.elapsed


def test_without_the_batch_budget_the_realm_budget_alone_meets_the_batch_429(qbo: dict[str, Any]) -> None:
    """The control: the realm's 450/min lets the batches go as fast as it allows, and the sandbox refuses the 41st
    in a minute (its 429 then holds the realm back for 60 s, so the test sees it once)."""
    import dataclasses

    from booksync import wiring
    from tests.integration.qbo_helpers import connect_quickbooks

    realm = connect_quickbooks("co_a")
    _pace_on_sandbox_time(qbo)
    pacer = wiring.rate_pacer()
    pacer.limits["quickbooks"] = dataclasses.replace(LIMITS["quickbooks"], sub_limits=())
    statuses = _batches("co_a", realm, threads=3, each=20)
    assert statuses.count(429) >= 1, statuses
