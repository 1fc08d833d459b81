"""Xero's own counts (``X-DayLimit-Remaining``, ``X-MinLimit-Remaining`` on every answer) feed the shared per-tenant
budget: a Starter organisation (1,000 calls a day) or one whose calls other apps also spend stops background work
before Xero's 429, and the Sync button still gets the reserve.

Real HTTP: moto server holds the budget, the Xero sandbox counts per organisation and sends the headers; the pacer's
clock is the sandbox clock (no real waiting). "Another app" is a client outside our pacer, with the same token: Xero
counts the organisation's calls, our table cannot see them."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from booksync.ratelimit import LIMITS, next_utc_midnight, utc_day_start
from tests.integration.conftest import load_function
from tests.integration.qbo_helpers import drain
from tests.integration.test_api_flow import _setup_invoice
from tests.integration.test_rate_limits import (
    _api_calls,
    _pace_on_sandbox_time,
    _second_invoice,
    _session,
    sent_deferred_then_clicked,
)
from tests.integration.xero_helpers import connect_xero, map_default_income_account, record, tenant, xero_world

pytestmark = pytest.mark.moto_server

STARTER = 1_000
DAY = LIMITS["xero"].day
assert DAY is not None
RESERVE = DAY.per_day - DAY.allowance(False)  # the calls kept for the Sync button


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with xero_world() as w:
        yield w


def _configure(url: str, **knobs: Any) -> None:
    httpx.post(f"{url}/_sandbox/xero/config", json=knobs).raise_for_status()


def _other_app_calls(world: dict[str, Any], company: str, org: str, calls: int) -> httpx.Response:
    """``calls`` reads our pacer never sees (the sandbox's minute limit lifted for them, its clock not moved)."""
    token = _session(company, org).access_token
    url = world["url"]
    record(url, False)  # not part of what the conformance check reads
    _configure(url, rate_limit_per_minute=None)
    last: httpx.Response | None = None
    try:
        with httpx.Client(base_url=f"{os.environ['XERO_API_URL'].rstrip('/')}/api.xro/2.0") as raw:
            headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": org, "Accept": "application/json"}
            for _ in range(calls):
                last = raw.get("/Accounts", headers=headers)
                assert last.status_code == 200, last.status_code
    finally:
        _configure(url, rate_limit_per_minute=60)
        record(url, True)
    assert last is not None
    return last


def _day_used(org: str, now: float) -> float:
    from booksync import wiring

    stored = wiring.rate_pacer().store.read(f"xero#{org}#day")
    return float(stored.tokens) if stored is not None and stored.refilled_at >= utc_day_start(now) else 0.0


def test_a_starter_organisation_defers_background_pushes_before_xeros_429_and_a_sync_click_still_goes_through(
    world: dict[str, Any],
) -> None:
    from booksync import providers

    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    t = _pace_on_sandbox_time(world, max_wait=20.0)
    t.sleep(next_utc_midnight(t.now()) - t.now() + 12 * 3600)  # noon UTC: the day's remainder is hours
    api = load_function("api").lambda_handler
    org = connect_xero("co_a")
    # Given a Starter organisation: Xero allows it 1,000 calls a day (our own allowance is 4,900)
    _configure(world["url"], tenant_daily_limits={org: STARTER})
    map_default_income_account("co_a")
    made = _setup_invoice(api)
    inv_a = made["invoice"]
    inv_b = _second_invoice(api, made, "INV-1002")
    drain(sqs, queues["invoice-sync"], "sync_invoice")  # the new contact and item go first
    # Then our count already follows Xero's (the calls Xero says are gone out of 1,000 count against our 4,900)
    spent = tenant(world["url"], org)["limits"]["requests_last_day"]
    assert spent < 100
    ours = _day_used(org, t.now())
    assert ours == DAY.per_day - (STARTER - spent)
    # When another app on the organisation spends Xero's day down to one call above the Sync button's reserve
    last = _other_app_calls(world, "co_a", org, STARTER - spent - (RESERVE + 1))
    assert int(last.headers["X-DayLimit-Remaining"]) == RESERVE + 1
    assert _day_used(org, t.now()) == ours  # our table has no idea
    t.sleep(61)  # (those calls filled Xero's minute window, which is not what this test is about)
    # When background work makes one more call, Xero's answer says what is left
    providers.accounting("xero").income_accounts(_session("co_a", org))
    # Then our count adopts Xero's figure: background work is at its share
    assert _day_used(org, t.now()) == DAY.allowance(False)
    # When both invoices are sent and their queued pushes run (deferred for hours, the day deferral path, without a
    # call to Xero), then the user clicks Sync on invoice B
    calls = sent_deferred_then_clicked(world, org, inv_a, inv_b)
    # Then B goes through on the reserve, and Xero never had to refuse anything
    limits = tenant(world["url"], org)["limits"]
    assert limits["throttled_day"] == 0 and limits["throttled_rate"] == 0
    used_by_click = len(_api_calls(world["url"], org)) - calls
    assert 1 <= used_by_click < RESERVE
    assert STARTER - limits["requests_last_day"] == RESERVE - used_by_click  # Xero's count, as its headers said
    assert _day_used(org, t.now()) == DAY.allowance(False) + used_by_click


def test_a_minute_another_app_spent_is_waited_out_instead_of_meeting_xeros_429(world: dict[str, Any]) -> None:
    from booksync import providers

    t = _pace_on_sandbox_time(world)
    org = connect_xero("co_a")
    session = _session("co_a", org)
    xero = providers.accounting("xero")
    # Given another app used 59 of the organisation's 60 calls this minute
    xero.income_accounts(session)  # our pacer knows the organisation (a full bucket of 5)
    t.sleep(61)  # a fresh sandbox minute
    _other_app_calls(world, "co_a", org, 59)
    before = t.now()
    # When we call twice: the first call takes the last one and its answer says none is left
    xero.income_accounts(session)
    xero.income_accounts(session)
    # Then the second waited for the minute on its own instead of meeting Xero's minute 429
    limits = tenant(world["url"], org)["limits"]
    assert limits["throttled_rate"] == 0
    assert t.now() - before >= 59.0
    assert any(w >= 59.0 for w in t.waits), t.waits
    assert [e["outcome"] for e in _api_calls(world["url"], org)][-2:] == ["ok", "ok"]


# ---- the sandbox's figures are true counts -----------------------------------------------------------------------
STARTER_ORG = "0b7c6f0e-5a4e-4d55-8e5d-3f1c9c2d7a11"
OTHER_ORG = "0b7c6f0e-5a4e-4d55-8e5d-3f1c9c2d7a12"


def _counts(response: httpx.Response) -> tuple[int, int, int]:
    h = response.headers
    return int(h["X-MinLimit-Remaining"]), int(h["X-DayLimit-Remaining"]), int(h["X-AppMinLimit-Remaining"])


def test_the_sandbox_counts_each_organisations_day_and_minute_and_each_apps_minute_on_every_answer() -> None:
    from local.sandbox.server import SandboxServer
    from tests.integration.xero_helpers import REDIRECT_URI, XeroClient

    with SandboxServer() as sandbox, httpx.Client(base_url=sandbox.url, timeout=10) as http:
        xero = XeroClient(http, sandbox)
        conn = xero.connect(sandbox_tenants=STARTER_ORG)
        # a Starter organisation: its own day allowance over the sandbox-wide 5,000
        assert xero.configure(tenant_daily_limits={STARTER_ORG: STARTER})["tenant_daily_limits"] == {
            STARTER_ORG: STARTER
        }
        assert _counts(xero.api(conn, "GET", "Accounts")) == (59, 999, 9_999)
        assert _counts(xero.api(conn, "GET", "Contacts")) == (58, 998, 9_998)
        # an injected fault is an answer too: counted, and it says what is left
        xero.add_fault(method="GET", path="/Accounts$", mode="status", status=503, count=1)
        failed = xero.api(conn, "GET", "Accounts")
        assert failed.status_code == 503 and _counts(failed) == (57, 997, 9_997)
        # another organisation of the same app: its own minute and day (5,000), the app's minute shared
        other = xero.connect(sandbox_tenants=OTHER_ORG)
        assert _counts(xero.api(other, "GET", "Accounts")) == (59, 4_999, 9_996)
        # another app on the Starter organisation: the organisation's counts are shared, the app minute is its own
        xero.configure(apps=[{"client_id": "other-app", "client_secret": "other-secret"}])
        code = xero.redirect_params(xero.authorize(client_id="other-app", sandbox_tenants=STARTER_ORG))["code"]
        token = xero.token(
            {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
            auth=("other-app", "other-secret"),
        ).json()["access_token"]
        assert _counts(xero.api(conn, "GET", "Accounts", token=token)) == (56, 996, 9_999)
        # a minute later the minutes are full again, the day is not
        xero.advance(61)
        assert _counts(xero.api(conn, "GET", "Accounts")) == (59, 995, 9_999)
        # the day runs out at the organisation's own allowance: 429 day, which says none is left
        xero.configure(tenant_daily_limits={STARTER_ORG: 8})
        while (r := xero.api(conn, "GET", "Accounts")).status_code == 200:
            pass
        assert r.status_code == 429 and r.headers["X-Rate-Limit-Problem"] == "day"
        assert _counts(r)[1] == 0
        assert xero.api(other, "GET", "Accounts").status_code == 200  # the other organisation is not affected
        # unknown knobs values are refused
        assert http.post("/_sandbox/xero/config", json={"tenant_daily_limits": {"nope": 5}}).status_code == 400
        assert http.post("/_sandbox/xero/config", json={"tenant_daily_limits": {OTHER_ORG: 0}}).status_code == 400
