"""The import queue (imports and backfills) waits out providers' limits at the provider's pace, not the queue's.

ImportQueue's visibility timeout is 30 minutes (6 x the import function's timeout) and it dead-letters after 5
receives. A step that a rate limit stopped must therefore neither wait 30 minutes for a minute's throttle nor burn
its receives on a day limit (the DLQ would tell the company its import failed, when it only has to wait).
Real HTTP against moto server and the provider sandboxes; moto runs in this process, so a test can read how long a
message stays out of sight and make it visible again (what the passing of that time does).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_plus

import httpx
import pytest

from tests import helpers
from tests.integration.qbo_helpers import connect_quickbooks, drain, map_default_income_account, qbo_world
from tests.integration.test_rate_limits import _invisible_for, _moto_queue, _redeliver_now

pytestmark = pytest.mark.moto_server

IMPORT_QUEUE_VISIBILITY = 1800  # template.yaml ImportQueue


def _in_flight(url: str) -> list[tuple[int, float]]:
    """(receives so far, seconds until visible) of each message in flight."""
    now_ms = time.time() * 1000
    messages = _moto_queue(url)._messages
    return [(m.approximate_receive_count, (m.visible_at - now_ms) / 1000) for m in messages if not m.visible]


def _as_deployed(sqs: Any, url: str) -> None:
    """The test worlds' queues retry after 2 s; give the import queue the template's 30 minutes."""
    from booksync.sync import consumers

    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": str(IMPORT_QUEUE_VISIBILITY)})
    consumers._visibility_timeouts.clear()


@pytest.fixture
def qbo() -> Iterator[dict[str, Any]]:
    with qbo_world() as w:
        yield w


def test_a_backfill_step_stopped_by_a_minute_limit_is_retried_after_the_minute_not_the_queues_30_minutes(
    qbo: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from booksync import wiring
    from tests.integration.test_backfill import all_linked, api_calls, last_seq, ours, seed_books

    sqs, queue, dlq = qbo["aws"]["sqs"], qbo["aws"]["queues"]["import"], qbo["aws"]["queues"]["import-dlq"]
    _as_deployed(sqs, queue)
    # Given an import Lambda with too little time left to wait out QuickBooks' 60 s throttle inside the step
    monkeypatch.setattr(helpers.LambdaContext, "get_remaining_time_in_millis", lambda self: 40_000)
    seeded = seed_books("co_a", customers=2, items=1, invoices=3)
    clock = qbo["sandbox"].core.clock
    wiring.sync_engine().sleep = clock.advance
    wiring.sync_engine().clock = clock.timestamp
    # And a realm that answers every /batch with QuickBooks' throttle (429, wait 60 s)
    rule = httpx.post(
        f"{qbo['url']}/_sandbox/faults",
        json={"provider": "quickbooks", "method": "POST", "path": "/batch$", "mode": "status", "status": 429,
              "retry_after": 60, "count": None},
    )  # fmt: skip
    rule.raise_for_status()
    # When it connects (the callback queues the backfill) and the step runs
    qbo |= {"provider": "quickbooks", "tenant": connect_quickbooks("co_a")}
    map_default_income_account("co_a")
    (first,) = drain(sqs, queue, "import_changes", rounds=1)
    # Then the step failed with nothing pushed, and its message comes back when the minute is over, with the run's
    # later message the FIFO batch skipped (the mapping save queued a second run; SQS delivers none of a group while
    # any of it is in flight, so both must come back then)
    assert len(first["batchItemFailures"]) == 2
    hidden = _invisible_for(queue)
    assert len(hidden) == 2 and all(55 <= h <= 62 for h in hidden), hidden
    # And so on a message's second receive; from its third on at the queue's own pace (its DLQ stays hours away)
    paces: set[str] = set()
    for _ in range(3):  # a message's 5th receive would dead-letter it (as 2 minutes + 1.5 hours of throttling would)
        _redeliver_now(queue)
        drain(sqs, queue, "import_changes", rounds=1)
        for receives, h in _in_flight(queue):
            assert (55 <= h <= 62) if receives < 3 else (h > IMPORT_QUEUE_VISIBILITY - 10), (receives, h)
            paces.add("minute" if receives < 3 else "queue")
    assert paces == {"minute", "queue"}
    # When the throttle is gone
    httpx.delete(f"{qbo['url']}/_sandbox/faults", params={"id": rule.json()["id"]}).raise_for_status()
    clock.advance(61)
    _redeliver_now(queue)
    monkeypatch.setattr(helpers.LambdaContext, "get_remaining_time_in_millis", lambda self: 300_000)
    since = last_seq(qbo)
    drain(sqs, queue, "import_changes", rounds=20)
    # Then the backfill completes once, nothing dead-lettered
    assert ours(qbo) == {"customer": 2, "item": 1, "invoice": 3, "payment": 3}
    assert all_linked("quickbooks", seeded)
    assert sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages", []) == []
    # And at the cost of the batches alone: a refused batch reached nothing, so its elements are not looked up in
    # the books before they are sent again (as after a batch whose outcome is unknown)
    calls = api_calls(qbo, since)
    lookups = [c for c in calls if c["path"].endswith("/query") and "BF " in unquote_plus(c["query"])]
    assert lookups == [], lookups
    assert [c["path"].rsplit("/", 1)[-1] for c in calls if c.get("status") == 200].count("batch") == 3


def test_a_weekly_import_that_meets_xeros_day_limit_waits_for_the_next_day_instead_of_dead_lettering() -> None:
    from tests.integration.test_import_qbo import COMPANY, fan_out
    from tests.integration.test_rate_limits import _notifications, _pace_on_sandbox_time, _session
    from tests.integration.xero_helpers import connect_xero, tenant, xero_api_calls, xero_last_seq, xero_world

    with xero_world() as w:
        sqs, queue, dlq = w["aws"]["sqs"], w["aws"]["queues"]["import"], w["aws"]["queues"]["import-dlq"]
        org = connect_xero(COMPANY)
        drain(sqs, queue, "import_changes")  # the connect's backfill (nothing to push)
        _as_deployed(sqs, queue)
        t = _pace_on_sandbox_time(w)
        # Given the organisation's daily allowance is used up (one call today, and the allowance set to it)
        from booksync import providers

        providers.accounting("xero").income_accounts(_session(COMPANY, org))
        used = tenant(w["url"], org)["limits"]["requests_last_day"]
        httpx.post(f"{w['url']}/_sandbox/xero/config", json={"daily_limit": used}).raise_for_status()
        since = xero_last_seq(w["url"])
        # When the Sunday schedule fires and the import step meets the day limit
        fan_out(w)
        (response,) = drain(sqs, queue, "import_changes", rounds=1)
        # Then the run is kept, out of sight for the day's remainder (below SQS's 12 h cap), not the queue's 30 min
        assert len(response["batchItemFailures"]) == 1
        (hidden,) = _invisible_for(queue)
        assert 40_000 < hidden <= 43_200, hidden
        refused = len(xero_api_calls(w["url"], since))
        assert refused <= 1  # at most the one call Xero refused (our day count may refuse it first)
        # And redeliveries meanwhile (each counts towards maxReceiveCount 5) never call Xero and never dead-letter
        for _ in range(6):
            _redeliver_now(queue)
            drain(sqs, queue, "import_changes", rounds=1)
        assert len(xero_api_calls(w["url"], since)) == refused
        assert sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=0).get("Messages", []) == []
        # And the company hears it once, as information (nothing to do), not as a failed import
        from tests.integration.test_import_qbo import api

        notes = _notifications(api(), COMPANY)
        assert [n["code"] for n in notes] == ["provider_rate_limited"], notes
        # When the day has passed (and with it the organisation's real allowance is back)
        t.sleep(86_401)
        httpx.post(f"{w['url']}/_sandbox/xero/config", json={"daily_limit": 5000}).raise_for_status()
        _redeliver_now(queue)
        drain(sqs, queue, "import_changes")
        # Then the import runs to the end, once
        from booksync import wiring

        run = wiring.import_service().status(COMPANY, "xero")
        assert run is not None and run.status.value == "succeeded", run
        attrs = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"])["Attributes"]
        assert attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
