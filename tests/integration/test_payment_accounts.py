"""Payment method -> deposit account mapping (issue 5 item 3) and the backfill a mapping save restarts.

End to end: handlers in-process, moto server and each provider's sandbox over real HTTP. A check payment lands in the
account mapped for checks (read back from the sandbox's books), an unmapped method keeps the adapter's default, a
mapped account the provider refuses names the method and Settings > Account Mapping."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.freshbooks_helpers import pay, resync, send
from tests.integration.qbo_helpers import drain
from tests.integration.test_api_flow import _setup_invoice

pytestmark = pytest.mark.moto_server

DEPOSIT_PROVIDERS = ["quickbooks", "xero", "wave"]


# ---- per-provider set-up and readers of the books -------------------------------------------------------------------
def _world(provider: str) -> AbstractContextManager[dict[str, Any]]:
    if provider == "quickbooks":
        from tests.integration.qbo_helpers import qbo_world

        return qbo_world()
    if provider == "xero":
        from tests.integration.xero_helpers import xero_world

        return xero_world()
    if provider == "wave":
        from tests.integration.wave_helpers import wave_world

        return wave_world()
    from tests.integration.freshbooks_helpers import freshbooks_world

    return freshbooks_world()


def _connect(provider: str, w: dict[str, Any]) -> str:
    """Connect through the consent flow and map the default income account; answers the tenant id."""
    from tests.integration import freshbooks_helpers as fb

    if provider == "quickbooks":
        from tests.integration.qbo_helpers import connect_quickbooks, map_default_income_account

        tenant = connect_quickbooks("co_a")
        w["income"] = map_default_income_account("co_a")
        return tenant
    if provider == "xero":
        from tests.integration.xero_helpers import connect_xero
        from tests.integration.xero_helpers import map_default_income_account as map_xero

        tenant = connect_xero("co_a")
        w["income"] = map_xero("co_a", "200")
        return tenant
    if provider == "wave":
        from tests.integration.wave_helpers import connect_wave

        tenant = connect_wave("co_a")
    else:
        tenant = fb.connect_freshbooks("co_a")
    w["income"] = fb.map_default_income_account(provider, "co_a")
    return tenant


def _add_wave_bank_account(w: dict[str, Any], business: str, name: str) -> str:
    """A second Cash & Bank account, as a Wave user adds one (the sandbox seeds only "Cash on Hand")."""
    from tests.integration.wave_helpers import wave_sandbox

    with w["sandbox"].core.lock:
        biz = wave_sandbox(w).businesses[business]
        account_id = biz.new_id("Account")
        seed = next(a for a in biz.accounts.values() if a["_subtype"] == "CASH_AND_BANK")
        biz.accounts[account_id] = seed | {"id": account_id, "name": name, "sequence": len(biz.accounts) + 1}
    return str(account_id)


def _deposited_to(provider: str, w: dict[str, Any], tenant: str) -> dict[str, str]:
    """Payment id in the books -> the id of the account it was deposited to, read from the sandbox."""
    if provider == "quickbooks":
        from tests.integration.qbo_helpers import tenant as dump

        return {
            str(p["Id"]): str(p["DepositToAccountRef"]["value"]) for p in dump(w["url"], tenant)["entities"]["Payment"]
        }
    if provider == "xero":
        from tests.integration.xero_helpers import tenant as xero_dump

        books = xero_dump(w["url"], tenant)["entities"]
        return {str(p["PaymentID"]): str(p["Account"]["AccountID"]) for p in books["Payments"]}
    from tests.integration.wave_helpers import wave_sandbox

    with w["sandbox"].core.lock:  # the tenant dump leaves out the account, the sandbox's record has it
        payments = wave_sandbox(w).businesses[tenant].payments
        return {str(p["id"]): str(p["_account"]) for p in payments.values()}


def _accounts(provider: str, purpose: str | None) -> Any:
    api = load_function("api").lambda_handler
    query = {"purpose": purpose} if purpose else None
    return invoke(api, http_event("api/list_integrations.json", path=f"/integrations/{provider}/accounts", query=query))


def _put_mappings(body: dict[str, Any]) -> Any:
    return invoke(load_function("api").lambda_handler, http_event("api/put_account_mappings.json", body=body))


def _get_mappings() -> dict[str, Any]:
    r = invoke(
        load_function("api").lambda_handler, http_event("api/put_account_mappings.json", method="GET", body=None)
    )
    assert r.status == 200, r.body
    return dict(r.body)


def _import_messages(w: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages on the ImportQueue now (one receive, made visible again at once)."""
    sqs, url = w["aws"]["sqs"], w["aws"]["queues"]["import"]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


