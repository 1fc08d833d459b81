"""ONE ``ProviderWorld`` for the four providers: moto server over HTTP + the provider sandboxes + the real handlers.

Per provider it connects through the real OAuth flow (the existing ``connect_*`` helpers), seeds a customer, an item
and the account mapping, dumps the sandbox tenant, injects faults (HTTP faults and commit-then-fail on each create),
expires tokens by moving the sandbox clock, and lists every secret the sandbox issued (for the log scan). Everything
provider-specific lives in ``SPECS``; the scenarios never branch on a provider's name.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from local.sandbox.server import SandboxServer
from tests.helpers import LambdaContext, http_event, invoke
from tests.integration import freshbooks_helpers, qbo_helpers, wave_helpers, xero_helpers
from tests.integration.conftest import load_function
from tests.moto_server import moto_server

PROVIDERS = ("quickbooks", "xero", "freshbooks", "wave")
KINDS = ("customer", "item", "invoice", "payment")


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    connect: Callable[[str], str]  # company -> tenant id, through the real consent flow
    map_account: Callable[[str], str]  # company -> mapped income account
    counts: dict[str, str]  # our kind -> the sandbox dump's counts key
    api_path: str  # regex of the provider's data API (HTTP faults)
    access_ttl: int  # the sandbox's access-token life (seconds)
    create_faults: dict[str, dict[str, Any]]  # our kind -> a fault rule on its create (path faults)
    operation_faults: dict[str, str] = field(default_factory=dict)  # our kind -> GraphQL root field (Wave)


SPECS: dict[str, ProviderSpec] = {
    "quickbooks": ProviderSpec(
        name="quickbooks",
        connect=qbo_helpers.connect_quickbooks,
        map_account=qbo_helpers.map_default_income_account,
        counts={"customer": "Customer", "item": "Item", "invoice": "Invoice", "payment": "Payment"},
        api_path="/v3/company/",
        access_ttl=3600,
        create_faults={  # payments go in a batch when the engine batches them
            k: {"method": "POST", "path": f"/v3/company/[0-9]+/{p}$"}
            for k, p in (
                ("customer", "customer"),
                ("item", "item"),
                ("invoice", "invoice"),
                ("payment", "(payment|batch)"),
            )
        },
    ),
    "xero": ProviderSpec(
        name="xero",
        connect=lambda company: xero_helpers.connect_xero(company),
        map_account=lambda company: xero_helpers.map_default_income_account(company),
        counts={"customer": "Contacts", "item": "Items", "invoice": "Invoices", "payment": "Payments"},
        api_path="/api.xro/2.0/",
        access_ttl=1800,
        create_faults={
            k: {"method": "PUT", "path": f"/api.xro/2.0/{v}$"}
            for k, v in (("customer", "Contacts"), ("item", "Items"), ("invoice", "Invoices"), ("payment", "Payments"))
        },
    ),
    "freshbooks": ProviderSpec(
        name="freshbooks",
        connect=freshbooks_helpers.connect_freshbooks,
        map_account=lambda company: freshbooks_helpers.map_default_income_account("freshbooks", company),
        counts={"customer": "client", "item": "item", "invoice": "invoice", "payment": "payment"},
        api_path="/accounting/",
        access_ttl=43_200,
        create_faults={
            k: {"method": "POST", "path": v}
            for k, v in (
                ("customer", "/users/clients$"),
                ("item", "/items/items$"),
                ("invoice", "/invoices/invoices$"),
                ("payment", "/payments/payments$"),
            )
        },
    ),
    "wave": ProviderSpec(
        name="wave",
        connect=wave_helpers.connect_wave,
        map_account=lambda company: freshbooks_helpers.map_default_income_account("wave", company),
        counts={"customer": "customers", "item": "products", "invoice": "invoices", "payment": "payments"},
        api_path="/graphql/public",
        access_ttl=7200,
        create_faults={},
        operation_faults={
            "customer": "customerCreate",
            "item": "productCreate",
            "invoice": "invoiceCreate",
            "payment": "invoicePaymentCreateManual",
        },
    ),
}


class ProviderWorld:
    """One provider's world: ``aws`` (moto server), ``sandbox`` (all provider sandboxes), the process env set."""

    def __init__(self, spec: ProviderSpec, aws: dict[str, Any], sandbox: SandboxServer) -> None:
        self.spec = spec
        self.name = spec.name
        self.aws = aws
        self.sandbox = sandbox
        self.url = sandbox.url
        self.tenants: dict[str, str] = {}  # company -> provider tenant
        self.seeded: dict[str, dict[str, str]] = {}  # company -> {"customer": id, "item": id}
        self.baseline: dict[str, dict[str, int]] = {}  # company -> normalized counts right after connecting
        self.sleeps: list[float] = []  # the engine's waits (Retry-After honoured), recorded instead of slept
        self._numbers = 0
        self._lock = threading.Lock()

    # ---- set-up ---------------------------------------------------------------------------------------------------
    def connect(self, company: str = "co_a") -> str:
        tenant = self.spec.connect(company)
        self.tenants[company] = tenant
        return tenant

    def seed(self, company: str = "co_a") -> dict[str, str]:
        """Connect (real consent), map the income account, create one customer and one item in BlueClerk."""
        if company not in self.tenants:
            self.connect(company)
        self.spec.map_account(company)
        api = load_function("api").lambda_handler
        cust = invoke(api, http_event("api/create_customer.json", company=company))
        assert cust.status == 201, cust.body
        item = invoke(api, http_event("api/create_item.json", company=company))
        assert item.status == 201, item.body
        self.seeded[company] = {"customer": cust.body["id"], "item": item.body["id"]}
        self.drain_all()  # new customers and items are queued for their own push
        self.baseline[company] = self.raw_counts(company)
        return self.seeded[company]

    def fast_engine(self, backoff_cap: float = 1.0) -> Any:
        """The process's engine with waits recorded, not slept (Retry-After still decides whether to retry now)."""
        from booksync import wiring

        engine = wiring.sync_engine()
        engine.backoff_cap = backoff_cap

        def sleep(seconds: float) -> None:
            with self._lock:
                self.sleeps.append(seconds)
            time.sleep(min(seconds, 0.01))

        engine.sleep = sleep
        return engine

    # ---- BlueClerk objects ---------------------------------------------------------------------------------------
    def next_number(self, prefix: str = "R") -> str:
        with self._lock:
            self._numbers += 1
            return f"{prefix}-{self._numbers:05d}"

    def new_invoice(self, company: str = "co_a", *, send: bool = True, number: str | None = None) -> dict[str, Any]:
        api = load_function("api").lambda_handler
        seeded = self.seeded[company]
        body = {
            "number": number or self.next_number(),
            "customerId": seeded["customer"],
            "issueDate": "2026-11-24",
            "dueDate": "2026-12-24",
            "lines": [{"itemId": seeded["item"], "quantity": "2", "unitPrice": "175.00"}],
        }
        made = invoke(api, http_event("api/create_invoice.json", body=body, company=company))
        assert made.status == 201, made.body
        if send:
            sent = invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{made.body['id']}/send",
                                          company=company))  # fmt: skip
            assert sent.status == 200, sent.body
        return dict(made.body)

    def fresh_invoice(self, company: str = "co_a") -> dict[str, Any]:
        """A sent invoice of a new customer for a new item (so their creates happen in the next push)."""
        api = load_function("api").lambda_handler
        n = self.next_number("F")
        cust = invoke(api, http_event("api/create_customer.json", body={"name": f"Customer {n}"}, company=company))
        assert cust.status == 201, cust.body
        item = invoke(api, http_event("api/create_item.json", body={"name": f"Service {n}", "price": "175.00"},
                                      company=company))  # fmt: skip
        assert item.status == 201, item.body
        saved = self.seeded[company]
        self.seeded[company] = {"customer": cust.body["id"], "item": item.body["id"]}
        try:
            return self.new_invoice(company, number=n)
        finally:
            self.seeded[company] = saved

    def pay(self, invoice_id: str, amount: str, company: str = "co_a", method: str = "card") -> dict[str, Any]:
        return freshbooks_helpers.pay(load_function("api").lambda_handler, invoice_id, amount, method, company)

    def invoice(self, invoice_id: str, company: str = "co_a") -> dict[str, Any]:
        api = load_function("api").lambda_handler
        r = invoke(api, http_event("api/get_invoice.json", path=f"/invoices/{invoice_id}", company=company))
        assert r.status == 200, r.body
        return dict(r.body)

    def resync(self, invoice_id: str, company: str = "co_a") -> Any:
        return freshbooks_helpers.resync(invoice_id, company)

    def notifications(self, company: str = "co_a") -> dict[str, Any]:
        """Every notification of the company (all pages) and the unread count."""
        api = load_function("api").lambda_handler
        data: list[dict[str, Any]] = []
        query = {"limit": "100"}
        while True:
            r = invoke(api, http_event("api/list_notifications.json", company=company, query=query))
            assert r.status == 200, r.body
            data += r.body["data"]
            if not r.body.get("nextCursor"):
                return {**r.body, "data": data}
            query = {"limit": "100", "cursor": r.body["nextCursor"]}

    # ---- the provider's books -------------------------------------------------------------------------------------
    def dump(self, company: str = "co_a") -> dict[str, Any]:
        r = httpx.get(f"{self.url}/_sandbox/{self.name}/tenants/{self.tenants[company]}")
        r.raise_for_status()
        return dict(r.json())

    def raw_counts(self, company: str = "co_a") -> dict[str, int]:
        counts = self.dump(company)["counts"]
        return {kind: int(counts.get(key, 0)) for kind, key in self.spec.counts.items()}

    def counts(self, company: str = "co_a") -> dict[str, int]:
        """Objects created in the provider's books since ``seed`` (the sandbox may hold seed data of its own)."""
        raw, base = self.raw_counts(company), self.baseline.get(company, {})
        return {kind: raw[kind] - base.get(kind, 0) for kind in raw}

    def token_stats(self, company: str = "co_a") -> dict[str, int]:
        return dict(self.dump(company)["tokens"])

    def requests(self) -> list[dict[str, Any]]:
        r = httpx.get(f"{self.url}/_sandbox/requests", params={"provider": self.name})
        r.raise_for_status()
        return list(r.json()["requests"])

    # ---- faults ---------------------------------------------------------------------------------------------------
    def fault(self, **spec: Any) -> None:
        httpx.post(f"{self.url}/_sandbox/faults", json={"provider": self.name, **spec}).raise_for_status()

    def clear_faults(self) -> None:
        httpx.request("DELETE", f"{self.url}/_sandbox/faults", params={"provider": self.name}).raise_for_status()
        if self.spec.operation_faults:
            wave_helpers.configure(self.url, operation_faults=[])

    def api_fault(self, mode: str, **spec: Any) -> None:
        """Fail the next call to the provider's data API (5xx, timeout, 429 ...)."""
        self.fault(path=self.spec.api_path, mode=mode, **spec)

    def create_fault(self, kind: str, mode: str) -> None:
        """The next create of ``kind`` is stored by the provider, then its answer fails (500) or never comes."""
        if kind in self.spec.operation_faults:
            wave_helpers.operation_fault(self.url, self.spec.operation_faults[kind], mode)
        else:
            self.fault(mode=mode, count=1, **self.spec.create_faults[kind])

    def pending_faults(self) -> int:
        faults = httpx.get(f"{self.url}/_sandbox/faults", params={"provider": self.name}).json()["faults"]
        pending = len(faults)
        if self.spec.operation_faults:
            pending += len(wave_helpers.configure(self.url)["operation_faults"])
        return pending

    # ---- time and tokens -----------------------------------------------------------------------------------------
    def advance_clock(self, seconds: float) -> None:
        freshbooks_helpers.advance_clock(self.url, seconds)

    def expire_tokens(self, company: str = "co_a") -> None:
        """The access token's life passes: the sandbox clock moves past it, and our stored expiry is in the past
        (our clock is the real one; the stored expiry is what a Lambda compares with it)."""
        from booksync import wiring
        from booksync.adapters.dynamodb import ConnectionRecord, TokenRepository, company_pk
        from booksync.providers.base import TokenSet

        self.advance_clock(self.spec.access_ttl + 60)
        repo, cipher = TokenRepository(), wiring.token_cipher()
        stored = repo.read(company, self.name)
        assert stored is not None and stored.ciphertext
        current = cipher.decrypt(company, self.name, stored.ciphertext)
        expired = TokenSet(current.access_token, current.refresh_token, time.time() - 1, current.refresh_expires_at,
                           current.extra)  # fmt: skip
        rec = ConnectionRecord.get(company_pk(company), f"CONNECTION#{self.name}", consistent_read=True)
        repo.connect(
            company,
            self.name,
            tenant_id=rec.tenant_id or "",
            tenant_name=rec.tenant_name or "",
            ciphertext=cipher.encrypt(company, self.name, expired),
            access_expires_at=expired.access_expires_at,
        )

    def issued_secrets(self) -> set[str]:
        """Every authorization code, access token, refresh token and client secret any sandbox issued or holds."""
        return issued_secrets(self.sandbox)

    # ---- queues ---------------------------------------------------------------------------------------------------
    def deliver(self, queue: str, function: str, *, fail_fast: bool = True, batch: int = 10) -> tuple[int, int]:
        """One SQS delivery of up to 10 messages of a queue to its consumer. A failed message is made visible again
        at once when ``fail_fast`` (as its visibility timeout expiring would). Returns (delivered, failed)."""
        sqs, url = self.aws["sqs"], self.aws["queues"][queue]
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=batch, AttributeNames=["All"], WaitTimeSeconds=0)
        msgs = msgs.get("Messages", [])
        if not msgs:
            return 0, 0
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        event = {"Records": [sqs_record(m, arn) for m in msgs]}
        resp = load_function(function).lambda_handler(event, LambdaContext())
        failed = {f["itemIdentifier"] for f in resp.get("batchItemFailures", [])}
        for m in msgs:
            if m["MessageId"] in failed:
                if fail_fast:
                    sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return len(msgs), len(failed)

    def drain_all(self, max_deliveries: int = 400) -> dict[str, int]:
        """Deliver both work queues until empty (failed messages retried at once, dead-lettered after 5 receives),
        then the DLQs to the notifier. Returns delivery counts."""
        out = {"deliveries": 0, "failed": 0, "dead_lettered": 0}
        for _ in range(max_deliveries):
            moved = 0
            for queue, function in (("invoice-sync", "sync_invoice"), ("payment-sync", "sync_payments")):
                n, f = self.deliver(queue, function)
                moved += n
                out["deliveries"] += n
                out["failed"] += f
            if not moved:
                break
        for dlq in ("invoice-sync-dlq", "payment-sync-dlq"):
            while True:
                n, _ = self.deliver(dlq, "notify_failures")
                if not n:
                    break
                out["dead_lettered"] += n
        return out


