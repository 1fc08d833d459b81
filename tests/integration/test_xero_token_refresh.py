"""Xero token refresh under the shared DynamoDB lease, against the Xero sandbox over real HTTP: one refresh per
round in a 50-thread storm, and a refresh whose answer was lost recovered through Xero's 30-minute grace."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from booksync.errors import AppError
from booksync.integrations.tokens import NeedsReauth
from booksync.providers.base import TokenSet
from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.xero_helpers import connect_xero, fault, tenant, xero_world

pytestmark = pytest.mark.moto_server


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with xero_world() as w:
        w["org"] = connect_xero("co_a")
        yield w


def _expire_stored_access_token(company: str = "co_a") -> TokenSet:
    """Rewrite the stored token set with an access token that expired a second ago (our clock)."""
    from booksync import wiring
    from booksync.adapters.dynamodb import TokenRepository

    cipher = wiring.token_cipher()
    repo = TokenRepository()
    stored = repo.read(company, "xero")
    tokens = cipher.decrypt(company, "xero", stored.ciphertext)
    expired = TokenSet(
        tokens.access_token, tokens.refresh_token, time.time() - 1, tokens.refresh_expires_at, tokens.extra
    )
    conn = repo.read(company, "xero")
    repo.connect(
        company,
        "xero",
        tenant_id=tokens.extra["tenant_id"],
        tenant_name=tokens.extra["tenant_name"],
        ciphertext=cipher.encrypt(company, "xero", expired),
        access_expires_at=expired.access_expires_at,
    )
    assert conn is not None
    return expired


def _storm(threads: int) -> tuple[list[str], list[BaseException]]:
    from booksync import wiring

    manager = wiring.token_manager()
    barrier = threading.Barrier(threads)
    got: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            got.append(manager.access_token("co_a", "xero").access_token)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return got, errors


def _api_works(world: dict[str, Any], token: str) -> bool:
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": world["org"], "Accept": "application/json"}
    return httpx.get(f"{world['url']}/xero/api.xro/2.0/Accounts", headers=headers).status_code == 200


def test_a_refresh_whose_answer_was_lost_is_recovered_within_the_grace(world: dict[str, Any]) -> None:
    from booksync import wiring

    manager = wiring.token_manager()
    before = _expire_stored_access_token()
    # Given Xero rotates the refresh token but the answer never arrives
    fault(world["url"], method="POST", path="/connect/token$", mode="commit_then_drop", count=1)
    with pytest.raises(AppError) as lost:
        manager.access_token("co_a", "xero")
    assert lost.value.code == "provider_unavailable"
    assert tenant(world["url"], world["org"])["tokens"]["refreshes"] == 1  # Xero did rotate
    # When the next caller refreshes with the token we still hold (now superseded), within 30 minutes
    httpx.post(f"{world['url']}/_sandbox/clock", json={"advance": 600}).raise_for_status()
    fresh = manager.access_token("co_a", "xero")
    # Then Xero accepts it (grace), we store the current pair and the connection stays healthy
    assert fresh.access_token != before.access_token and fresh.refresh_token != before.refresh_token
    assert _api_works(world, fresh.access_token)
    tokens = tenant(world["url"], world["org"])["tokens"]
    assert tokens["refreshes"] == 2 and tokens["invalid_grant"] == 0
    # and the pair we stored refreshes normally afterwards
    _expire_stored_access_token()
    assert _api_works(world, manager.access_token("co_a", "xero").access_token)
    assert tenant(world["url"], world["org"])["tokens"]["invalid_grant"] == 0


def test_without_the_grace_a_lost_refresh_answer_means_reconnecting(world: dict[str, Any]) -> None:
    from booksync import wiring

    manager = wiring.token_manager()
    _expire_stored_access_token()
    fault(world["url"], method="POST", path="/connect/token$", mode="commit_then_drop", count=1)
    with pytest.raises(AppError):
        manager.access_token("co_a", "xero")
    # When the retry comes more than 30 minutes later, the superseded refresh token is dead
    httpx.post(f"{world['url']}/_sandbox/clock", json={"advance": 1801}).raise_for_status()
    for _ in range(2):
        with pytest.raises(NeedsReauth):
            manager.access_token("co_a", "xero")
    api = load_function("api").lambda_handler
    notes = invoke(api, http_event("api/list_notifications.json")).body
    assert notes["unreadCount"] == 1 and notes["data"][0]["code"] == "needs_reauth"
    assert tenant(world["url"], world["org"])["tokens"]["invalid_grant"] == 1
