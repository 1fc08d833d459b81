"""Wave is paced per business, not per access token.

Wave's API is one GraphQL URL: no business in the path or a header. The pacer used to key its budget on the bearer
token, so every refreshed token started a fresh budget while Wave (and its sandbox) still counted the calls made
with the previous one in the same minute — a 50-call token budget plus a fresh burst met Wave's 60/min 429 whenever
tokens were refreshed under load (seen in `make bench`: the full-size Wave backfill ended short of its invoices).
The adapter now names the session's business to the pacer (an httpx request extension, never sent to Wave).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from booksync.ratelimit import LIMITS, TENANT_EXTENSION, tenant_of
from booksync.sync.ports import Session
from tests.integration.wave_helpers import connect_wave, wave_world

pytestmark = pytest.mark.moto_server


def test_the_tenant_is_the_sessions_business_whatever_the_token() -> None:
    ext = {TENANT_EXTENSION: "QnVzaW5lc3M6MQ=="}
    before = tenant_of("wave", "POST", "/graphql/public", {"Authorization": "Bearer first"}, ext)
    after = tenant_of("wave", "POST", "/graphql/public", {"Authorization": "Bearer refreshed"}, ext)
    assert before == after == "QnVzaW5lc3M6MQ=="
    # a request without the extension is still paced (by its token), and other providers keep their own rule
    assert tenant_of("wave", "POST", "/graphql/public", {"Authorization": "Bearer x"}) is not None
    assert tenant_of("xero", "GET", "/api.xro/2.0/Items", httpx.Headers({"Xero-Tenant-Id": "org-1"}), ext) == "org-1"


@pytest.fixture
def world() -> Iterator[dict[str, Any]]:
    with wave_world() as w:
        yield w


def test_calls_before_and_after_a_token_refresh_spend_one_business_budget(world: dict[str, Any]) -> None:
    from booksync import providers, wiring

    business = connect_wave("co_a")
    wave = providers.accounting("wave")
    tokens = wiring.token_manager()
    pacer = wiring.rate_pacer()
    limits = LIMITS["wave"]
    first = tokens.access_token("co_a", "wave").access_token
    wave.income_accounts(Session(tenant_id=business, access_token=first))
    # When the token is refreshed (as after a 401 or its expiry) and the next call uses the new one
    second = tokens.rejected("co_a", "wave", first).access_token
    assert second != first
    wave.income_accounts(Session(tenant_id=business, access_token=second))
    # Then both calls were taken from the business's one budget
    budget = pacer.store.read(pacer.key("wave", business))
    assert budget is not None
    assert budget.tokens <= limits.burst - 2 + 1  # two tokens spent (less than one refilled in between)
