"""Xero sandbox: per-organisation limits — 60 calls/minute, 5,000/day, 5 concurrent — answered with 429,
``Retry-After`` and ``X-Rate-Limit-Problem``; the windows move with the sandbox clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from local.sandbox.server import SandboxServer
from tests.integration.xero_helpers import XeroClient, XeroConnection, assert_conformant

OTHER = "0b7c6f0e-5a4e-4d55-8e5d-3f1c9c2d7a02"


@pytest.fixture
def xero(http: httpx.Client, sandbox: SandboxServer) -> Iterator[XeroClient]:
    client = XeroClient(http, sandbox)
    client.configure(record_exchanges=True)
    yield client
    assert_conformant(sandbox)


def test_sixty_calls_a_minute_then_429_minute(xero: XeroClient) -> None:
    conn = xero.connect(sandbox_tenants=OTHER)
    first = xero.api(conn, "GET", "Accounts")
    assert first.headers["X-MinLimit-Remaining"] == "59" and first.headers["X-DayLimit-Remaining"] == "4999"
    statuses = [xero.api(conn, "GET", "Accounts").status_code for _ in range(59)]
    assert set(statuses) == {200}
    throttled = xero.api(conn, "GET", "Accounts")
    assert throttled.status_code == 429 and throttled.content == b""
    assert throttled.headers["X-Rate-Limit-Problem"] == "minute"
    assert 1 <= int(throttled.headers["Retry-After"]) <= 60
    # another organisation has its own allowance; the window moves with the sandbox clock
    other = xero.connect()
    assert xero.api(other, "GET", "Accounts").status_code == 200
    xero.advance(61)
    assert xero.api(conn, "GET", "Accounts").status_code == 200
    assert xero.tenant(OTHER)["limits"]["throttled_rate"] == 1


def test_the_daily_allowance_then_429_day_with_a_long_retry_after(
    xero: XeroClient,
) -> None:
    conn = xero.connect()
    xero.configure(daily_limit=3, rate_limit_per_minute=None)
    assert [xero.api(conn, "GET", "Accounts").status_code for _ in range(3)] == [200, 200, 200]
    refused = xero.api(conn, "GET", "Accounts")
    assert refused.status_code == 429 and refused.headers["X-Rate-Limit-Problem"] == "day"
    assert 86_000 < int(refused.headers["Retry-After"]) <= 86_400
    xero.advance(3600)
    assert xero.connect().access_token  # OAuth calls are not counted against the organisation
    refreshed = xero.refresh(conn.refresh_token).json()
    again = xero.api(conn, "GET", "Accounts", token=refreshed["access_token"])
    assert again.status_code == 429 and int(again.headers["Retry-After"]) <= 86_400 - 3600 + 1
    xero.advance(86_400)
    assert (
        xero.api(
            conn, "GET", "Accounts", token=xero.refresh(refreshed["refresh_token"]).json()["access_token"]
        ).status_code
        == 200
    )
    assert xero.tenant()["limits"]["throttled_day"] == 2


def test_five_concurrent_calls_then_429_concurrent(xero: XeroClient, sandbox: SandboxServer) -> None:
    conn: XeroConnection = xero.connect()
    # Given five calls held in flight by a timeout fault
    xero.add_fault(method="GET", path="/Accounts$", mode="timeout", seconds=1.5, status=503, count=5)
    results: list[int] = []

    def held() -> None:
        with httpx.Client(base_url=sandbox.url, timeout=10) as other:
            r = other.get(
                "/xero/api.xro/2.0/Accounts",
                headers={"Authorization": f"Bearer {conn.access_token}", "xero-tenant-id": conn.tenant_id,
                         "Accept": "application/json"},
            )  # fmt: skip
            results.append(r.status_code)

    threads = [threading.Thread(target=held) for _ in range(5)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 8
    while xero.tenant()["limits"]["inflight"] < 5:
        assert time.monotonic() < deadline, "calls did not get in flight"
        time.sleep(0.01)
    # When a sixth arrives
    sixth = xero.api(conn, "GET", "Accounts")
    # Then it is refused as a concurrency problem
    assert sixth.status_code == 429 and sixth.headers["X-Rate-Limit-Problem"] == "concurrent"
    for t in threads:
        t.join()
    assert results == [503] * 5
    assert xero.api(conn, "GET", "Accounts").status_code == 200