# what each provider lists for ?purpose=payment: names that must be there, names that must not
DEPOSIT_NAMES: dict[str, tuple[set[str], set[str]]] = {
    "quickbooks": (
        {"Checking", "Undeposited Funds"},
        {"Services", "Sales of Product Income", "Accounts Receivable (A/R)"},
    ),
    "xero": ({"Business Bank Account", "Business Savings Account"}, {"Sales"}),
    "wave": ({"Cash on Hand", "Check Deposits"}, {"Sales", "Accounts Receivable"}),
}
FALLBACK = {"quickbooks": "Undeposited Funds", "xero": "Business Bank Account", "wave": "Cash on Hand"}
CHECK_ACCOUNT = {"quickbooks": "Checking", "xero": "Business Savings Account", "wave": "Check Deposits"}


@pytest.mark.parametrize("provider", DEPOSIT_PROVIDERS)
def test_check_payments_land_in_the_mapped_account_and_unmapped_methods_fall_back(provider: str) -> None:
    with _world(provider) as w:
        api = load_function("api").lambda_handler
        sqs, queues = w["aws"]["sqs"], w["aws"]["queues"]
        tenant = _connect(provider, w)
        if provider == "wave":
            _add_wave_bank_account(w, tenant, "Check Deposits")
        # Given the accounts a payment can be deposited to, as Settings > Account Mapping lists them
        listed = _accounts(provider, "payment")
        assert listed.status == 200, listed.body
        by_name = {a["name"]: a["id"] for a in listed.body["data"]}
        must, must_not = DEPOSIT_NAMES[provider]
        assert must <= set(by_name), by_name
        assert not must_not & set(by_name), by_name
        income = _accounts(provider, None)  # the default purpose keeps today's answer: income accounts
        assert income.status == 200 and w["income"] in {a["id"] for a in income.body["data"]}
        assert not {a["id"] for a in income.body["data"]} & {by_name[n] for n in must}
        # And checks mapped to one of them (cash left unmapped)
        check_account = by_name[CHECK_ACCOUNT[provider]]
        body = {provider: {"defaultAccountId": w["income"], "items": {}, "paymentAccounts": {"check": check_account}}}
        saved = _put_mappings(body)
        assert saved.status == 200, saved.body
        assert saved.body[provider]["paymentAccounts"] == {"check": check_account}
        assert _get_mappings()[provider]["paymentAccounts"] == {"check": check_account}
        # When an invoice is sent and pushed, a check payment goes through the payment queue (one-object push)
        inv = _setup_invoice(api)["invoice"]
        send(api, inv["id"])
        drain(sqs, queues["invoice-sync"], "sync_invoice")
        p1 = pay(api, inv["id"], "100.00", method="check")
        drain(sqs, queues["payment-sync"], "sync_payments")
        # and a check and a cash payment go with a Resync (one batch where the provider batches)
        p2 = pay(api, inv["id"], "50.00", method="check")
        p3 = pay(api, inv["id"], "25.00", method="cash")
        r = resync(inv["id"])
        assert r.status == 200, r.body
        assert {p["id"]: p["status"] for p in r.body["payments"]} == {
            p1["id"]: "synced",
            p2["id"]: "synced",
            p3["id"]: "synced",
        }
        # Then both checks are in the mapped account and the cash payment in the provider's default
        detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}")).body
        ids = {p["id"]: p["providerIds"][provider] for p in detail["payments"]}
        deposited = _deposited_to(provider, w, tenant)
        assert len(deposited) == 3, deposited
        assert deposited[ids[p1["id"]]] == check_account
        assert deposited[ids[p2["id"]]] == check_account
        fallback = by_name[FALLBACK[provider]]
        assert fallback != check_account
        assert deposited[ids[p3["id"]]] == fallback


