"""FreshBooks sync under bad conditions. FreshBooks has no idempotency keys: exactly once rests on our claims and on
finding what an unanswered create left behind (invoice number + marker, payment marker, client and item names)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.freshbooks_helpers import (
    advance_clock,
    connect_freshbooks,
    drain,
    drain_to_dead_letter,
    fault,
    freshbooks_world,
    map_default_income_account,
    notifications,
    pay,
    resync,
    send,
    tenant,
)
from tests.integration.test_api_flow import _setup_invoice

pytestmark = pytest.mark.moto_server

CREATE_PATHS = {
    "customer": "/users/clients$",
    "item": "/items/items$",
    "invoice": "/invoices/invoices$",
    "payment": "/payments/payments$",
}


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with freshbooks_world() as w:
        from booksync import wiring

        wiring.sync_engine().backoff_cap = 0.05  # keep retries quick; the bound on attempts is what is under test
        w["account"] = connect_freshbooks("co_a")
        map_default_income_account("freshbooks", "co_a")
        yield w


def _sent_invoice(api: Any, number: str = "INV-1001") -> dict[str, Any]:
    inv = _setup_invoice(api, number=number)["invoice"]
    send(api, inv["id"])
    return dict(inv)


def _counts(world: dict[str, Any]) -> tuple[int, int, int, int]:
    books = tenant(world["url"], world["account"])
    items = [i for i in books["entities"]["item"] if i["name"] == "Water heater flush" and i["vis_state"] == 0]
    c = books["counts"]
    return c["client"], len(items), c["invoice"], c["payment"]


@pytest.mark.parametrize("mode", ["commit_then_500", "commit_then_drop"])
@pytest.mark.parametrize("entity", ["customer", "item", "invoice", "payment"])
def test_provider_saves_then_fails_the_answer_still_one_object(world: dict[str, Any], mode: str, entity: str) -> None:
    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    pay(api, inv["id"], "350.00", method="card")
    # Given FreshBooks will store the next create of this entity and then fail the response
    fault(world["url"], "freshbooks", method="POST", path=CREATE_PATHS[entity], mode=mode, count=1)
    # When the user clicks Sync (no idempotency key: the engine looks before it creates again)
    r = resync(inv["id"])
    # Then everything is synced and the books hold exactly one of each
    assert r.status == 200, r.body
    assert r.body["invoice"]["status"] == "synced"
    assert [p["status"] for p in r.body["payments"]] == ["synced"]
    assert _counts(world) == (1, 1, 1, 1)
    log = httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": "freshbooks"}).json()["requests"]
    outcome = {"commit_then_500": "committed_then_500", "commit_then_drop": "committed_then_dropped"}[mode]
    assert [e["outcome"] for e in log if e["fault"]] == [outcome]


@pytest.mark.parametrize("enforced", [False, True], ids=["numbers_not_unique", "numbers_unique"])
def test_number_already_used_in_freshbooks_fails_with_duplicate_invoice_number(
    world: dict[str, Any], enforced: bool
) -> None:
    from booksync import wiring

    api = load_function("api").lambda_handler
    httpx.post(
        f"{world['url']}/_sandbox/freshbooks/config",
        json={"accounts": {world["account"]: {"unique_invoice_numbers": enforced}}},
    ).raise_for_status()
    # Given an accountant already created invoice INV-1001 in FreshBooks
    token = wiring.token_manager().access_token("co_a", "freshbooks").access_token
    base = f"{world['url']}/freshbooks/accounting/account/{world['account']}"
    headers = {"Authorization": f"Bearer {token}"}
    client = httpx.post(f"{base}/users/clients", headers=headers, json={"client": {"organization": "Walk-in"}})
    line = {"name": "Counter sale", "qty": "1", "unit_cost": {"amount": "10.00", "code": "USD"}}
    body = {"customerid": client.json()["response"]["result"]["client"]["id"], "create_date": "2026-11-01"}
    made = httpx.post(
        f"{base}/invoices/invoices",
        headers=headers,
        json={"invoice": {**body, "invoice_number": "INV-1001", "lines": [line]}},
    )
    assert made.status_code == 200, made.text
    inv = _sent_invoice(api, "INV-1001")
    for _ in range(2):
        r = resync(inv["id"])
        assert r.status == 409 and r.body["error"]["code"] == "duplicate_invoice_number"
        assert "INV-1001" in r.body["error"]["message"] and "FreshBooks" in r.body["error"]["message"]
    assert _counts(world)[2] == 1  # only the accountant's
    notes = notifications()
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "duplicate_invoice_number"


def test_a_duplicate_number_refused_by_freshbooks_maps_to_duplicate_number(world: dict[str, Any]) -> None:
    """When the account enforces unique numbers and another writer wins between our lookup and our create."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from booksync import wiring
    from booksync.invoicing.models import Invoice, InvoiceLine
    from booksync.providers.freshbooks.accounting import FreshBooksAccounting
    from booksync.sync.ports import DuplicateNumber, LineRef, Ref, Session

    httpx.post(
        f"{world['url']}/_sandbox/freshbooks/config",
        json={"accounts": {world["account"]: {"unique_invoice_numbers": True}}},
    ).raise_for_status()
    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    assert resync(inv["id"]).status == 200
    books = tenant(world["url"], world["account"])
    (fb_invoice,) = books["entities"]["invoice"]
    (item,) = books["entities"]["item"]
    now = datetime.now(UTC)
    one = Decimal("1")
    other = Invoice(
        id="inv_other",
        number="INV-1001",
        customer_id="cus_x",
        lines=[InvoiceLine(item_id="itm_x", quantity=one, unit_price=one, amount=one)],
        total=one,
        created_at=now,
        updated_at=now,
    )
    line = LineRef(Ref(str(item["id"])), "acct", one, one, one, "Counter sale")
    token = wiring.token_manager().access_token("co_a", "freshbooks").access_token
    session = Session(tenant_id=world["account"], access_token=token)
    with pytest.raises(DuplicateNumber, match="already exists"):
        FreshBooksAccounting().create_invoice(session, other, Ref(str(fb_invoice["customerid"])), [line], "k")
    assert _counts(world)[2] == 1


