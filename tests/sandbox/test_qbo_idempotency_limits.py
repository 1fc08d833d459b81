"""QuickBooks sandbox: requestid replay (also after injected failures), throttling and fault expiry."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from conftest import Connection, Qbo


def customer_count(qbo: Qbo, conn: Connection) -> int:
    return int(qbo.tenant(conn.realm_id)["counts"]["Customer"])


def test_requestid_replays_the_original_response(qbo: Qbo, conn: Connection) -> None:
    first = qbo.api(conn, "POST", "customer", json={"DisplayName": "Acme"}, params={"requestid": "req-1"})
    second = qbo.api(conn, "POST", "customer", json={"DisplayName": "Acme"}, params={"requestid": "req-1"})
    assert first.status_code == second.status_code == 200
    assert second.content == first.content  # byte for byte, including the original "time"
    assert customer_count(qbo, conn) == 1


def test_requestid_replays_the_original_error_too(qbo: Qbo, conn: Connection) -> None:
    qbo.customer(conn, "Taken")
    first = qbo.api(conn, "POST", "customer", json={"DisplayName": "Taken"}, params={"requestid": "req-2"})
    assert qbo.error(first)["code"] == "6240"
    fixed = qbo.api(conn, "POST", "customer", json={"DisplayName": "Free"}, params={"requestid": "req-2"})
    assert fixed.content == first.content  # a changed payload needs a new requestid
    assert customer_count(qbo, conn) == 1


def test_requestid_is_per_realm(qbo: Qbo, conn: Connection) -> None:
    other = qbo.connect(sandbox_realm_id="555")
    a = qbo.api(conn, "POST", "customer", json={"DisplayName": "Acme"}, params={"requestid": "shared"})
    b = qbo.api(other, "POST", "customer", json={"DisplayName": "Acme"}, params={"requestid": "shared"})
    assert a.status_code == b.status_code == 200
    assert customer_count(qbo, other) == 1


def test_requestid_is_at_most_50_characters(qbo: Qbo, conn: Connection) -> None:
    ok = qbo.api(conn, "POST", "customer", json={"DisplayName": "A"}, params={"requestid": "r" * 50})
    assert ok.status_code == 200
    long = qbo.api(conn, "POST", "customer", json={"DisplayName": "B"}, params={"requestid": "r" * 51})
    assert qbo.error(long)["code"] == "2050"
    assert customer_count(qbo, conn) == 1


def test_retry_after_commit_then_500_replays_the_committed_write(qbo: Qbo, conn: Connection) -> None:
    # Given the next customer write commits and then answers 500
    qbo.add_fault(method="POST", path=r"/customer$", mode="commit_then_500")
    body = {"DisplayName": "Acme"}
    # When the client retries with the same requestid
    failed = qbo.api(conn, "POST", "customer", json=body, params={"requestid": "retry-500"})
    error = qbo.error(failed, 500)
    assert error["type"] == "SystemFault"
    retried = qbo.api(conn, "POST", "customer", json=body, params={"requestid": "retry-500"})
    # Then it gets the original success and nothing is created twice
    assert retried.status_code == 200
    assert customer_count(qbo, conn) == 1
    assert retried.json()["Customer"]["DisplayName"] == "Acme"


def test_retry_after_commit_then_drop_replays_the_committed_write(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    body = {"CustomerRef": {"value": customer["Id"]}, "Line": [qbo.line(item["Id"], "1", "12.50")], "DocNumber": "D-1"}
    qbo.add_fault(method="POST", path=r"/invoice$", mode="commit_then_drop")
    with pytest.raises(httpx.RemoteProtocolError):
        qbo.api(conn, "POST", "invoice", json=body, params={"requestid": "retry-drop"})
    retried = qbo.api(conn, "POST", "invoice", json=body, params={"requestid": "retry-drop"})
    assert retried.status_code == 200
    assert retried.json()["Invoice"]["DocNumber"] == "D-1"
    assert qbo.tenant(conn.realm_id)["counts"]["Invoice"] == 1


def test_retry_without_requestid_after_a_committed_failure_hits_the_duplicate_rules(qbo: Qbo, conn: Connection) -> None:
    qbo.add_fault(method="POST", path=r"/customer$", mode="commit_then_500")
    assert qbo.api(conn, "POST", "customer", json={"DisplayName": "Acme"}).status_code == 500
    assert qbo.error(qbo.api(conn, "POST", "customer", json={"DisplayName": "Acme"}))["code"] == "6240"


def test_batch_requestid_replays_and_is_at_most_36_characters(qbo: Qbo, conn: Connection) -> None:
    items = {"BatchItemRequest": [{"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch"}}]}
    first = qbo.api(conn, "POST", "batch", json=items, params={"requestid": "b" * 36})
    again = qbo.api(conn, "POST", "batch", json=items, params={"requestid": "b" * 36})
    assert first.content == again.content
    assert customer_count(qbo, conn) == 1
    assert qbo.error(qbo.api(conn, "POST", "batch", json=items, params={"requestid": "b" * 37}))["code"] == "2050"


def test_requestid_memory_can_be_given_a_ttl(qbo: Qbo, conn: Connection) -> None:
    qbo.configure(requestid_ttl_seconds=600)
    qbo.api(conn, "POST", "customer", json={"DisplayName": "Acme"}, params={"requestid": "ttl"})
    qbo.advance(601)
    again = qbo.api(conn, "POST", "customer", json={"DisplayName": "Acme"}, params={"requestid": "ttl"})
    assert qbo.error(again)["code"] == "6240"  # executed again, not replayed


def test_500_requests_per_minute_then_429_until_the_window_passes(qbo: Qbo, conn: Connection) -> None:
    # Given the default limit of 500 requests per minute per realm
    path = f"companyinfo/{conn.realm_id}"
    statuses = [qbo.api(conn, "GET", path).status_code for _ in range(500)]
    assert set(statuses) == {200}
    # When the 501st arrives within the minute
    throttled = qbo.api(conn, "GET", path)
    # Then Intuit's throttle fault comes back
    error = qbo.error(throttled, 429)
    assert error["code"] == "3001"
    assert "ThrottleExceeded" in error["Message"]
    assert "003001" in error["Message"]
    assert error["type"] == "SERVICE"
    # And another realm is not affected, and the window moves with the sandbox clock
    other = qbo.connect(sandbox_realm_id="888")
    assert qbo.api(other, "GET", f"companyinfo/{other.realm_id}").status_code == 200
    qbo.advance(61)
    assert qbo.api(conn, "GET", path).status_code == 200
    assert qbo.tenant(conn.realm_id)["limits"]["throttled_rate"] == 1


def test_ten_concurrent_requests_per_realm_then_429(qbo: Qbo, conn: Connection) -> None:
    # Given ten requests held in flight by a timeout fault
    path = f"companyinfo/{conn.realm_id}"
    qbo.add_fault(method="GET", path="/companyinfo/", mode="timeout", seconds=1.0, count=10)
    results: list[int] = []

    def held() -> None:
        with httpx.Client(base_url=qbo.sandbox.url, timeout=10) as other:
            response = other.get(
                f"/quickbooks/v3/company/{conn.realm_id}/{path}",
                headers={"Authorization": f"Bearer {conn.access_token}", "Accept": "application/json"},
            )
            results.append(response.status_code)

    threads = [threading.Thread(target=held) for _ in range(10)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while qbo.tenant(conn.realm_id)["limits"]["inflight"] < 10:
        assert time.monotonic() < deadline, "requests did not get in flight"
        time.sleep(0.01)
    # When an eleventh request arrives
    eleventh = qbo.api(conn, "GET", path)
    # Then it is throttled
    assert qbo.error(eleventh, 429)["code"] == "3001"
    for thread in threads:
        thread.join()
    assert results == [504] * 10
    assert qbo.api(conn, "GET", path).status_code == 200


def test_limits_are_configurable(qbo: Qbo, conn: Connection) -> None:
    qbo.configure(rate_limit_per_minute=3)
    statuses = [qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    qbo.configure(rate_limit_per_minute=None)
    assert qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}").status_code == 200


def test_batch_calls_per_minute_are_limited(qbo: Qbo, conn: Connection) -> None:
    qbo.configure(batch_per_minute=2)
    items = {"BatchItemRequest": [{"bId": "q", "Query": "select * from Customer"}]}
    statuses = [qbo.api(conn, "POST", "batch", json=items).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_status_fault_with_retry_after_and_count_expiry(qbo: Qbo, conn: Connection) -> None:
    qbo.add_fault(method="GET", path="/companyinfo/", mode="status", status=503, retry_after=30, count=2)
    path = f"companyinfo/{conn.realm_id}"
    first, second, third = (qbo.api(conn, "GET", path) for _ in range(3))
    assert qbo.error(first, 503)["type"] == "SystemFault"
    assert first.headers["retry-after"] == "30"
    assert second.status_code == 503
    assert third.status_code == 200


def test_status_fault_401_and_429_use_intuit_shapes(qbo: Qbo, conn: Connection) -> None:
    qbo.add_fault(method="GET", path="/companyinfo/", mode="status", status=401)
    qbo.add_fault(method="GET", path="/companyinfo/", mode="status", status=429)
    path = f"companyinfo/{conn.realm_id}"
    assert qbo.error(qbo.api(conn, "GET", path), 401)["code"] == "3200"
    assert qbo.error(qbo.api(conn, "GET", path), 429)["code"] == "3001"


def test_token_endpoint_faults_use_the_oauth_shape(qbo: Qbo, conn: Connection) -> None:
    qbo.add_fault(method="POST", path="/tokens/bearer$", mode="status", status=503)
    response = qbo.refresh(conn.refresh_token)
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert qbo.refresh(conn.refresh_token).status_code == 200  # the refresh token was not consumed


def test_refresh_commit_then_drop_loses_the_new_token(qbo: Qbo, conn: Connection) -> None:
    # The classic rotation trap: the server rotated but the client never saw the answer.
    qbo.add_fault(method="POST", path="/tokens/bearer$", mode="commit_then_drop")
    with pytest.raises(httpx.RemoteProtocolError):
        qbo.refresh(conn.refresh_token)
    assert qbo.refresh(conn.refresh_token).json()["error"] == "invalid_grant"


def test_request_log_shows_throttled_and_faulted_requests(qbo: Qbo, conn: Connection) -> None:
    qbo.configure(rate_limit_per_minute=1)
    qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}")
    qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}")
    entries: list[dict[str, Any]] = [r for r in qbo.requests() if "/v3/" in r["path"]]
    assert [(e["status"], e["outcome"]) for e in entries] == [(200, "ok"), (429, "throttled_rate")]
    assert all(e["tenant"] == conn.realm_id for e in entries)