REFUSED_ACCOUNT = {
    # QuickBooks: an account id the company does not have; Xero: a revenue account (no payments to it);
    # Wave: an income account (payments need a Cash & Bank account)
    "quickbooks": lambda w, tenant: "99999",
    "xero": lambda w, tenant: _xero_account_id(w, tenant, "200"),
    "wave": lambda w, tenant: w["income"],
}


def _xero_account_id(w: dict[str, Any], tenant: str, code: str) -> str:
    from tests.integration.xero_helpers import tenant as xero_dump

    return str(
        next(a["AccountID"] for a in xero_dump(w["url"], tenant)["entities"]["Accounts"] if a.get("Code") == code)
    )


@pytest.mark.parametrize("provider", DEPOSIT_PROVIDERS)
def test_a_mapped_account_the_provider_refuses_names_the_method_and_where_to_fix_it(provider: str) -> None:
    refused: Callable[[dict[str, Any], str], str] = REFUSED_ACCOUNT[provider]
    with _world(provider) as w:
        api = load_function("api").lambda_handler
        sqs, queues = w["aws"]["sqs"], w["aws"]["queues"]
        tenant = _connect(provider, w)
        bad = refused(w, tenant)
        body = {provider: {"defaultAccountId": w["income"], "items": {}, "paymentAccounts": {"card": bad}}}
        assert _put_mappings(body).status == 200
        inv = _setup_invoice(api)["invoice"]
        send(api, inv["id"])
        drain(sqs, queues["invoice-sync"], "sync_invoice")
        # When a card payment (mapped to an account the provider refuses) and a cash payment are pushed by a Resync
        card = pay(api, inv["id"], "30.00", method="card")
        cash = pay(api, inv["id"], "20.00", method="cash")
        r = resync(inv["id"])
        assert r.status == 200, r.body
        out = {p["id"]: p for p in r.body["payments"]}
        # Then the cash payment is in the books and the card payment failed alone, with a message a person can act on
        assert out[cash["id"]]["status"] == "synced", out
        assert out[card["id"]]["status"] == "failed", out
        error = out[card["id"]]["error"]
        assert error["code"] == "payment_account_invalid", error
        assert "card payments" in error["message"] and "Settings > Account Mapping" in error["message"], error
        assert bad in error["message"]
        assert len(_deposited_to(provider, w, tenant)) == 1
        notes = invoke(api, http_event("api/list_notifications.json")).body
        assert any(n["code"] == "payment_account_invalid" for n in notes["data"]), notes
        # And the queued message for the card payment (one-object path) fails the same way, not as an outage
        drain(sqs, queues["payment-sync"], "sync_payments")
        detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}")).body
        pushed = {p["id"]: bool(p["providerIds"].get(provider)) for p in detail["payments"]}
        assert pushed == {card["id"]: False, cash["id"]: True}
        assert len(_deposited_to(provider, w, tenant)) == 1
        # When the mapping is cleared for card, the next Resync uses the provider's default
        body[provider]["paymentAccounts"] = {"card": None}
        assert _put_mappings(body).status == 200
        assert _get_mappings()[provider]["paymentAccounts"] == {}
        r = resync(inv["id"])
        assert {p["id"]: p["status"] for p in r.body["payments"]} == {card["id"]: "synced", cash["id"]: "synced"}
        assert len(_deposited_to(provider, w, tenant)) == 2


def test_freshbooks_lists_no_deposit_accounts_and_ignores_a_mapping() -> None:
    with _world("freshbooks") as w:
        api = load_function("api").lambda_handler
        sqs, queues = w["aws"]["sqs"], w["aws"]["queues"]
        _connect("freshbooks", w)
        listed = _accounts("freshbooks", "payment")
        assert listed.status == 200 and listed.body == {"data": []}, listed.body
        assert _accounts("freshbooks", None).body["data"], "income accounts are still listed"
        body = {"freshbooks": {"defaultAccountId": w["income"], "items": {}, "paymentAccounts": {"check": "1000"}}}
        assert _put_mappings(body).status == 200
        inv = _setup_invoice(api)["invoice"]
        send(api, inv["id"])
        drain(sqs, queues["invoice-sync"], "sync_invoice")
        pay(api, inv["id"], "100.00", method="check")
        drain(sqs, queues["payment-sync"], "sync_payments")
        detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}")).body
        assert all(p["providerIds"].get("freshbooks") for p in detail["payments"]), detail["payments"]


