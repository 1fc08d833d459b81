"""`make bench`: cost measured in the same run, printed as one table of ratios and written to docs/PERFORMANCE.md.

Cost is counted where the physical limit is: provider calls and round trips (the providers' quotas), DynamoDB
requests, and Lambda cold init (a fresh interpreter importing the handler) against `import boto3` alone.

Sections (env ``BENCH_SECTIONS``, comma-separated, default all): ``cold``, ``resync``, ``backfill``, ``import``.
Sizes: ``BENCH_COLD_RUNS`` (rounds, default 15), ``BENCH_BACKFILL_SCALE`` (1.0 = 300 customers + 50 items + 2,000
invoices + 2,000 payments; ``BENCH_BACKFILL_SCALE_<PROVIDER>`` for one provider), ``BENCH_IMPORT_N`` (records per
type, default 10,000), ``BENCH_PROVIDERS`` (default all four; backfill and import sections). Output: ``BENCH_OUT``
(default docs/PERFORMANCE.md). Each section prints its wall time to stderr.
"""

from __future__ import annotations

import importlib
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = [
    "api",
    "sync_invoice",
    "sync_payments",
    "oauth_callback",
    "weekly_sync",
    "import_changes",
    "notify_failures",
]
SECTIONS = ("cold", "resync", "backfill", "import")
PROVIDERS = ("quickbooks", "xero", "freshbooks", "wave")
LABEL = {"quickbooks": "QuickBooks", "xero": "Xero", "freshbooks": "FreshBooks", "wave": "Wave"}
BACKFILL = {"customers": 300, "items": 50, "invoices": 2000}  # + one payment per invoice (2,000)
Row = tuple[str, str, str, str, str]  # (what, measured, reference, ratio, target)


