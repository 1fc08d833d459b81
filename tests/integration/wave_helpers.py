"""Shared set-up for tests that talk to the Wave sandbox (GraphQL) over HTTP, with moto server for AWS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from local.sandbox.server import SandboxServer
from tests.helpers import http_event, invoke, pace_on_sandbox_clock
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
        pace_on_sandbox_clock(sandbox)
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


# ---- imports from Wave (tests/integration/test_import_wave.py, test_import_soak_wave.py) ----------------------------
MUTATION_KEYS = {
    "customerCreate": "customer",
    "customerPatch": "customer",
    "productCreate": "product",
    "productPatch": "product",
    "invoiceCreate": "invoice",
    "invoicePatch": "invoice",
    "invoiceApprove": "invoice",
    "invoicePaymentCreateManual": "invoicePayment",
}


def wave_sandbox(world: dict[str, Any]) -> Any:
    return world["sandbox"].core.providers[PROVIDER]


def wave_mutate(world: dict[str, Any], business: str, mutation: str, inputs: list[dict[str, Any]]) -> list[str]:
    """Run a mutation resolver of the sandbox in-process (its own validation), under the sandbox lock, once per input;
    answers the ids. Bulk seeding through HTTP would only test the sandbox's rate limit."""
    from local.sandbox.wave import Context, Root

    sandbox = wave_sandbox(world)
    ids = []
    with world["sandbox"].core.lock:
        user = next(u for u in sandbox.users.values() if business in u.businesses)
        root = Root(sandbox, Context(user, [business], {"customer:*", "product:*", "invoice:*", "account:*"}))
        for data in inputs:
            result = getattr(root, mutation)(None, data)
            assert result["didSucceed"], (mutation, result["inputErrors"])
            ids.append(str(result[MUTATION_KEYS[mutation]]["id"]))
    return ids


def wave_account(world: dict[str, Any], business: str, name: str) -> str:
    with world["sandbox"].core.lock:
        accounts = wave_sandbox(world).businesses[business].accounts
        return str(next(a["id"] for a in accounts.values() if a["name"] == name))


def seed_wave_books(
    world: dict[str, Any], business: str, customers: int, products: int, invoices: int, payments: int, prefix: str = ""
) -> dict[str, list[str]]:
    """Customers, products (sold: income account Sales), approved invoices (one line, 2 x 10.00) on them, and a
    5.00 payment on each of the first ``payments`` invoices. Answers the Wave ids per kind."""
    import datetime as dt

    sales, cash = wave_account(world, business, "Sales"), wave_account(world, business, "Cash on Hand")
    made: dict[str, list[str]] = {}
    made["customer"] = wave_mutate(
        world,
        business,
        "customerCreate",
        [
            {
                "businessId": business,
                "name": f"{prefix}Customer {i:05d}",
                "firstName": "Pat",
                "lastName": f"Doe{i}",
                "address": {"addressLine1": f"{i} Oak Lane", "city": "Springfield"},
            }
            for i in range(customers)
        ],
    )
    made["item"] = wave_mutate(
        world,
        business,
        "productCreate",
        [
            {"businessId": business, "name": f"{prefix}Service {i:05d}", "unitPrice": f"{10 + i % 7}.00"}
            | {"incomeAccountId": sales}
            for i in range(products)
        ],
    )
    made["invoice"] = wave_mutate(
        world,
        business,
        "invoiceCreate",
        [
            {
                "businessId": business,
                "customerId": made["customer"][i % customers],
                "invoiceNumber": f"{prefix}W{i:05d}",
                "status": "SAVED",
                "invoiceDate": dt.date(2025, 3, 1),
                "dueDate": dt.date(2025, 3, 31),
                "items": [{"productId": made["item"][i % products], "quantity": "2", "unitPrice": "10.00"}],
            }
            for i in range(invoices)
        ],
    )
    made["payment"] = wave_mutate(
        world,
        business,
        "invoicePaymentCreateManual",
        [
            {
                "invoiceId": made["invoice"][i],
                "paymentAccountId": cash,
                "amount": "5.00",
                "paymentDate": dt.date(2025, 3, 5),
                "paymentMethod": "CHEQUE",
                "exchangeRate": "1",
                "memo": f"CHK-{i}",
            }
            for i in range(payments)
        ],
    )
    return made


def wave_last_seq(world: dict[str, Any]) -> int:
    return int(httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": PROVIDER}).json()["last_seq"])


def wave_api_calls(world: dict[str, Any], since: int) -> list[dict[str, Any]]:
    """GraphQL requests Wave received since ``since`` (from the sandbox's request log; OAuth calls excluded)."""
    rows = httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": PROVIDER, "since": since}).json()
    return [r for r in rows["requests"] if r["path"].endswith("/graphql/public")]


def wave_operations(world: dict[str, Any], since: int) -> list[str]:
    """What those requests asked, as "<operation> <page>" (Wave is one URL: the sandbox records each operation)."""
    with world["sandbox"].core.lock:
        ops = [o for o in wave_sandbox(world).operations if o["seq"] > since]
    return [f"{o['operation']} {o['variables'].get('page', '')}".strip() for o in ops]