def test_bad_payment_method_key_and_bad_purpose_are_clear_client_errors() -> None:
    from tests.integration.qbo_helpers import connect_quickbooks, qbo_world

    with qbo_world():
        connect_quickbooks("co_a")
        r = _put_mappings({"quickbooks": {"defaultAccountId": "1", "paymentAccounts": {"cheque": "35", "cash": "4"}}})
        assert r.status == 400, r.body
        assert r.body["error"]["code"] == "unknown_payment_method"
        message = r.body["error"]["message"]
        assert "'cheque'" in message and all(m in message for m in ("cash", "check", "card", "ach", "other"))
        assert "quickbooks" not in _get_mappings()  # nothing was saved
        bad = _accounts("quickbooks", "expense")
        assert bad.status in (400, 422), bad.body


def test_saving_a_changed_mapping_queues_a_backfill_that_pushes_what_was_waiting() -> None:
    from tests.integration.qbo_helpers import connect_quickbooks, qbo_world
    from tests.integration.qbo_helpers import tenant as dump

    with qbo_world() as w:
        api = load_function("api").lambda_handler
        sqs, queues = w["aws"]["sqs"], w["aws"]["queues"]
        realm = connect_quickbooks("co_a")
        # Given the backfill after the connect found the invoice's item unmapped (one item_unmapped notification)
        inv = _setup_invoice(api)["invoice"]
        send(api, inv["id"])
        sqs.purge_queue(QueueUrl=queues["invoice-sync"])  # the sent invoice waits for the backfill
        drain(sqs, queues["import"], "import_changes")
        notes = invoke(api, http_event("api/list_notifications.json")).body
        assert [n["code"] for n in notes["data"]] == ["item_unmapped"], notes
        assert dump(w["url"], realm)["counts"].get("Invoice", 0) == 0
        assert _import_messages(w) == []
        # When the mapping is saved
        income = _accounts("quickbooks", None).body["data"][0]["id"]
        body = {"quickbooks": {"defaultAccountId": income, "items": {}}, "xero": {"defaultAccountId": "200"}}
        assert _put_mappings(body).status == 200
        # Then one backfill is queued, for the connected provider only
        queued = _import_messages(w)
        assert [(m["provider"], m["kind"], m["companyId"]) for m in queued] == [("quickbooks", "backfill", "co_a")]
        # And saving the same mapping again queues nothing more
        assert _put_mappings(body).status == 200
        assert len(_import_messages(w)) == 1
        # And the queued backfill pushes the invoice that was waiting, without another click
        drain(sqs, queues["import"], "import_changes")
        books = dump(w["url"], realm)
        assert books["counts"]["Invoice"] == 1
        detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}")).body
        assert detail["providerIds"].get("quickbooks")
        # And a change of payment accounts alone is a change too
        body["quickbooks"]["paymentAccounts"] = {"check": _accounts("quickbooks", "payment").body["data"][0]["id"]}
        assert _put_mappings(body).status == 200
        assert [m["provider"] for m in _import_messages(w)] == ["quickbooks"]


def test_omitting_payment_accounts_keeps_them() -> None:
    """Older clients send only income accounts: a PUT without ``paymentAccounts`` keeps the saved ones."""
    from tests.integration.qbo_helpers import qbo_world

    with qbo_world():
        first = {"quickbooks": {"defaultAccountId": "1", "items": {}, "paymentAccounts": {"check": "35"}}}
        assert _put_mappings(first).status == 200
        assert _put_mappings({"quickbooks": {"defaultAccountId": "2", "items": {}}}).status == 200
        got = _get_mappings()["quickbooks"]
        assert got["defaultAccountId"] == "2" and got["paymentAccounts"] == {"check": "35"}
