"""The provider-agnostic framework, exercised through a throw-away provider over real HTTP."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse, Response

from local.sandbox.app import PROVIDERS, create_app
from local.sandbox.framework import ProviderRoute, ProviderSandbox, SandboxCore, SandboxRequest
from local.sandbox.limits import TenantLimits
from local.sandbox.server import SandboxServer

REPO_ROOT = Path(__file__).resolve().parents[2]


class NotesSandbox(ProviderSandbox):
    """A minimal provider: per-tenant notes, its own error envelope, tight limits."""

    name = "notes"

    def __init__(self, core: SandboxCore) -> None:
        super().__init__(core)
        self.reset()

    def reset(self) -> None:
        self.notes: dict[str, list[Any]] = {}
        self.per_minute: int | None = 5
        self.concurrency: int | None = 2

    def routes(self) -> list[ProviderRoute]:
        return [
            ProviderRoute("/t/{tenant}/notes", self.add, ("POST",), tenant_param="tenant"),
            ProviderRoute("/t/{tenant}/notes", self.list_notes, ("GET",), tenant_param="tenant"),
            ProviderRoute("/token", self.token, ("POST",)),
        ]

    def add(self, req: SandboxRequest) -> Response:
        self.notes.setdefault(req.tenant or "", []).append(req.json())
        return JSONResponse({"count": len(self.notes[req.tenant or ""])}, status_code=201)

    def list_notes(self, req: SandboxRequest) -> Response:
        return JSONResponse({"notes": self.notes.get(req.tenant or "", []), "now": self.clock.now().isoformat()})

    def token(self, req: SandboxRequest) -> Response:
        req.token_refresh = req.form().get("grant_type") == "refresh_token"
        req.tenant = "from-token"
        return JSONResponse({"ok": True})

    def fault_response(
        self, req: SandboxRequest, status: int, retry_after: int | None = None, message: str | None = None
    ) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return JSONResponse({"notes_error": {"status": status, "message": message}}, status, headers=headers)

    def throttle_response(self, req: SandboxRequest, reason: str) -> Response:
        return JSONResponse({"notes_error": {"status": 429, "message": reason}}, 429)

    def limits_for(self, tenant: str) -> TenantLimits:
        return TenantLimits(self.per_minute, self.concurrency)

    def tenants(self) -> list[str]:
        return sorted(self.notes)

    def tenant_dump(self, tenant: str) -> dict[str, Any] | None:
        return {"notes": self.notes[tenant]} if tenant in self.notes else None

    def get_config(self) -> dict[str, Any]:
        return {"per_minute": self.per_minute, "concurrency": self.concurrency}

    def configure(self, knobs: dict[str, Any]) -> dict[str, Any]:
        self.per_minute = knobs.get("per_minute", self.per_minute)
        self.concurrency = knobs.get("concurrency", self.concurrency)
        return self.get_config()


@pytest.fixture(scope="module")
def notes_server() -> Iterator[SandboxServer]:
    with SandboxServer(app=create_app(providers=[], extra=[NotesSandbox])) as server:
        yield server


@pytest.fixture
def client(notes_server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=notes_server.url, timeout=10) as c:
        c.post("/_sandbox/reset").raise_for_status()
        yield c


def add_fault(client: httpx.Client, **spec: Any) -> dict[str, Any]:
    response = client.post("/_sandbox/faults", json={"provider": "notes", **spec})
    assert response.status_code == 201, response.text
    return response.json()


def test_registry_is_one_line_per_provider_and_names_match() -> None:
    # Given the registry / When each factory is built / Then the URL prefix equals the provider's own name
    for name, factory in PROVIDERS.items():
        assert factory(SandboxCore()).name == name


def test_app_without_quickbooks_serves_only_its_providers(client: httpx.Client) -> None:
    assert client.get("/quickbooks/connect/oauth2").status_code == 404
    index = client.get("/_sandbox/").json()
    assert list(index["providers"]) == ["notes"]


def test_unknown_provider_is_404_on_the_control_plane(client: httpx.Client) -> None:
    assert client.post("/_sandbox/reset", params={"provider": "nope"}).status_code == 404
    assert client.get("/_sandbox/nope/tenants/1").status_code == 404
    assert client.post("/_sandbox/faults", json={"provider": "nope", "path": "x"}).status_code == 400


def test_status_fault_uses_provider_envelope_retry_after_and_expires_after_count(client: httpx.Client) -> None:
    # Given a status fault for two matching requests
    add_fault(client, method="POST", path=r"/notes$", mode="status", status=503, retry_after=7, count=2)
    # When three notes are posted
    answers = [client.post("/notes/t/a/notes", json={"n": i}) for i in range(3)]
    # Then the first two fail in the provider's envelope, the third succeeds, and the fault is gone
    assert [a.status_code for a in answers] == [503, 503, 201]
    assert answers[0].json() == {"notes_error": {"status": 503, "message": None}}
    assert answers[0].headers["retry-after"] == "7"
    assert answers[2].json() == {"count": 1}
    assert client.get("/_sandbox/faults").json()["faults"] == []


def test_fault_matches_method_and_path_only(client: httpx.Client) -> None:
    add_fault(client, method="GET", path=r"/t/b/", mode="status", status=500)
    assert client.post("/notes/t/b/notes", json={}).status_code == 201  # other method
    assert client.get("/notes/t/a/notes").status_code == 200  # other path
    assert client.get("/notes/t/b/notes").status_code == 500


def test_delete_faults_removes_them(client: httpx.Client) -> None:
    add_fault(client, path="notes", mode="status", status=500, count=None)
    assert client.delete("/_sandbox/faults", params={"provider": "notes"}).json() == {"removed": 1}
    assert client.get("/notes/t/a/notes").status_code == 200


def test_invalid_fault_specs_are_rejected(client: httpx.Client) -> None:
    for spec in ({"mode": "explode"}, {"path": "("}, {"count": 0}, {"status": 99}, {"seconds": -1}):
        response = client.post("/_sandbox/faults", json={"provider": "notes", "path": "x", **spec})
        assert response.status_code == 400, spec


def test_timeout_fault_holds_longer_than_the_client_waits_and_does_not_commit(client: httpx.Client) -> None:
    # Given a timeout fault holding for 0.6 s
    add_fault(client, method="POST", path="notes", mode="timeout", seconds=0.6)
    # When a client with a 0.2 s read timeout posts
    with pytest.raises(httpx.ReadTimeout):
        client.post("/notes/t/a/notes", json={"n": 1}, timeout=httpx.Timeout(5, read=0.2))
    time.sleep(0.6)
    # Then nothing was written
    assert client.get("/notes/t/a/notes").json()["notes"] == []


def test_timeout_fault_then_fails_with_provider_error(client: httpx.Client) -> None:
    add_fault(client, method="POST", path="notes", mode="timeout", seconds=0.05)
    response = client.post("/notes/t/a/notes", json={"n": 1})
    assert response.status_code == 504
    assert response.json()["notes_error"]["status"] == 504


def test_commit_then_500_writes_and_answers_500(client: httpx.Client) -> None:
    add_fault(client, method="POST", path="notes", mode="commit_then_500")
    response = client.post("/notes/t/a/notes", json={"n": 1})
    assert response.status_code == 500
    assert client.get("/notes/t/a/notes").json()["notes"] == [{"n": 1}]


def test_commit_then_drop_writes_and_closes_the_connection_without_a_response(client: httpx.Client) -> None:
    add_fault(client, method="POST", path="notes", mode="commit_then_drop")
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/notes/t/a/notes", json={"n": 1})
    assert client.get("/notes/t/a/notes").json()["notes"] == [{"n": 1}]
    entry = client.get("/_sandbox/requests", params={"provider": "notes"}).json()["requests"][-2]
    assert entry["status"] is None
    assert entry["outcome"] == "committed_then_dropped"


def test_clock_moves_forward_only_and_is_seen_by_providers(client: httpx.Client) -> None:
    before = client.get("/_sandbox/clock").json()["timestamp"]
    after = client.post("/_sandbox/clock", json={"advance": 86_400}).json()["timestamp"]
    assert after - before >= 86_400
    assert client.post("/_sandbox/clock", json={"advance": -1}).status_code == 400
    seen = client.get("/notes/t/a/notes").json()["now"]
    assert seen.startswith(client.get("/_sandbox/clock").json()["now"][:10])


def test_full_reset_rewinds_the_clock(client: httpx.Client) -> None:
    client.post("/_sandbox/clock", json={"advance": 1000})
    client.post("/_sandbox/reset")
    assert client.get("/_sandbox/clock").json()["offset"] == 0


def test_rate_limit_counts_per_tenant_in_a_window_on_the_sandbox_clock(client: httpx.Client) -> None:
    # Given 5 requests per minute per tenant
    statuses = [client.get("/notes/t/a/notes").status_code for _ in range(6)]
    # Then the sixth is throttled with the provider's answer, other tenants are not affected
    assert statuses == [200] * 5 + [429]
    assert client.get("/notes/t/b/notes").status_code == 200
    # When the sandbox clock moves past the window
    client.post("/_sandbox/clock", json={"advance": 61})
    assert client.get("/notes/t/a/notes").status_code == 200


def test_concurrency_limit_counts_in_flight_requests(client: httpx.Client, notes_server: SandboxServer) -> None:
    # Given two requests held in flight by a timeout fault (limit is 2 per tenant)
    add_fault(client, method="GET", path="notes", mode="timeout", seconds=0.8, count=2)
    results: list[int] = []

    def held() -> None:
        with httpx.Client(base_url=notes_server.url, timeout=5) as other:
            results.append(other.get("/notes/t/a/notes").status_code)

    threads = [threading.Thread(target=held) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 3
    while notes_server.core.limiter.snapshot("notes", "a", 0)["inflight"] < 2:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # When a third request arrives / Then it is refused, another tenant is not
    assert client.get("/notes/t/a/notes").status_code == 429
    assert client.get("/notes/t/b/notes").status_code == 200
    for thread in threads:
        thread.join()
    assert results == [504, 504]
    assert client.get("/notes/t/a/notes").status_code == 200


def test_request_log_records_fields_and_filters_by_since(client: httpx.Client) -> None:
    first = client.get("/notes/t/a/notes")
    assert first.status_code == 200
    last = client.get("/_sandbox/requests", params={"provider": "notes"}).json()["last_seq"]
    client.post("/notes/token", data={"grant_type": "refresh_token"})
    client.post("/notes/t/a/notes?x=1", json={"n": 1})
    entries = client.get("/_sandbox/requests", params={"provider": "notes", "since": last}).json()["requests"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", "/notes/token", 200),
        ("POST", "/notes/t/a/notes", 201),
    ]
    assert entries[0]["token_refresh"] is True
    assert entries[0]["tenant"] == "from-token"
    assert entries[1]["token_refresh"] is False
    assert entries[1]["tenant"] == "a"
    assert entries[1]["query"] == "x=1"
    assert "time" in entries[1]


def test_reset_one_provider_clears_state_faults_and_log(client: httpx.Client) -> None:
    client.post("/notes/t/a/notes", json={"n": 1})
    add_fault(client, path="never", mode="status")
    client.post("/_sandbox/reset", params={"provider": "notes"})
    assert client.get("/notes/t/a/notes").json()["notes"] == []
    assert client.get("/_sandbox/faults").json()["faults"] == []
    assert len(client.get("/_sandbox/requests", params={"provider": "notes"}).json()["requests"]) == 1


def test_tenant_dump_and_config_round_trip(client: httpx.Client) -> None:
    client.post("/notes/t/a/notes", json={"n": 1})
    dump = client.get("/_sandbox/notes/tenants/a").json()
    assert dump["notes"] == [{"n": 1}]
    assert dump["limits"]["requests_last_minute"] == 1
    assert client.post("/_sandbox/notes/config", json={"per_minute": 100}).json()["per_minute"] == 100
    assert client.get("/_sandbox/notes/tenants").json() == {"tenants": ["a"]}


def test_in_process_asgi_client_sees_a_dropped_connection_as_an_error() -> None:
    app = create_app(providers=[], extra=[NotesSandbox])

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as c:
            spec = {"provider": "notes", "path": "notes", "mode": "commit_then_drop"}
            assert (await c.post("/_sandbox/faults", json=spec)).status_code == 201
            with pytest.raises(ConnectionResetError):
                await c.post("/notes/t/a/notes", json={"n": 1})
            assert (await c.get("/notes/t/a/notes")).json()["notes"] == [{"n": 1}]

    asyncio.run(scenario())


def test_module_entry_point_serves_the_control_plane() -> None:
    # Given a free port picked by the OS (no fixed port)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "local.sandbox", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/_sandbox/", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert "quickbooks" in response.json()["providers"]
    finally:
        process.terminate()
        process.wait(timeout=10)
