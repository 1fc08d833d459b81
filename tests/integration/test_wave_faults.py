"""Wave sync under bad conditions. Wave has no idempotency keys: exactly once rests on our claims and on finding what
an unanswered create left behind (invoice number + marker, payment marker in memo, customer and product names)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.test_api_flow import _setup_invoice
from tests.integration.wave_helpers import (
    advance_clock,
    configure,
    connect_wave,
    drain,
    drain_to_dead_letter,
    graphql,
    map_default_income_account,
    notifications,
    operation_fault,
    pay,
    resync,
    send,
    tenant,
    wave_world,
)

pytestmark = pytest.mark.moto_server

CREATE_MUTATIONS = {
    "customer": "customerCreate",
    "product": "productCreate",
    "invoice": "invoiceCreate",
    "payment": "invoicePaymentCreateManual",
}


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with wave_world() as w:
        from booksync import wiring

        wiring.sync_engine().backoff_cap = 0.05  # keep retries quick; the bound on attempts is what is under test
        w["business"] = connect_wave("co_a")
        map_default_income_account("wave", "co_a")
        yield w


def _sent_invoice(api: Any, number: str = "INV-1001") -> dict[str, Any]:
    inv = _setup_invoice(api, number=number)["invoice"]
    send(api, inv["id"])
    return dict(inv)


def _counts(world: dict[str, Any]) -> tuple[int, int, int, int]:
    c = tenant(world["url"], world["business"])["counts"]
    return c["customers"], c["products"], c["invoices"], c["payments"]


@pytest.mark.parametrize("mode", ["commit_then_500", "commit_then_drop"])
@pytest.mark.parametrize("entity", ["customer", "product", "invoice", "payment"])
def test_provider_saves_then_fails_the_answer_still_one_object(world: dict[str, Any], mode: str, entity: str) -> None:
    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    pay(api, inv["id"], "350.00", method="card")
    # Given Wave will store the next create of this entity and then fail the response
    operation_fault(world["url"], CREATE_MUTATIONS[entity], mode)
    # When the user clicks Sync (no idempotency key: the engine looks before it creates again)
    r = resync(inv["id"])
    # Then everything is synced and the books hold exactly one of each
    assert r.status == 200, r.body
    assert r.body["invoice"]["status"] == "synced"
    assert [p["status"] for p in r.body["payments"]] == ["synced"]
    assert _counts(world) == (1, 1, 1, 1)
    assert configure(world["url"])["operation_faults"] == []  # the fault did fire


@pytest.mark.parametrize("enforced", [True, False], ids=["numbers_unique", "numbers_not_unique"])
def test_number_already_used_in_wave_fails_with_duplicate_invoice_number(world: dict[str, Any], enforced: bool) -> None:
    from booksync import wiring

    configure(world["url"], unique_invoice_numbers=enforced)
    api = load_function("api").lambda_handler
    # Given an accountant already created invoice INV-1001 in Wave
    token = wiring.token_manager().access_token("co_a", "wave").access_token
    business = world["business"]
    accounts = graphql(
        world["url"],
        token,
        "query($b: ID!) { business(id: $b) { accounts(subtypes: [INCOME]) { edges { node { id } } } } }",
        {"b": business},
    )
    income = accounts["data"]["business"]["accounts"]["edges"][0]["node"]["id"]
    customer = graphql(
        world["url"],
        token,
        "mutation($i: CustomerCreateInput!) { customerCreate(input: $i) { customer { id } } }",
        {"i": {"businessId": business, "name": "Walk-in"}},
    )["data"]["customerCreate"]["customer"]["id"]
    product = graphql(
        world["url"],
        token,
        "mutation($i: ProductCreateInput!) { productCreate(input: $i) { product { id } } }",
        {"i": {"businessId": business, "name": "Counter sale", "unitPrice": "10", "incomeAccountId": income}},
    )["data"]["productCreate"]["product"]["id"]
    made = graphql(
        world["url"],
        token,
        "mutation($i: InvoiceCreateInput!) { invoiceCreate(input: $i) { didSucceed invoice { id } } }",
        {
            "i": {
                "businessId": business,
                "customerId": customer,
                "invoiceNumber": "INV-1001",
                "items": [{"productId": product}],
            }
        },
    )
    assert made["data"]["invoiceCreate"]["didSucceed"]
    inv = _sent_invoice(api, "INV-1001")
    for _ in range(2):
        r = resync(inv["id"])
        assert r.status == 409 and r.body["error"]["code"] == "duplicate_invoice_number", r.body
        assert "INV-1001" in r.body["error"]["message"] and "Wave" in r.body["error"]["message"]
    assert _counts(world)[2] == 1
    notes = notifications()
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "duplicate_invoice_number"


def test_a_duplicate_number_refused_by_wave_maps_to_duplicate_number(world: dict[str, Any]) -> None:
    """Another writer wins between our lookup and our create: Wave's inputError on invoiceNumber -> DuplicateNumber."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from booksync import wiring
    from booksync.invoicing.models import Invoice, InvoiceLine
    from booksync.providers.wave.accounting import WaveAccounting
    from booksync.sync.ports import DuplicateNumber, LineRef, Ref, Session

    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    assert resync(inv["id"]).status == 200
    books = tenant(world["url"], world["business"])
    (wave_invoice,) = books["entities"]["invoices"]
    (product,) = books["entities"]["products"]
    now, one = datetime.now(UTC), Decimal("1")
    other = Invoice(
        id="inv_other",
        number="INV-1001",
        customer_id="cus_x",
        lines=[InvoiceLine(item_id="itm_x", quantity=one, unit_price=one, amount=one)],
        total=one,
        created_at=now,
        updated_at=now,
    )
    line = LineRef(Ref(product["id"]), product["incomeAccountId"], one, one, one, "Counter sale")
    token = wiring.token_manager().access_token("co_a", "wave").access_token
    session = Session(tenant_id=world["business"], access_token=token)
    with pytest.raises(DuplicateNumber, match="already in use"):
        WaveAccounting().create_invoice(session, other, Ref(wave_invoice["customerId"]), [line], "k")
    assert _counts(world)[2] == 1


