"""Refresh storm against the Wave sandbox, which rotates the refresh token on every refresh without grace (the
strict reading of Wave's UNCONFIRMED rules): a second refresh of the same token would kill the connection.
50 threads x 5 rounds, the real adapter, the real token endpoint, moto DynamoDB."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from booksync.adapters.dynamodb import TokenRepository
from booksync.adapters.kms import KmsTokenCipher
from booksync.integrations.tokens import TokenManager
from booksync.providers.base import TokenSet
from tests.integration.wave_helpers import advance_clock, connect_wave, tenant, wave_world

pytestmark = pytest.mark.moto_server

ACCESS_TTL = 7200


class Notes:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def notify(self, company_id: str, **kw: Any) -> None:
        self.items.append({"company_id": company_id, **kw})


def _expire_stored_access_token(cipher: KmsTokenCipher, company: str, account: str) -> None:
    current = cipher.decrypt(company, "wave", TokenRepository().read(company, "wave").ciphertext)
    expired = TokenSet(current.access_token, current.refresh_token, time.time() - 1, None, current.extra)
    TokenRepository().connect(
        company,
        "wave",
        tenant_id=account,
        tenant_name="Wave",
        ciphertext=cipher.encrypt(company, "wave", expired),
        access_expires_at=expired.access_expires_at,
    )


def _storm(manager: TokenManager, company: str, threads: int) -> tuple[list[str], list[BaseException]]:
    barrier = threading.Barrier(threads)
    got: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            got.append(manager.access_token(company, "wave").access_token)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return got, errors


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with wave_world() as w:
        w["business"] = connect_wave("co_storm")
        yield w


def test_fifty_callers_at_expiry_refresh_exactly_once_per_round(world: dict[str, Any]) -> None:
    from booksync import providers

    aws = world["aws"]
    cipher = KmsTokenCipher(aws["kms"], aws["key_id"])
    notes = Notes()
    manager = TokenManager(store=TokenRepository(), cipher=cipher, oauth=providers.oauth_client, notifier=notes)
    seen: set[str] = set()
    for n in range(1, 6):
        # Given 2 hours passed: Wave's clock moves on, and the stored access token is past its expiry
        advance_clock(world["url"], ACCESS_TTL + 60)
        _expire_stored_access_token(cipher, "co_storm", world["business"])
        got, errors = _storm(manager, "co_storm", 50)
        # Then Wave saw exactly one refresh this round, nobody failed, and everybody got the same new token
        assert errors == []
        stats = tenant(world["url"], world["business"])["tokens"]
        assert (stats["refreshes"], stats["invalid_grant"]) == (n, 0)
        assert len(set(got)) == 1 and not (set(got) & seen)
        seen |= set(got)
    assert TokenRepository().read("co_storm", "wave").status == "connected"
    assert notes.items == []
