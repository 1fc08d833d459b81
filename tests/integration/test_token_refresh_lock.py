"""The token refresh happens once, under a DynamoDB lease: real threads against moto server over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from booksync.adapters.dynamodb import TokenRepository
from booksync.adapters.kms import KmsTokenCipher
from booksync.integrations.tokens import NeedsReauth, TokenManager
from booksync.providers.base import InvalidGrant, Tenant, TokenSet
from tests.moto_server import moto_server

pytestmark = pytest.mark.moto_server


class StrictRotatingOAuth:
    """A provider that rotates the refresh token on every refresh and kills the previous one at once (no grace)."""

    provider = "quickbooks"

    def __init__(self, delay: float = 0.05) -> None:
        self.lock = threading.Lock()
        self.current_rt = "rt-0"
        self.refreshes = 0
        self.invalid_grants = 0
        self.revoked = False
        self.delay = delay

    def refresh(self, tokens: TokenSet) -> TokenSet:
        time.sleep(self.delay)  # widen the race window
        with self.lock:
            if self.revoked or tokens.refresh_token != self.current_rt:
                self.invalid_grants += 1
                raise InvalidGrant("invalid_grant")
            self.refreshes += 1
            self.current_rt = f"rt-{self.refreshes}"
            return TokenSet(f"at-{self.refreshes}", self.current_rt, time.time() + 3600)

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        return "http://example/authorize"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        raise NotImplementedError

    def revoke(self, tokens: TokenSet) -> None:
        self.revoked = True

    def tenant(self, tokens: TokenSet, callback_params: dict[str, str]) -> Tenant:
        return Tenant("1", "Demo")


class Notes:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def notify(self, company_id: str, **kw: Any) -> None:
        self.items.append({"company_id": company_id, **kw})


@pytest.fixture
def server() -> Iterator[dict[str, Any]]:
    with moto_server() as s:
        yield s


def _expired_connection(server: dict[str, Any], company: str, oauth: StrictRotatingOAuth) -> KmsTokenCipher:
    cipher = KmsTokenCipher(server["kms"], server["key_id"])
    tokens = TokenSet("at-old", oauth.current_rt, time.time() - 1)
    TokenRepository().connect(
        company,
        "quickbooks",
        tenant_id="1",
        tenant_name="Demo",
        ciphertext=cipher.encrypt(company, "quickbooks", tokens),
        access_expires_at=tokens.access_expires_at,
    )
    return cipher


def _manager(cipher: KmsTokenCipher, oauth: StrictRotatingOAuth, notes: Notes, **kw: Any) -> TokenManager:
    return TokenManager(store=TokenRepository(), cipher=cipher, oauth=lambda p: oauth, notifier=notes, **kw)  # type: ignore[arg-type]


def _storm(manager: TokenManager, company: str, threads: int) -> tuple[list[str], list[BaseException]]:
    barrier = threading.Barrier(threads)
    got: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            got.append(manager.access_token(company, "quickbooks").access_token)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return got, errors


def test_a_holder_that_died_mid_refresh_blocks_others_only_until_its_lease_expires(server: dict[str, Any]) -> None:
    oauth, notes = StrictRotatingOAuth(delay=0), Notes()
    cipher = _expired_connection(server, "co_crash", oauth)
    repo = TokenRepository()
    stored = repo.read("co_crash", "quickbooks")
    # Given a holder took the lease for 2 s and died
    assert repo.acquire_lease("co_crash", "quickbooks", "dead-holder", stored.version, time.time() + 2, time.time())
    manager = _manager(cipher, oauth, notes, lease_seconds=5, max_wait=10)
    started = time.monotonic()
    # When another caller needs a token
    token = manager.access_token("co_crash", "quickbooks")
    waited = time.monotonic() - started
    # Then it waited for the dead lease to expire (not longer), refreshed once and went on
    assert token.access_token == "at-1" and oauth.refreshes == 1
    assert 1.0 <= waited < 6.0


def test_a_revoked_grant_marks_needs_reauth_once_with_one_notification(server: dict[str, Any]) -> None:
    oauth, notes = StrictRotatingOAuth(), Notes()
    cipher = _expired_connection(server, "co_dead", oauth)
    oauth.revoked = True
    manager = _manager(cipher, oauth, notes)
    got, errors = _storm(manager, "co_dead", 10)
    assert got == []
    assert len(errors) == 10 and all(isinstance(e, NeedsReauth) for e in errors)
    assert "Reconnect QuickBooks" in errors[0].message
    assert oauth.invalid_grants == 1  # the others waited and then read the needs_reauth state
    assert TokenRepository().read("co_dead", "quickbooks").status == "needs_reauth"
    assert [n["code"] for n in notes.items] == ["needs_reauth"]
