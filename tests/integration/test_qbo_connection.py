"""QuickBooks connection against the sandbox: the refresh storm on Intuit's token endpoint, disconnect."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.qbo_helpers import connect_quickbooks, map_default_income_account, qbo_world, tenant
from tests.integration.test_api_flow import _setup_invoice

pytestmark = pytest.mark.moto_server


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with qbo_world() as w:
        w["realm"] = connect_quickbooks("co_a")
        yield w


def _expire_stored_access_token(company: str) -> None:
    """Make the stored access token due for refresh now (the sandbox's own clock keeps the refresh token valid)."""
    from booksync import wiring
    from booksync.adapters.dynamodb import TokenRepository
    from booksync.providers.base import TokenSet

    repo, cipher = TokenRepository(), wiring.token_cipher()
    current = cipher.decrypt(company, "quickbooks", repo.read(company, "quickbooks").ciphertext)
    expired = TokenSet(current.access_token, current.refresh_token, time.time() - 1, current.refresh_expires_at)
    repo.connect(
        company,
        "quickbooks",
        tenant_id="x",
        tenant_name="x",
        ciphertext=cipher.encrypt(company, "quickbooks", expired),
        access_expires_at=expired.access_expires_at,
    )


@pytest.mark.parametrize("rounds", [5, pytest.param(20, marks=pytest.mark.soak)])
def test_fifty_callers_at_expiry_refresh_once_per_round_at_intuits_token_endpoint(
    world: dict[str, Any], rounds: int
) -> None:
    from booksync import wiring

    manager = wiring.token_manager()
    before = tenant(world["url"], world["realm"])["tokens"]
    threads = 50
    for n in range(1, rounds + 1):
        _expire_stored_access_token("co_a")
        barrier = threading.Barrier(threads)
        got: list[str] = []
        errors: list[BaseException] = []

        def worker(
            barrier: threading.Barrier = barrier, got: list[str] = got, errors: list[BaseException] = errors
        ) -> None:
            barrier.wait()
            try:
                got.append(manager.access_token("co_a", "quickbooks").access_token)
            except BaseException as exc:
                errors.append(exc)

        pool = [threading.Thread(target=worker) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        stats = tenant(world["url"], world["realm"])["tokens"]
        assert errors == [], f"round {n}: {errors[0]!r}"
        assert len(set(got)) == 1, f"round {n}: callers got {len(set(got))} different tokens"
        # the sandbox rotates the refresh token on every refresh with no grace: a second refresh would be refused
        assert stats["refreshes"] - before["refreshes"] == n, f"round {n}: {stats}"
        assert stats["invalid_grant"] == before["invalid_grant"] == 0
    listed = invoke(load_function("api").lambda_handler, http_event("api/list_integrations.json")).body["data"]
    assert next(p for p in listed if p["provider"] == "quickbooks")["status"] == "connected"


def test_disconnect_revokes_forgets_tokens_and_keeps_synced_ids(world: dict[str, Any]) -> None:
    from booksync.adapters.dynamodb import TokenRepository

    api = load_function("api").lambda_handler
    sync = load_function("sync_invoice").lambda_handler
    map_default_income_account("co_a")
    inv = _setup_invoice(api)["invoice"]
    invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send"))
    assert invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv['id']}/sync")).status == 200
    # When the user disconnects QuickBooks
    r = invoke(api, http_event("api/list_integrations.json", method="DELETE", path="/integrations/quickbooks"))
    assert r.status == 204
    # Then the grant is revoked at Intuit, our tokens are gone, the synced ids stay
    assert tenant(world["url"], world["realm"])["tokens"]["active_grants"] == 0
    stored = TokenRepository().read("co_a", "quickbooks")
    assert stored.status == "disconnected" and stored.ciphertext is None
    detail = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{inv['id']}"))
    assert detail.body["providerIds"].get("quickbooks")
    assert "syncButton" not in detail.body
    again = invoke(sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv['id']}/sync"))
    assert again.status == 409 and again.body["error"]["code"] == "not_connected"
    listed = invoke(api, http_event("api/list_integrations.json")).body["data"]
    assert next(p for p in listed if p["provider"] == "quickbooks")["status"] == "disconnected"
    # And disconnecting again is harmless
    assert (
        invoke(api, http_event("api/list_integrations.json", method="DELETE", path="/integrations/quickbooks")).status
        == 204
    )


@pytest.mark.parametrize("failures", [2, 3])
def test_a_blip_after_the_code_exchange_is_retried_not_thrown_away(failures: int) -> None:
    """The code is single-use: once it is exchanged, a failed company lookup must not cost the user a new consent."""
    import httpx

    with qbo_world() as w:
        # Given Intuit answers the company lookup with 503 `failures` times
        r = httpx.post(
            f"{w['url']}/_sandbox/faults",
            json={"provider": "quickbooks", "method": "GET", "path": "/companyinfo/", "mode": "status",
                  "status": 503, "count": failures},
        )  # fmt: skip
        r.raise_for_status()
        if failures < 3:
            # When the user completes the consent, Then the connection is made on the third try
            realm = connect_quickbooks("co_a")
            log = httpx.get(f"{w['url']}/_sandbox/requests", params={"provider": "quickbooks"}).json()["requests"]
            lookups = [e for e in log if "/companyinfo/" in e["path"]]
            assert [e["status"] for e in lookups] == [503] * failures + [200]
            assert tenant(w["url"], realm)["counts"] is not None
        else:
            # Then after three failures the user is sent back with provider_unavailable and nothing is stored
            with pytest.raises(AssertionError, match="error=provider_unavailable"):
                connect_quickbooks("co_a")
            from booksync.adapters.dynamodb import TokenRepository

            assert TokenRepository().read("co_a", "quickbooks") is None