# ---- settings ------------------------------------------------------------------------------------------------------
def _env_list(name: str, allowed: tuple[str, ...]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return list(allowed)
    chosen = [x.strip() for x in raw.split(",") if x.strip()]
    unknown = [x for x in chosen if x not in allowed]
    if unknown:
        raise SystemExit(f"{name}: unknown {unknown}; choose from {', '.join(allowed)}")
    return [x for x in allowed if x in chosen]  # table order, not the order given


def _settings() -> dict[str, Any]:
    scale = float(os.environ.get("BENCH_BACKFILL_SCALE", "1"))
    if scale <= 0:
        raise SystemExit("BENCH_BACKFILL_SCALE must be > 0")
    # a provider's own scale (BENCH_BACKFILL_SCALE_FRESHBOOKS=0.25): its calls per object do not depend on size, the
    # stand-in's wall time does (moto's Query walks the whole company partition, so a one-object-per-call backfill
    # grows with the square of its size there; real DynamoDB reads only the matching range)
    per_provider = {p: float(os.environ.get(f"BENCH_BACKFILL_SCALE_{p.upper()}", scale)) for p in PROVIDERS}
    return {
        "sections": _env_list("BENCH_SECTIONS", SECTIONS),
        "providers": _env_list("BENCH_PROVIDERS", PROVIDERS),
        "backfill_by_provider": {
            p: {k: max(1, round(v * f)) for k, v in BACKFILL.items()} for p, f in per_provider.items()
        },
        "backfill_scale_by_provider": per_provider,
        "cold_runs": max(1, int(os.environ.get("BENCH_COLD_RUNS", "15"))),
        "backfill": {k: max(1, round(v * scale)) for k, v in BACKFILL.items()},
        "backfill_scale": scale,
        "import_n": max(1, int(os.environ.get("BENCH_IMPORT_N", "10000"))),
        "out": Path(os.environ.get("BENCH_OUT") or ROOT / "docs" / "PERFORMANCE.md"),
    }


# ---- cold init -----------------------------------------------------------------------------------------------------
_PROBE = """\
import sys, time
BLOCKED = frozenset({blocked!r})


class _NotDeployed:
    \"\"\"Packages of the dev environment that the deployed function does not have raise ImportError, as there.\"\"\"

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, _NotDeployed)
{setup}
before = len(sys.modules)
t = time.perf_counter()
{statement}
elapsed = time.perf_counter() - t
print(elapsed, len(sys.modules) - before)
"""


def _probe_env() -> dict[str, str]:
    env = dict(
        os.environ,
        PYTHONPATH=f"{ROOT}:{ROOT / 'layers/common'}",
        TABLE_NAME="bench",
        AWS_DEFAULT_REGION="us-east-1",
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # any non-empty value (even "0") turns .pyc caching off
    return env


def not_deployed(extra: tuple[str, ...] = ()) -> list[str]:
    """Top-level modules of installed distributions outside the deployed closure: the layer's requirements
    (layers/common/requirements.txt, boto3 included) and ``extra``, with their dependencies. The dev venv holds
    more (pytest, moto, schemathesis ...) and some libraries import optional extras when present: httpx imports its
    CLI (click, rich, pygments) at ``import httpx`` when they are installed, ~80 modules the Lambda never loads."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lines = (ROOT / "layers" / "common" / "requirements.txt").read_text().splitlines()
    stack = [Requirement(x.split("#")[0].strip()).name for x in lines if x.split("#")[0].strip()] + list(extra)
    closure: set[str] = set()
    while stack:
        name = canonicalize_name(stack.pop())
        if name in closure:
            continue
        closure.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        for raw in requires:
            req = Requirement(raw)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                stack.append(req.name)
    return sorted(
        module
        for module, dists in metadata.packages_distributions().items()
        if not module.startswith("_") and not any(canonicalize_name(d) in closure for d in dists)
    )


def _sample(statement: str, setup: str = "", blocked: list[str] | None = None) -> tuple[float, int]:
    """One fresh interpreter: run ``setup`` untimed, then time ``statement``; answers (seconds, modules it loaded).
    Modules in ``blocked`` cannot be imported (they are not in the deployed function)."""
    code = _PROBE.format(blocked=sorted(blocked or []), setup=setup, statement=statement)
    out = subprocess.run([sys.executable, "-c", code], env=_probe_env(), capture_output=True, text=True, check=True)
    seconds, loaded = out.stdout.strip().splitlines()[-1].split()
    return float(seconds), int(loaded)


# (name, setup run untimed, statement timed); every round runs each in its own fresh interpreter
BOTO = ("import boto3", "", "import boto3")
HANDLERS = [(fn, "", f"import functions.{fn}.app") for fn in FUNCTIONS]
XERO_BASE = "import functions.sync_payments.app"
XERO_OURS = ("xero: ours", XERO_BASE, "import booksync.providers.xero.accounting")
XERO_SDK = (
    "xero: xero-python",
    XERO_BASE,
    "import xero_python.accounting; from xero_python.api_client import ApiClient; "
    "from xero_python.api_client.configuration import Configuration; from xero_python.accounting import AccountingApi",
)


def cold_init(settings: dict[str, Any]) -> list[Row]:
    """Interleaved: every round runs ``import boto3``, every handler and both Xero client imports, each in a fresh
    interpreter, so load drift on a shared machine hits reference and targets alike. Ratios are the median of the
    per-round ratios (each handler against the boto3 sample of its own round)."""
    runs = settings["cold_runs"]
    targets = [BOTO, *HANDLERS, XERO_OURS, XERO_SDK]
    blocked = {name: not_deployed(("xero-python",) if name == XERO_SDK[0] else ()) for name, _, _ in targets}
    for _ in range(2):  # warm: bytecode written, files in the page cache
        for name, setup, statement in targets:
            _sample(statement, setup, blocked[name])
    samples: dict[str, list[float]] = {name: [] for name, _, _ in targets}
    loaded: dict[str, int] = {}
    for r in range(runs):
        shift = r % len(targets)  # rotate the order: no target always runs first or last in a round
        for name, setup, statement in targets[shift:] + targets[:shift]:
            seconds, modules = _sample(statement, setup, blocked[name])
            samples[name].append(seconds)
            loaded[name] = modules
    boto = samples[BOTO[0]]
    rows: list[Row] = []
    for fn, _, _ in HANDLERS:
        ratio = statistics.median(t / b for t, b in zip(samples[fn], boto, strict=True))
        rows.append(
            (
                f"cold init: {fn}",
                f"{statistics.median(samples[fn]) * 1000:.0f} ms",
                f"import boto3 {statistics.median(boto) * 1000:.0f} ms",
                f"{ratio:.2f}x",
                "<= 1.3x",
            )
        )
    ours, sdk = samples[XERO_OURS[0]], samples[XERO_SDK[0]]
    for name in (XERO_OURS[0], XERO_SDK[0]):
        if loaded[name] == 0:  # the statement found everything already imported: it measured nothing
            raise RuntimeError(f"{name}: the timed import loaded no module (already loaded by the handler?)")
    rows.append(
        (
            "Xero client import added to sync_payments (ours)",
            f"{statistics.median(ours) * 1000:.0f} ms ({loaded[XERO_OURS[0]]} modules)",
            f"xero-python {statistics.median(sdk) * 1000:.0f} ms ({loaded[XERO_SDK[0]]} modules)",
            f"{statistics.median(o / s for o, s in zip(ours, sdk, strict=True)):.2f}x",
            "report",
        )
    )
    return rows


# ---- DynamoDB requests ---------------------------------------------------------------------------------------------
class DynamoCounter:
    """Counts every DynamoDB request the process sends (the app's storage is pynamodb: its connection's one call into
    botocore is wrapped), with the capacity units the stand-in reports (pynamodb asks for TOTAL)."""

    READS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.units = {"read": 0.0, "write": 0.0}
        self.reported = 0  # requests whose answer carried ConsumedCapacity

    def record(self, operation: str, data: Any) -> None:
        self.calls[operation] += 1
        capacity = data.get("ConsumedCapacity") if isinstance(data, dict) else None
        if capacity is None:
            return
        self.reported += 1
        entries = capacity if isinstance(capacity, list) else [capacity]
        units = sum(float(e.get("CapacityUnits") or 0) for e in entries if isinstance(e, dict))
        self.units["read" if operation in self.READS else "write"] += units

    def total(self) -> int:
        return sum(self.calls.values())

    def describe(self) -> str:
        ops = ", ".join(f"{k} {v}" for k, v in sorted(self.calls.items()))
        if not self.reported:
            return f"{ops}; capacity not reported"
        return f"{ops}; RCU {self.units['read']:.1f}, WCU {self.units['write']:.1f}"

    @contextmanager
    def counting(self) -> Iterator[DynamoCounter]:
        from pynamodb.connection.base import Connection

        real = Connection._make_api_call
        counter = self

        def counted(conn: Any, operation_name: str, operation_kwargs: dict[str, Any]) -> Any:
            data = None
            try:
                data = real(conn, operation_name, operation_kwargs)
                return data
            finally:  # a refused conditional write is a request too
                counter.record(operation_name, data)

        Connection._make_api_call = counted  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            Connection._make_api_call = real  # type: ignore[method-assign]


# ---- QuickBooks Resync + DynamoDB per invoice ------------------------------------------------------------------
def qbo_resync_and_dynamo(settings: dict[str, Any]) -> list[Row]:
    import httpx

    import tests.conftest  # noqa: F401  (the test environment: dummy AWS credentials, names)
    from tests.helpers import http_event, invoke
    from tests.integration.conftest import load_function
    from tests.integration.qbo_helpers import connect_quickbooks, drain, map_default_income_account, qbo_world
    from tests.integration.test_api_flow import _setup_invoice

    rows: list[Row] = []
    with qbo_world() as world:
        api = load_function("api").lambda_handler
        sync = load_function("sync_invoice").lambda_handler
        connect_quickbooks("co_bench")
        map_default_income_account("co_bench")
        sqs, queues = world["aws"]["sqs"], world["aws"]["queues"]
        made = _setup_invoice(api, company="co_bench")
        drain(sqs, queues["invoice-sync"], "sync_invoice")  # customer + item pushed on their own
        inv = made["invoice"]

        # DynamoDB requests for one invoice: send (API) + the queued push (consumer)
        with DynamoCounter().counting() as counter:
            invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send", company="co_bench"))
            drain(sqs, queues["invoice-sync"], "sync_invoice")
        rows.append(
            (
                "DynamoDB requests per synced invoice (send + push)",
                str(counter.total()),
                counter.describe(),
                "-",
                "report",
            ),
        )

        for amount in ("10.00", "20.00", "30.00"):
            r = invoke(
                api,
                http_event(
                    "api/record_payment.json",
                    path=f"/invoices/{inv['id']}/payments",
                    body={"amount": amount, "method": "check"},
                    company="co_bench",
                ),
            )
            assert r.status == 201, r.body
        since = httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": "quickbooks"}).json()["last_seq"]
        started = time.perf_counter()
        out = invoke(
            sync, http_event("sync_invoice/http_sync.json", path=f"/invoices/{inv['id']}/sync", company="co_bench")
        )
        elapsed = time.perf_counter() - started
        assert out.status == 200 and [p["status"] for p in out.body["payments"]] == ["synced"] * 3, out.body
        log = httpx.get(f"{world['url']}/_sandbox/requests", params={"provider": "quickbooks", "since": since}).json()
        trips = len([e for e in log["requests"] if "/v3/company/" in e["path"]])
        rows.append(
            (
                "QuickBooks round trips: Resync with 3 new payments",
                str(trips),
                "target 2",
                f"{trips / 2:.2f}x",
                "<= 2 trips",
            )
        )
        rows.append(("  wall time of that Resync (local sandbox)", f"{elapsed * 1000:.0f} ms", "-", "-", "report"))
    return rows


# ---- backfill ------------------------------------------------------------------------------------------------------
def backfill(settings: dict[str, Any]) -> list[Row]:
    """Issue 9: a backfill of customers + items + invoices + one payment each, per provider, in provider calls
    against the floor: batching providers (QuickBooks, Xero) the batching floor (writes; their reference reads are
    the over-floor part); providers without a batch API or idempotency keys (FreshBooks, Wave) one write per object
    plus the one lookup per object the engine makes before a create. And, on QuickBooks, the same data pushed by a
    one-object-per-call loop written with python-quickbooks on the same sandbox. Rate-limit pauses (ours and the
    sandbox's) are waited out on the sandbox clock, so the calls counted include any throttled ones."""
    import httpx

    import tests.conftest  # noqa: F401
    from tests import helpers
    from tests.integration.test_backfill import (
        api_calls,
        batching_floor,
        connect,
        drain_imports,
        last_seq,
        lookup_floor,
        ours,
        provider_world,
        seed_books,
    )

    rows: list[Row] = []
    real_remaining = helpers.LambdaContext.get_remaining_time_in_millis
    helpers.LambdaContext.get_remaining_time_in_millis = lambda self: 300_000  # type: ignore[method-assign]
    try:
        for provider in settings["providers"]:
            c, i, n = (settings["backfill_by_provider"][provider][k] for k in ("customers", "items", "invoices"))
            expected = {"customer": c, "item": i, "invoice": n, "payment": n}
            with provider_world(provider, company="co_bench", connect=False) as w:
                from booksync import wiring

                seed_books("co_bench", c, i, n)
                connect(w, "co_bench")  # the OAuth callback queues the backfill
                clock = w["sandbox"].core.clock
                wiring.sync_engine().sleep = lambda seconds, url=w["url"]: _advance(url, seconds)
                # the engine's clock too (its patience with a throttled batch, claim leases): its sleeps move the
                # sandbox clock, so a real-time clock never saw them pass (one clock with the pacer and the sandbox)
                wiring.sync_engine().clock = clock.timestamp
                wiring.token_manager().clock = clock.timestamp  # hours of paced calls pass on the sandbox's clock
                since = last_seq(w)
                started = time.perf_counter()
                with DynamoCounter().counting() as dyn:
                    drain_imports(w)
                elapsed = time.perf_counter() - started
                calls = api_calls(w, since)
                got = ours(w)
                assert got == expected, (provider, got, expected)
                writes = _writes(w, calls)
                throttled = len([x for x in calls if x.get("status") == 429])
                floor = batching_floor(provider, c, i, n, n)
                lookups = lookup_floor(provider, c, i, n, n)
                what = f"{LABEL[provider]} backfill {c} cust + {i} items + {n:,} inv + {n:,} pay: provider calls"
                if lookups:
                    reference = f"floor {floor + lookups} ({floor} writes + {lookups} lookups) ²"
                else:
                    reference = f"batching floor {floor} ¹"
                rows.append(
                    (
                        what,
                        f"{len(calls)} ({writes} writes, {throttled} throttled)",
                        reference,
                        f"{len(calls) / (floor + lookups):.3f}x",
                        "<= 1.1x",
                    )
                )
                objects = c + i + 2 * n
                rows.append(
                    (
                        "  DynamoDB requests per backfilled object",
                        f"{dyn.total() / objects:.1f}",
                        f"{dyn.total():,} for {objects:,} objects",
                        "-",
                        "report",
                    )
                )
                rows.append(
                    ("  wall time of that backfill (local sandbox + moto)", f"{elapsed:.0f} s", "-", "-", "report")
                )
                if provider == "quickbooks":
                    sdk = _python_quickbooks_loop(w, httpx, c, i, n)
                    rows.append(
                        (
                            "QuickBooks backfill: python-quickbooks loop (one object per call), same data",
                            f"{sdk} calls",
                            f"ours {len(calls)} calls",
                            f"{sdk / len(calls):.1f}x fewer",
                            ">= 20x fewer",
                        )
                    )
    finally:
        helpers.LambdaContext.get_remaining_time_in_millis = real_remaining  # type: ignore[method-assign]
    return rows


def _writes(w: dict[str, Any], calls: list[dict[str, Any]]) -> int:
    """Write calls among ``calls``: POST/PUT on REST providers; on Wave (every call a GraphQL POST) the mutations,
    read from the sandbox's operation record."""
    if w["provider"] != "wave":
        return len([x for x in calls if x["method"] in ("POST", "PUT")])
    sandbox = w["sandbox"].core.providers["wave"]
    with w["sandbox"].core.lock:
        ops = {o["seq"]: str(o["operation"]) for o in sandbox.operations}
    mutations = ("Create", "Patch", "Approve", "Delete", "Send")
    return len([x for x in calls if any(m in ops.get(x["seq"], "") for m in mutations)])


def _advance(url: str, seconds: float) -> None:
    import httpx

    httpx.post(f"{url}/_sandbox/clock", json={"advance": seconds}).raise_for_status()


def _python_quickbooks_loop(w: dict[str, Any], httpx: Any, c: int, i: int, n: int) -> int:
    """The same backfill written the usual way with the community SDK: one save per object, on a second company of
    the same sandbox. Returns its provider calls (throttled ones included; a 429 waits 60 s on the sandbox clock)."""
    from quickbooks import QuickBooks
    from quickbooks.exceptions import QuickbooksException
    from quickbooks.objects.account import Account
    from quickbooks.objects.customer import Customer
    from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
    from quickbooks.objects.invoice import Invoice
    from quickbooks.objects.item import Item
    from quickbooks.objects.payment import Payment, PaymentLine
    from quickbooks.objects.paymentmethod import PaymentMethod
    from requests_oauthlib import OAuth2Session

    from booksync import wiring
    from local.sandbox.quickbooks import DEFAULT_CLIENT_ID
    from tests.integration.qbo_helpers import connect_quickbooks

    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"  # the sandbox is plain http on 127.0.0.1
    realm = connect_quickbooks("co_sdk")
    token = wiring.token_manager().access_token("co_sdk", "quickbooks").access_token
    qb = QuickBooks(company_id=realm, minorversion=75)
    qb.api_url_v3 = f"{w['url']}/quickbooks/v3"
    qb.sandbox_api_url_v3 = qb.api_url_v3
    qb.session = OAuth2Session(DEFAULT_CLIENT_ID, token={"access_token": token, "token_type": "Bearer"})
    since = int(httpx.get(f"{w['url']}/_sandbox/requests", params={"provider": "quickbooks"}).json()["last_seq"])

    def call(fn: Callable[[], Any]) -> Any:
        while True:
            try:
                return fn()
            except QuickbooksException as exc:
                if exc.error_code not in (3001, 429) and "throttl" not in str(exc).lower():
                    raise
                _advance(w["url"], 60)

    income = call(lambda: Account.where("AccountType = 'Income'", qb=qb))[0]
    method = next(m for m in call(lambda: PaymentMethod.all(qb=qb)) if m.Name.lower() == "check")
    customers, items, invoices = [], [], []
    for k in range(c):
        cust = Customer()
        cust.DisplayName = f"SDK Customer {k:05d}"
        customers.append(call(lambda cust=cust: cust.save(qb=qb)))
    for k in range(i):
        item = Item()
        item.Name = f"SDK Service {k:04d}"
        item.Type = "Service"
        item.UnitPrice = 100.0
        item.IncomeAccountRef = income.to_ref()
        items.append(call(lambda item=item: item.save(qb=qb)))
    for k in range(n):
        amount = 100.0 + k % 7
        line = SalesItemLine()
        line.Amount = amount
        line.SalesItemLineDetail = SalesItemLineDetail()
        line.SalesItemLineDetail.ItemRef = items[k % i].to_ref()
        line.SalesItemLineDetail.Qty = 1
        line.SalesItemLineDetail.UnitPrice = amount
        inv = Invoice()
        inv.DocNumber = f"SDK-{k:05d}"
        inv.CustomerRef = customers[k % c].to_ref()
        inv.Line.append(line)
        invoices.append(call(lambda inv=inv: inv.save(qb=qb)))
    for k in range(n):
        pay = Payment()
        pay.TotalAmt = 40.0
        pay.CustomerRef = customers[k % c].to_ref()
        pay.PaymentMethodRef = method.to_ref()
        pline = PaymentLine()
        pline.Amount = 40.0
        pline.LinkedTxn.append(invoices[k].to_linked_txn())
        pay.Line.append(pline)
        call(lambda pay=pay: pay.save(qb=qb))
    log = httpx.get(f"{w['url']}/_sandbox/requests", params={"provider": "quickbooks", "since": since}).json()
    return len([e for e in log["requests"] if f"/v3/company/{realm}/" in e["path"]])


# ---- weekly import -------------------------------------------------------------------------------------------------
SOAKS = {
    "quickbooks": "tests.integration.test_import_soak",
    "xero": "tests.integration.test_import_soak_xero",
    "freshbooks": "tests.integration.test_import_soak_freshbooks",
    "wave": "tests.integration.test_import_soak_wave",
}
# what an unchanged week should cost: QuickBooks asks CDC once for every kind; the others one page per kind read
CHANGE_FEED = {"quickbooks": "CDC"}


def import_floor(provider: str, n: int) -> tuple[int, str]:
    """Σ over the kinds the importer reads of ⌈n / its max page size⌉: kinds that ride inside another kind's answer
    (Wave's payments inside invoices: ``nested_kinds``) cost nothing, an unpaged kind (Xero's Items: not in the
    importer module's ``PAGED``) costs one call."""
    from booksync import providers

    importer = type(providers.importer(provider))
    module = importlib.import_module(importer.__module__)
    nested = getattr(importer, "nested_kinds", {})
    paged = getattr(module, "PAGED", importer.kinds)
    parts = []
    for kind in importer.kinds:
        if kind in nested:
            parts.append((kind, 0, f"in {nested[kind]}s"))
        elif kind in paged:
            parts.append((kind, math.ceil(n / importer.max_page_size), f"/{importer.max_page_size}"))
        else:
            parts.append((kind, 1, "unpaged"))
    return sum(p[1] for p in parts), ", ".join(f"{k} {calls} ({how})" for k, calls, how in parts)


def weekly_import(settings: dict[str, Any]) -> list[Row]:
    """Issue 9: the first weekly import of N records per type through the soak's handler path (fan-out +
    ImportChangesFunction, one 300 s invocation per message), its provider calls per kind from the sandbox's request
    log against the floor, then an unchanged week; DynamoDB requests per imported record."""
    import pytest

    import tests.conftest  # noqa: F401
    from tests.integration.test_backfill import last_seq

    n = settings["import_n"]
    rows: list[Row] = []
    for provider in settings["providers"]:
        soak = importlib.import_module(SOAKS[provider])
        with pytest.MonkeyPatch.context() as mp, soak.soak_world(mp) as w:
            w["provider"] = provider
            started = time.perf_counter()
            soak.seed_fast(w, n, mp)
            seeded = time.perf_counter() - started
            soak.ready_first_run(w)
            since = last_seq(w)
            started = time.perf_counter()
            with DynamoCounter().counting() as dyn:
                invocations = soak.run_weekly(w)
            elapsed = time.perf_counter() - started
            kinds, refused = soak.calls_per_kind(w, since)
            floor, how = import_floor(provider, n)
            answered = sum(kinds.values())
            rows.append(
                (
                    f"{LABEL[provider]} first weekly import, {n:,} records per type: provider calls",
                    f"{answered} ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}; +{refused} refused)",
                    f"floor {floor}: {how}",
                    f"{answered / floor:.2f}x",
                    "at the floor (1.00x)",
                )
            )
            records = 4 * n
            rows.append(
                (
                    "  DynamoDB requests per imported record",
                    f"{dyn.total() / records:.2f}",
                    f"{dyn.total():,} for {records:,} records",
                    "-",
                    "report",
                )
            )
            rows.append(
                (
                    "  wall time of that import (local sandbox + moto)",
                    f"{elapsed:.0f} s",
                    f"{invocations} invocation(s); seeding {seeded:.0f} s",
                    "-",
                    "report",
                )
            )
            soak.ready_next_week(w)
            since = last_seq(w)
            soak.run_weekly(w)
            week, refused = soak.calls_per_kind(w, since)
            if provider in CHANGE_FEED:
                expected, why = 1, f"one {CHANGE_FEED[provider]} call"
            else:
                expected = _kinds_read(provider)
                why = "one per kind"
            got = sum(week.values())
            rows.append(
                (
                    f"{LABEL[provider]} unchanged week: provider calls",
                    f"{got} ({', '.join(f'{k} {v}' for k, v in sorted(week.items()))}; +{refused} refused)",
                    f"expected {expected} ({why})",
                    f"{got / expected:.2f}x",
                    "report",
                )
            )
    return rows


def _kinds_read(provider: str) -> int:
    from booksync import providers

    importer = type(providers.importer(provider))
    return len([k for k in importer.kinds if k not in getattr(importer, "nested_kinds", {})])


# ---- table + document ----------------------------------------------------------------------------------------------
def render(rows: list[Row]) -> str:
    head = ("what", "measured", "reference", "ratio", "target")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(5)]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


NOTES = {
    "cold": (
        "Cold init: {cold_runs} rounds; each round runs `import boto3`, every handler module (what Lambda's init "
        "phase runs) and both Xero client imports, each in its own fresh interpreter, in a rotated order, after two "
        "warm-up rounds (bytecode written, files cached). Times are medians; a ratio is the median of the per-round "
        "ratios (target and `import boto3` from the same round), so load drift on the machine hits both sides. The "
        "Xero client rows time, inside one interpreter that already imported the sync_payments handler, "
        "`import booksync.providers.xero.accounting` (ours) against `import xero_python.accounting` + `ApiClient`, "
        "`Configuration`, `AccountingApi` (xero-python) in another; the module count is what the timed statement "
        "loaded. In every probe, packages the deployed function does not have (outside the closure of "
        "layers/common/requirements.txt, + xero-python for its probe) cannot be imported, as in Lambda: the dev "
        "environment's extras would otherwise be timed (httpx imports its optional CLI, click + rich + pygments, "
        "~90 modules, when they are installed; schemathesis installs them here)."
    ),
    "backfill": (
        "¹ Batching floor (QuickBooks, Xero) = Σ over the three dependent levels (customers + items, invoices, "
        "payments) of ⌈n / max_batch⌉ (QuickBooks 30 mixing kinds, Xero 50 per kind): the fewest write calls "
        "possible; calls above it are reference reads (payment methods / bank accounts). "
        "² FreshBooks and Wave have no batch API (`max_batch` 1) and take no idempotency key, so the floor is one "
        "write per object plus the one lookup per object the engine makes before each create (how a retried create "
        "is not made twice); calls above it are reference reads. The python-quickbooks loop is the same data saved "
        "one object per call on a second company of the same sandbox. Backfill size: {backfill_desc}."
    ),
    "import": (
        "Weekly import: {import_n:,} records per type seeded with the soak tests' in-process seeding "
        "(tests/integration/test_import_soak*.py), the first weekly run through WeeklySyncFunction's fan-out and "
        "ImportChangesFunction (a fresh 300 s budget per message), calls per kind from the sandbox's request log "
        "(answered calls; refused 429s listed apart). Floor = Σ over kinds of ⌈N / max page size⌉ (QuickBooks 1000, "
        "Xero 1000 with Items one unpaged call, FreshBooks 100, Wave 200 with payments inside their invoices). The "
        "unchanged week is the next run a week later with nothing changed."
    ),
}


def main() -> None:
    for path in (ROOT / "layers" / "common", ROOT):  # as `make bench` sets PYTHONPATH, for a bare `python -m`
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    settings = _settings()
    sections: dict[str, tuple[str, Callable[[dict[str, Any]], list[Row]]]] = {
        "cold": ("cold init", cold_init),
        "resync": ("QuickBooks Resync and DynamoDB per invoice", qbo_resync_and_dynamo),
        "backfill": ("backfill per provider", backfill),
        "import": ("weekly import per provider", weekly_import),
    }
    rows: list[Row] = []
    walls: list[str] = []
    for key in settings["sections"]:
        name, fn = sections[key]
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        rows += fn(settings)
        wall = time.perf_counter() - started
        walls.append(f"{key} {wall:.0f} s")
        print(f"  {key}: {wall:.1f} s", file=sys.stderr, flush=True)
    table = render(rows)
    print(table)
    b = settings["backfill"]
    facts = {
        "cold_runs": settings["cold_runs"],
        "import_n": settings["import_n"],
        "backfill_desc": f"{b['customers']} customers + {b['items']} items + {b['invoices']:,} invoices + "
        f"{b['invoices']:,} payments (scale {settings['backfill_scale']:g})"
        + "".join(
            f"; {LABEL[p]} scale {f:g}"
            for p, f in settings["backfill_scale_by_provider"].items()
            if f != settings["backfill_scale"] and p in settings["providers"]
        ),
    }
    used = [f"`{s}`" for s in settings["sections"]]
    sizes = []
    if "cold" in settings["sections"]:
        sizes.append(f"cold rounds {settings['cold_runs']}")
    if "backfill" in settings["sections"]:
        sizes.append(f"backfill {facts['backfill_desc']}")
    if "import" in settings["sections"]:
        sizes.append(f"import {settings['import_n']:,} records per type")
    if {"backfill", "import"} & set(settings["sections"]):
        sizes.append(f"providers {', '.join(settings['providers'])}")
    notes = "\n\n".join(NOTES[s].format(**facts) for s in settings["sections"] if s in NOTES)
    machine = f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    out: Path = settings["out"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "# Performance\n\nWritten by `make bench` (bench/run.py) from the measurements of its last run; do not edit "
        f"by hand.\n\nMachine: {machine}\nRun: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n"
        f"Sections: {', '.join(used)} (wall time: {', '.join(walls)})\nSizes: {'; '.join(sizes) or '-'}\n\n"
        f"{table}\n\n{notes}\n"
    )
    print(f"written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
