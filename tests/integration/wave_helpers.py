"""Shared set-up for tests that talk to the Wave sandbox (GraphQL) over HTTP, with moto server for AWS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from local.sandbox.server import SandboxServer
from tests.helpers import http_event, invoke
from tests.integration.conftest import load_function
from tests.integration.freshbooks_helpers import (
    advance_clock,
    connect,
    drain_to_dead_letter,
    map_default_income_account,
    notifications,
    pay,
    resync,
    send,
)
from tests.integration.qbo_helpers import drain
from tests.moto_server import moto_server

PROVIDER = "wave"
__all__ = [
    "PROVIDER",
    "advance_clock",
    "drain",
    "drain_to_dead_letter",
    "map_default_income_account",
    "notifications",
    "pay",
    "resync",
    "send",
]


@contextmanager
def wave_world() -> Iterator[dict[str, Any]]:
    """moto server + the provider sandbox, with the process environment pointed at both."""
    from booksync import wiring

    with moto_server() as aws, SandboxServer() as sandbox:
        env = sandbox.env(PROVIDER)
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        wiring.reset()
        try:
            yield {"aws": aws, "sandbox": sandbox, "url": sandbox.url}
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            wiring.reset()


def connect_wave(company: str) -> str:
    """Connect through the consent flow; answers the Wave business id the connection is bound to."""
    connect(PROVIDER, company)
    listed = invoke(load_function("api").lambda_handler, http_event("api/list_integrations.json", company=company))
    row = next(p for p in listed.body["data"] if p["provider"] == PROVIDER)
    assert row["status"] == "connected", row
    return str(row["tenantId"])


def tenant(sandbox_url: str, business_id: str) -> dict[str, Any]:
    r = httpx.get(f"{sandbox_url}/_sandbox/{PROVIDER}/tenants/{business_id}")
    r.raise_for_status()
    return dict(r.json())


def configure(sandbox_url: str, **knobs: Any) -> dict[str, Any]:
    r = httpx.post(f"{sandbox_url}/_sandbox/{PROVIDER}/config", json=knobs)
    r.raise_for_status()
    return dict(r.json())


def operation_fault(sandbox_url: str, field: str, mode: str, count: int | None = 1, status: int = 500) -> None:
    """Fail the next ``count`` operations whose root field is ``field`` (Wave is one URL: path faults can't)."""
    configure(sandbox_url, operation_faults=[{"field": field, "mode": mode, "count": count, "status": status}])


def graphql(sandbox_url: str, token: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    r = httpx.post(
        f"{sandbox_url}/{PROVIDER}/graphql/public",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return dict(r.json())
