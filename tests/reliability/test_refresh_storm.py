"""1. Refresh storm per provider: 50 concurrent callers at token expiry, round after round, against the sandbox's real
token endpoint (rotating refresh tokens, no grace where the provider has none) -> exactly one refresh per round,
0 invalid_grant, 0 disconnects. Short: 50 x 3 rounds; soak: 50 x 20."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.reliability.conftest import Record
from tests.reliability.worlds import PROVIDERS, ProviderWorld

pytestmark = [pytest.mark.moto_server, pytest.mark.parametrize("provider", PROVIDERS)]

CALLERS = 50


def _storm(provider: str, callers: int) -> tuple[list[str], list[BaseException]]:
    from booksync import wiring

    manager = wiring.token_manager()
    barrier = threading.Barrier(callers)
    got: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            got.append(manager.access_token("co_a", provider).access_token)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    pool = [threading.Thread(target=worker) for _ in range(callers)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return got, errors


def _run(world: ProviderWorld, record: Record, rounds: int) -> None:
    from booksync.adapters.dynamodb import TokenRepository

    before = world.token_stats()
    per_round: list[int] = []
    seen: set[str] = set()
    errors_total = 0
    for n in range(1, rounds + 1):
        # Given the access token's life has passed (sandbox clock and our stored expiry)
        world.expire_tokens()
        done = world.token_stats()["refreshes"]
        # When 50 callers need a token at once
        got, errors = _storm(world.name, CALLERS)
        stats = world.token_stats()
        per_round.append(stats["refreshes"] - done)
        errors_total += len(errors)
        # Then the provider saw exactly one refresh, nobody failed, and everybody got the same new token
        assert errors == [], f"round {n}: {errors[:3]!r}"
        assert per_round[-1] == 1, f"round {n}: {per_round[-1]} refreshes"
        assert stats["invalid_grant"] == before["invalid_grant"] == 0
        assert len(set(got)) == 1 and not (set(got) & seen)
        seen |= set(got)
    stored = TokenRepository().read("co_a", world.name)
    assert stored is not None and stored.status == "connected"
    notes = world.notifications()
    reauth = [n for n in notes["data"] if n["code"] == "needs_reauth"]
    # And the new token works at the provider: a real sync goes through
    invoice = world.new_invoice()
    assert world.resync(invoice["id"]).status == 200
    after = world.token_stats()
    record("refresh_storm", world.name, rounds=rounds, callers=CALLERS, refreshes_per_round_min=min(per_round),
           refreshes_per_round_max=max(per_round), invalid_grants=after["invalid_grant"] - before["invalid_grant"],
           caller_errors=errors_total, disconnects=len(reauth))  # fmt: skip
    assert reauth == []


def test_refresh_storm_one_refresh_per_round(world: ProviderWorld, record: Record) -> None:
    _run(world, record, rounds=3)


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_refresh_storm_soak(world: ProviderWorld, record: Record, provider: Any) -> None:
    _run(world, record, rounds=20)
