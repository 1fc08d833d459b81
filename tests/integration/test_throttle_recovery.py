"""A throttled QuickBooks minute is recovered from without operator help (the stalled backfill of 57f79dc).

QuickBooks refuses a 41st ``/batch`` in a minute with its 429 ``ThrottleExceeded``. A refused request was never
executed, so the retry of the same batch — same body, so the same ``requestid`` — must be executed once the minute
has passed, not answered from the ``requestid`` store with the refusal again. Time is the sandbox clock's: the
pacer reads it and its waits move it (``qbo_world``), and so do the engine's sleeps, as in ``bench/run.py``.
Until the sandbox stopped storing 429s under the ``requestid``, every test here failed (the backfill ones as the
bench did: each retry of the throttled batch answered 429 again, nothing pushed after it).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.qbo_helpers import connect_quickbooks, qbo_world, tenant

pytestmark = pytest.mark.moto_server


@pytest.fixture
def qbo() -> Iterator[dict[str, Any]]:
    with qbo_world() as w:
        yield w


def _batch_limit(w: dict[str, Any], per_minute: int) -> None:
    httpx.post(f"{w['url']}/_sandbox/quickbooks/config", json={"batch_per_minute": per_minute}).raise_for_status()


def _advance(w: dict[str, Any], seconds: float) -> None:
    httpx.post(f"{w['url']}/_sandbox/clock", json={"advance": seconds}).raise_for_status()


def _post_batch(company: str, realm: str, request_id: str, name: str) -> httpx.Response:
    """One ``POST /batch`` creating a customer, straight to the sandbox (no pacer: this is about the provider)."""
    import os

    from booksync import wiring

    token = wiring.token_manager().access_token(company, "quickbooks").access_token
    return httpx.post(
        f"{os.environ['QUICKBOOKS_API_URL'].rstrip('/')}/v3/company/{realm}/batch",
        params={"minorversion": "75", "requestid": request_id},
        json={"BatchItemRequest": [{"bId": "c1", "operation": "create", "Customer": {"DisplayName": name}}]},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )


def _customers(w: dict[str, Any], realm: str, prefix: str) -> list[str]:
    names = [str(c.get("DisplayName", "")) for c in tenant(w["url"], realm)["entities"].get("Customer") or []]
    return [n for n in names if n.startswith(prefix)]


def test_a_batch_refused_by_the_batch_limit_is_executed_when_retried_with_its_requestid(qbo: dict[str, Any]) -> None:
    realm = connect_quickbooks("co_a")
    _batch_limit(qbo, 1)
    # Given the realm's batch limit is spent for this minute
    assert _post_batch("co_a", realm, "thr-first", "TR First").status_code == 200
    # When a batch is refused with QuickBooks' 429
    refused = _post_batch("co_a", realm, "thr-second", "TR Second")
    assert refused.status_code == 429, refused.text
    assert "ThrottleExceeded" in refused.text
    # Then within the minute the same request is still refused (it was never run) and nothing was created
    assert _post_batch("co_a", realm, "thr-second", "TR Second").status_code == 429
    assert _customers(qbo, realm, "TR ") == ["TR First"]
    # And once the minute has passed the same request (same requestid) is executed, not replayed as a 429
    _advance(qbo, 61)
    retried = _post_batch("co_a", realm, "thr-second", "TR Second")
    assert retried.status_code == 200, retried.text
    assert "Customer" in retried.json()["BatchItemResponse"][0], retried.text
    assert sorted(_customers(qbo, realm, "TR ")) == ["TR First", "TR Second"]
    # And a further retry of it is the replay of that answer (the requestid still de-duplicates what ran)
    _advance(qbo, 61)
    again = _post_batch("co_a", realm, "thr-second", "TR Second")
    assert again.status_code == 200 and again.content == retried.content
    assert sorted(_customers(qbo, realm, "TR ")) == ["TR First", "TR Second"]


@pytest.mark.parametrize("engine_clock", ["sandbox", "real"])
def test_a_backfill_whose_batches_are_throttled_resumes_after_the_minute(
    qbo: dict[str, Any], monkeypatch: pytest.MonkeyPatch, engine_clock: str
) -> None:
    """The bench scenario in small: the sandbox's batch limit below the pacer's batch burst (3), so batches meet
    QuickBooks' 429 even with the batch sub-budget. The engine waits a throttled minute out inside the step (the
    import Lambda has 300 s left, as in the bench) by moving the sandbox clock; its own clock is the sandbox's too
    (``sandbox``, as bench/run.py now wires it) or real time (``real``, as bench/run.py wired it at 57f79dc, where
    this scenario re-queued the backfill 100 times with nothing pushed)."""
    from booksync import wiring
    from tests import helpers
    from tests.integration.qbo_helpers import map_default_income_account
    from tests.integration.test_backfill import all_linked, api_calls, drain_imports, last_seq, ours, seed_books

    monkeypatch.setattr(helpers.LambdaContext, "get_remaining_time_in_millis", lambda self: 300_000)
    w = qbo | {"provider": "quickbooks"}
    # Given a company with sent invoices (one payment each): 1 batch of customers and items, 2 of invoices, 2 of
    # payments (30 per batch)
    seeded = seed_books("co_a", customers=4, items=2, invoices=40)
    engine = wiring.sync_engine()
    clock = qbo["sandbox"].core.clock
    engine.sleep = clock.advance
    if engine_clock == "sandbox":
        engine.clock = clock.timestamp
    # And a realm that takes only 2 batches a minute
    _batch_limit(qbo, 2)
    since = last_seq(w)
    # When it connects (the callback queues the backfill) and the import queue is worked
    w["tenant"] = connect_quickbooks("co_a")
    map_default_income_account("co_a")
    started = clock.timestamp()
    drain_imports(w)
    # Then QuickBooks did throttle batches, and yet everything reached the books once and is linked
    calls = api_calls(w, since)
    batches = [c for c in calls if c["path"].endswith("/batch")]
    throttled = [c for c in batches if c.get("status") == 429]
    assert throttled, "the scenario must meet QuickBooks' batch limit"
    assert ours(w) == {"customer": 4, "item": 2, "invoice": 40, "payment": 40}, (ours(w), len(throttled))
    assert all_linked("quickbooks", seeded)
    # And each throttled batch went through on its first retry after the minute: 5 batches answered, no more
    assert len([c for c in batches if c.get("status") == 200]) == 5, [c.get("status") for c in batches]
    assert len(throttled) <= 2, [c.get("status") for c in batches]
    assert clock.timestamp() - started < 10 * 60, "recovered within a few throttled minutes"
