"""Batched pushes (issue 9 item 1): a QuickBooks Resync sends the invoice update and its new payments in one /batch,
with the exactly-once guarantees of single pushes kept per element."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.qbo_helpers import connect_quickbooks, drain, map_default_income_account, qbo_world, tenant
from tests.integration.test_api_flow import _setup_invoice

pytestmark = pytest.mark.moto_server


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with qbo_world() as w:
        from booksync import wiring

        wiring.sync_engine().backoff_cap = 0.05
        w["realm"] = connect_quickbooks("co_a")
        map_default_income_account("co_a")
        yield w


def _synced_invoice(world: dict[str, Any], number: str = "INV-1001") -> dict[str, Any]:
    api = load_function("api").lambda_handler
    inv = _setup_invoice(api, number=number)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    drain(world["aws"]["sqs"], world["aws"]["queues"]["invoice-sync"], "sync_invoice")
    return dict(inv)


def _pay(invoice_id: str, amount: str, method: str = "check") -> dict[str, Any]:
    api = load_function("api").lambda_handler
    r = invoke(
        api,
        http_event(
            "api/record_payment.json",
            path=f"/invoices/{invoice_id}/payments",
            body={"amount": amount, "method": method},
        ),
    )
    assert r.status == 201, r.body
    return dict(r.body)


def _resync(invoice_id: str) -> Any:
    sync = load_function("sync_invoice").lambda_handler
    return invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{invoice_id}/sync"))


def _log(world: dict[str, Any], since: int) -> list[dict[str, Any]]:
    log = httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": "quickbooks", "since": since}).json()
    return [e for e in log["requests"] if "/v3/company/" in e["path"]]


def _last_seq(world: dict[str, Any]) -> int:
    return int(httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": "quickbooks"}).json()["last_seq"])


def _fault(world: dict[str, Any], **spec: Any) -> None:
    httpx.post(f"{world['url']}/_sandbox/faults", json={"provider": "quickbooks", **spec}).raise_for_status()


def test_resync_with_three_payments_takes_at_most_two_round_trips(world: dict[str, Any]) -> None:
    # Given a synced invoice and three payments recorded since (their queued pushes not run yet)
    inv = _synced_invoice(world)
    for amount in ("10.00", "20.00", "30.00"):
        _pay(inv["id"], amount)
    since = _last_seq(world)
    # When the user clicks Resync
    r = _resync(inv["id"])
    # Then the invoice and the three payments are in the books after at most two QuickBooks round trips
    assert r.status == 200, r.body
    assert r.body["invoice"]["status"] == "synced"
    assert [p["status"] for p in r.body["payments"]] == ["synced"] * 3
    trips = _log(world, since)
    assert len(trips) <= 2, [(e["method"], e["path"]) for e in trips]
    assert any(e["path"].endswith("/batch") for e in trips)
    books = tenant(world["url"], world["realm"])
    assert books["counts"]["Payment"] == 3
    assert sorted(float(p["TotalAmt"]) for p in books["entities"]["Payment"]) == [10.0, 20.0, 30.0]
    # And a second Resync pushes nothing again
    since = _last_seq(world)
    again = _resync(inv["id"])
    assert again.status == 200 and [p["action"] for p in again.body["payments"]] == ["unchanged"] * 3
    assert tenant(world["url"], world["realm"])["counts"]["Payment"] == 3
    assert not [e for e in _log(world, since) if e["method"] == "POST"]


def test_batch_element_fault_fails_only_that_payment(world: dict[str, Any]) -> None:
    from booksync import wiring

    inv = _synced_invoice(world)
    good1 = _pay(inv["id"], "10.00")
    bad = _pay(inv["id"], "20.00")
    good2 = _pay(inv["id"], "30.00")
    # Given QuickBooks will refuse the second payment of the batch (its invoice reference is unknown to QuickBooks)
    engine = wiring.sync_engine()
    real = engine._payment_element

    def payment_element(provider: Any, s: Any, p: Any, inv_ref: Any, cust: Any) -> Any:
        from booksync.sync.ports import Ref

        return real(provider, s, p, Ref("999999") if p.id == bad["id"] else inv_ref, cust)

    engine._payment_element = payment_element  # type: ignore[method-assign]
    since = _last_seq(world)
    r = _resync(inv["id"])
    engine._payment_element = real  # type: ignore[method-assign]
    # Then the other two are linked, the bad one failed alone with its own error and notification
    assert r.status == 200, r.body
    by_id = {p["id"]: p for p in r.body["payments"]}
    assert by_id[good1["id"]]["status"] == by_id[good2["id"]]["status"] == "synced"
    assert by_id[bad["id"]]["status"] == "failed"
    assert len([e for e in _log(world, since) if e["path"].endswith("/batch")]) == 1
    assert tenant(world["url"], world["realm"])["counts"]["Payment"] == 2
    stored = wiring.sync_engine().invoices.get_payment("co_a", inv["id"], bad["id"])
    assert stored.last_sync_error is not None and stored.quickbooks_payment_id is None
    api = load_function("api").lambda_handler
    notes = invoke(api, http_event("api/list_notifications.json")).body["data"]
    assert [n["entityId"] for n in notes if n.get("entityType") == "payment"] == [bad["id"]]
    # And the next Resync pushes only the one that failed
    again = _resync(inv["id"])
    assert {p["id"]: p["action"] for p in again.body["payments"]} == {
        good1["id"]: "unchanged",
        bad["id"]: "created",
        good2["id"]: "unchanged",
    }
    assert tenant(world["url"], world["realm"])["counts"]["Payment"] == 3


@pytest.mark.parametrize("mode", ["commit_then_500", "commit_then_drop"])
def test_batch_committed_then_failed_then_redelivered_makes_no_duplicates(world: dict[str, Any], mode: str) -> None:
    from booksync import wiring

    inv = _synced_invoice(world)
    pays = [_pay(inv["id"], a) for a in ("10.00", "20.00", "30.00")]
    engine = wiring.sync_engine()
    # Given QuickBooks commits every batch and then fails the answer, for as long as the engine retries
    _fault(world, method="POST", path=r"/v3/company/[0-9]+/batch$", mode=mode, count=engine.max_attempts)
    r = _resync(inv["id"])
    # Then the Resync answers "retry later": the invoice update and every payment have an unknown outcome
    assert r.status == 503, r.body
    assert [p["status"] for p in r.body["error"]["details"][0]["payments"]] == ["failed"] * 3
    assert tenant(world["url"], world["realm"])["counts"]["Payment"] == 3  # landed once, then replayed
    # When the payment messages are delivered (after the claims' leases passed, the outcome still unknown)
    engine.clock = lambda: __import__("time").time() + engine.lease_seconds + 5
    drain(world["aws"]["sqs"], world["aws"]["queues"]["payment-sync"], "sync_payments")
    again = _resync(inv["id"])
    # Then each payment is found by its marker and linked: still three in the books
    assert [p["status"] for p in again.body["payments"]] == ["synced"] * 3
    assert tenant(world["url"], world["realm"])["counts"]["Payment"] == 3
    ids = {engine.invoices.get_payment("co_a", inv["id"], p["id"]).quickbooks_payment_id for p in pays}
    assert len(ids) == 3 and None not in ids


def test_batch_replays_after_a_dropped_answer_within_one_push(world: dict[str, Any]) -> None:
    inv = _synced_invoice(world)
    for a in ("10.00", "20.00"):
        _pay(inv["id"], a)
    # Given the first batch is saved and its answer lost once; the engine retries the same batch (same requestid)
    _fault(world, method="POST", path=r"/v3/company/[0-9]+/batch$", mode="commit_then_drop", count=1)
    r = _resync(inv["id"])
    assert r.status == 200 and [p["status"] for p in r.body["payments"]] == ["synced"] * 2, r.body
    assert tenant(world["url"], world["realm"])["counts"]["Payment"] == 2


def test_sandbox_enforces_batch_rules(world: dict[str, Any]) -> None:
    from booksync import wiring

    token = wiring.token_manager().access_token("co_a", "quickbooks").access_token
    url = f"{world['url']}/quickbooks/v3/company/{world['realm']}/batch"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def post(items: list[dict[str, Any]], **params: str) -> httpx.Response:
        return httpx.post(
            url, params={"minorversion": "75", **params}, headers=headers, json={"BatchItemRequest": items}
        )

    too_many = post([{"bId": str(i), "Query": "select * from Customer"} for i in range(31)])
    assert too_many.status_code == 400
    long_bid = post([{"bId": "b" * 11, "Query": "select * from Customer"}])
    assert long_bid.status_code == 400 and "bId" in long_bid.text
    long_id = post([{"bId": "1", "Query": "select * from Customer"}], requestid="r" * 37)
    assert long_id.status_code == 400


def test_xero_sandbox_array_rules() -> None:
    from booksync import wiring
    from tests.integration.xero_helpers import connect_xero, xero_world

    with xero_world() as w:
        org = connect_xero("co_a")
        token = wiring.token_manager().access_token("co_a", "xero").access_token
        headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": org, "Accept": "application/json"}
        base = f"{w['url']}/xero/api.xro/2.0"
        # Items take at most 500 per request
        items = [{"Code": f"C{i:04d}", "Name": f"Item {i}"} for i in range(501)]
        r = httpx.put(f"{base}/Items", headers=headers, json={"Items": items})
        assert r.status_code == 400 and r.json()["Type"] == "ValidationException", r.text
        # summarizeErrors=false: 200, each element with its own status and errors, in the order sent
        contacts = {"Contacts": [{"Name": "Same"}, {"Name": "Same"}, {"Name": "Other"}]}
        r = httpx.put(f"{base}/Contacts", params={"summarizeErrors": "false"}, headers=headers, json=contacts)
        assert r.status_code == 200, r.text
        answers = r.json()["Contacts"]
        assert [a["StatusAttributeString"] for a in answers] == ["OK", "ERROR", "OK"]
        assert answers[1]["ValidationErrors"] and [answers[0]["Name"], answers[2]["Name"]] == ["Same", "Other"]