def test_revoked_access_marks_needs_reauth_with_one_notification(world: dict[str, Any]) -> None:
    from booksync import wiring

    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    # Given the user removed the app in FreshBooks (the whole grant is revoked)
    tokens = wiring.token_manager().current("co_a", "freshbooks")
    revoked = httpx.post(
        f"{world['url']}/freshbooks/auth/oauth/revoke",
        json={
            "client_id": "local-freshbooks-client",
            "client_secret": "local-freshbooks-secret",
            "token": tokens.refresh_token,
        },
    )
    assert revoked.status_code == 200
    for _ in range(3):
        r = resync(inv["id"])
        assert r.status == 409 and r.body["error"]["code"] == "needs_reauth", r.body
        assert "Reconnect FreshBooks" in r.body["error"]["message"]
    listed = invoke(api, http_event("api/list_integrations.json")).body["data"]
    assert next(p for p in listed if p["provider"] == "freshbooks")["status"] == "needs_reauth"
    notes = notifications()
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "needs_reauth"
    assert tenant(world["url"], world["account"])["tokens"]["invalid_grant"] == 1
    assert _counts(world)[2] == 0


def test_a_refresh_that_never_reached_freshbooks_is_retried_and_the_connection_survives(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    # Given the access token has expired (12 h) and FreshBooks' token endpoint fails once without processing
    advance_clock(world["url"], 43_200 + 60)
    fault(world["url"], "freshbooks", method="POST", path="/auth/oauth/token$", mode="status", status=503, count=1)
    first = resync(inv["id"])
    assert first.status == 503 and first.body["error"]["code"] == "provider_unavailable"
    # When the user clicks again, the stored (still valid, never used) refresh token works
    second = resync(inv["id"])
    assert second.status == 200, second.body
    books = tenant(world["url"], world["account"])
    assert books["tokens"]["refreshes"] == 1 and books["tokens"]["invalid_grant"] == 0
    assert books["counts"]["invoice"] == 1


def test_a_lost_refresh_answer_is_retried_once_then_needs_reauth(world: dict[str, Any]) -> None:
    """FreshBooks processed the refresh (old refresh token dead, no grace) but the answer never arrived: the new token
    exists only in that answer. The adapter retries once (in case the request had not been processed); FreshBooks
    answers invalid_grant, so the connection needs re-authorisation - one notification, no duplicate writes."""
    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    advance_clock(world["url"], 43_200 + 60)
    fault(world["url"], "freshbooks", method="POST", path="/auth/oauth/token$", mode="commit_then_drop", count=1)
    for _ in range(2):
        r = resync(inv["id"])
        assert r.status == 409 and r.body["error"]["code"] == "needs_reauth", r.body
    log = httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": "freshbooks"}).json()["requests"]
    token_calls = [e for e in log if e["path"].endswith("/auth/oauth/token") and e["token_refresh"]]
    assert [e["outcome"] for e in token_calls] == ["committed_then_dropped", "ok"]
    assert [e["status"] for e in token_calls] == [None, 400]
    notes = notifications()
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "needs_reauth"
    assert _counts(world)[2] == 0


def test_provider_5xx_storm_retries_boundedly_then_dead_letters_into_one_notification(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    inv = _sent_invoice(api)
    fault(world["url"], "freshbooks", path="/accounting/account/", mode="status", status=503, count=None)
    r = resync(inv["id"])
    assert r.status == 503 and r.body["error"]["code"] == "provider_unavailable"
    log = httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": "freshbooks"}).json()
    assert 1 <= len([e for e in log["requests"] if e["outcome"] == "fault"]) <= 4  # bounded: max_attempts per call
    drain_to_dead_letter(sqs, queues["invoice-sync"], "sync_invoice")
    drain(sqs, queues["invoice-sync-dlq"], "notify_failures")
    notes = notifications()
    per_entity = [(n["entityType"], n["entityId"]) for n in notes["data"]]
    assert len(per_entity) == len(set(per_entity)) == notes["unreadCount"]
    assert ("invoice", inv["id"]) in per_entity
    assert {n["code"] for n in notes["data"]} == {"provider_unavailable"}
    assert _counts(world)[2] == 0