def sqs_record(m: dict[str, Any], arn: str) -> dict[str, Any]:
    return {
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m["Attributes"],
        "messageAttributes": {},
        "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": "us-east-1",
    }


def issued_secrets(sandbox: Any) -> set[str]:
    """Read from the in-process sandbox core: codes, access and refresh tokens, client secrets (every provider)."""
    core = sandbox.core if hasattr(sandbox, "core") else sandbox
    found: set[str] = set()
    for provider in core.providers.values():
        oauth = getattr(provider, "oauth", None)
        if oauth is None:
            continue
        with core.lock:
            found.update(oauth._codes)
            found.update(oauth._access)
            found.update(oauth._refresh)
            found.update(app.client_secret for app in oauth.apps.values())
    return {s for s in found if s and len(s) >= 8}


def _sandbox_clock_pacer(sandbox: SandboxServer) -> Callable[[], Any]:
    """Our client-side rate pacing on the sandbox's clock: its waits move that clock instead of sleeping (the
    sandbox's own limits count on the same clock, so they agree), which keeps a 500-sync soak within minutes."""
    from booksync.adapters.dynamodb import RateBudgetRepository
    from booksync.ratelimit import Pacer

    clock = sandbox.core.clock

    def wait(seconds: float) -> None:
        clock.advance(seconds)

    pacer = Pacer(store=RateBudgetRepository(), clock=clock.timestamp, sleep=wait)
    return lambda: pacer


@contextmanager
def provider_world(name: str, *, provider_timeout: float = 5.0) -> Iterator[ProviderWorld]:
    """moto server + the sandboxes, the process environment pointed at ``name``'s sandbox; restored on exit."""
    from booksync import wiring
    from booksync.config import get_settings
    from booksync.providers import http

    with moto_server() as aws, SandboxServer() as sandbox:
        env = {**sandbox.env(name), "PROVIDER_TIMEOUT_SECONDS": str(provider_timeout)}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        get_settings.cache_clear()
        http.client.cache_clear()
        wiring.reset()
        saved_pacer = getattr(wiring, "rate_pacer", None)
        if saved_pacer is not None:
            wiring.rate_pacer = _sandbox_clock_pacer(sandbox)  # type: ignore[assignment,attr-defined]
        try:
            yield ProviderWorld(SPECS[name], aws, sandbox)
        finally:
            if saved_pacer is not None:
                wiring.rate_pacer = saved_pacer  # type: ignore[assignment,attr-defined]
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            get_settings.cache_clear()
            http.client.cache_clear()
            wiring.reset()