def test_an_expired_access_token_answered_with_http_200_unauthenticated_is_refreshed(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    # Given Wave's clock moved past the access token's life; Wave says UNAUTHENTICATED inside an HTTP 200
    advance_clock(world["url"], 7200 + 60)
    r = resync(inv["id"])
    assert r.status == 200, r.body
    books = tenant(world["url"], world["business"])
    assert books["tokens"]["refreshes"] == 1 and books["stats"]["unauthenticated"] == 1
    assert books["counts"]["invoices"] == 1


@pytest.mark.parametrize("how", ["revoked", "expired"])
def test_dead_refresh_token_marks_needs_reauth_with_one_notification(world: dict[str, Any], how: str) -> None:
    from booksync import wiring

    api = load_function("api").lambda_handler
    inv = _sent_invoice(api)
    if how == "revoked":
        tokens = wiring.token_manager().current("co_a", "wave")
        form = {"client_id": "local-wave-client", "client_secret": "local-wave-secret", "token": tokens.refresh_token}
        assert httpx.post(f"{world['url']}/wave/oauth2/token/revoke/", data=form).status_code == 200
    else:  # Wave's refresh-token lifetime is UNCONFIRMED: give it one and let it pass
        configure(world["url"], refresh_token_ttl_seconds=86_400)
        connect_wave("co_a")  # a grant issued under that lifetime
        advance_clock(world["url"], 2 * 86_400)
    for _ in range(3):
        r = resync(inv["id"])
        assert r.status == 409 and r.body["error"]["code"] == "needs_reauth", r.body
        assert "Reconnect Wave" in r.body["error"]["message"]
    listed = invoke(api, http_event("api/list_integrations.json")).body["data"]
    assert next(p for p in listed if p["provider"] == "wave")["status"] == "needs_reauth"
    notes = notifications()
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "needs_reauth"
    assert _counts(world)[2] == 0


def test_provider_5xx_storm_retries_boundedly_then_dead_letters_into_one_notification(world: dict[str, Any]) -> None:
    api = load_function("api").lambda_handler
    sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
    inv = _sent_invoice(api)
    httpx.post(
        f"{world['url']}/_sandbox/faults",
        json={"provider": "wave", "path": "/graphql/public$", "mode": "status", "status": 503, "count": None},
    ).raise_for_status()
    r = resync(inv["id"])
    assert r.status == 503 and r.body["error"]["code"] == "provider_unavailable"
    log = httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": "wave"}).json()
    assert 1 <= len([e for e in log["requests"] if e["outcome"] == "fault"]) <= 4  # bounded: max_attempts per call
    drain_to_dead_letter(sqs, queues["invoice-sync"], "sync_invoice")
    drain(sqs, queues["invoice-sync-dlq"], "notify_failures")
    notes = notifications()
    per_entity = [(n["entityType"], n["entityId"]) for n in notes["data"]]
    assert len(per_entity) == len(set(per_entity)) == notes["unreadCount"]
    assert ("invoice", inv["id"]) in per_entity
    assert {n["code"] for n in notes["data"]} == {"provider_unavailable"}
    assert _counts(world)[2] == 0
