"""`make bench`: cost measured in the same run, printed as one table of ratios and written to docs/PERFORMANCE.md.

Cost is counted where the physical limit is: provider calls and round trips (the providers' quotas), DynamoDB
requests, and Lambda cold init (a fresh interpreter importing the handler) against `import boto3` alone.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
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
Row = tuple[str, str, str, str, str]  # (what, measured, reference, ratio, target)


def _import_seconds(statement: str, runs: int) -> float:
    env = dict(
        os.environ,
        PYTHONPATH=f"{ROOT}:{ROOT / 'layers/common'}",
        TABLE_NAME="bench",
        AWS_DEFAULT_REGION="us-east-1",
        PYTHONDONTWRITEBYTECODE="0",
    )
    code = f"import time; t=time.perf_counter(); {statement}; print(time.perf_counter()-t)"
    samples = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        samples.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def cold_init(runs: int = 9) -> list[Row]:
    _import_seconds("import boto3", 2)  # warm the file cache and bytecode
    boto = _import_seconds("import boto3", runs)
    rows: list[Row] = []
    for fn in FUNCTIONS:
        _import_seconds(f"import functions.{fn}.app", 1)
        t = _import_seconds(f"import functions.{fn}.app", runs)
        rows.append(
            (
                f"cold init: {fn}",
                f"{t * 1000:.0f} ms",
                f"import boto3 {boto * 1000:.0f} ms",
                f"{t / boto:.2f}x",
                "<= 1.3x",
            )
        )
    # A provider client is imported inside a function that already has boto3, pydantic and httpx loaded: compare
    # what each adds on top of the payment handler (and, for reference, alone in a bare interpreter).
    base = "import functions.sync_payments.app"
    handler = _import_seconds(base, runs)
    ours = _import_seconds(f"{base}; import booksync.providers.xero.accounting", runs) - handler
    sdk = _import_seconds(f"{base}; import xero_python.accounting", runs) - handler
    rows.append(
        (
            "Xero client import, added to a function: ours",
            f"{ours * 1000:.0f} ms",
            f"xero-python {sdk * 1000:.0f} ms",
            f"{ours / sdk:.2f}x",
            "report",
        )
    )
    alone_ours = _import_seconds("import booksync.providers.xero.accounting", runs)
    alone_sdk = _import_seconds("import xero_python.accounting", runs)
    rows.append(
        (
            "Xero client import, bare interpreter: ours",
            f"{alone_ours * 1000:.0f} ms",
            f"xero-python {alone_sdk * 1000:.0f} ms",
            f"{alone_ours / alone_sdk:.2f}x",
            "report",
        )
    )
    return rows


class DynamoCounter:
    """Counts DynamoDB requests (and consumed capacity where the stand-in reports it) via botocore events."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def hook(self, **kwargs: Any) -> None:
        model = kwargs.get("model")
        name = getattr(model, "name", "?")
        self.calls[name] = self.calls.get(name, 0) + 1

    def total(self) -> int:
        return sum(self.calls.values())


def qbo_resync_and_dynamo() -> list[Row]:
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
        counter = _count_dynamo()
        invoke(api, http_event("api/send_invoice.json", path=f"/invoices/{inv['id']}/send", company="co_bench"))
        drain(sqs, queues["invoice-sync"], "sync_invoice")
        n = counter.total()
        _stop_counting(counter)
        rows.append(
            (
                "DynamoDB requests per synced invoice (send + push)",
                str(n),
                f"{', '.join(f'{k} {v}' for k, v in sorted(counter.calls.items()))}",
                "-",
                "report",
            )
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


BACKFILL = {"customers": 300, "items": 50, "invoices": 2000}  # + one payment per invoice (2,000)


def backfill() -> list[Row]:
    """Issue 9: a backfill of 300 customers + 50 items + 2,000 invoices + 2,000 payments per batching provider, in
    provider calls against the batching floor; and the same data pushed by a one-object-per-call loop written with
    python-quickbooks on the same QuickBooks sandbox. Sandbox rate-limit pauses are waited out on the sandbox clock
    (the engine's ``sleep`` advances it), so the calls counted include any throttled ones."""
    import httpx

    import tests.conftest  # noqa: F401
    from tests import helpers
    from tests.integration.test_backfill import (
        api_calls,
        batching_floor,
        connect,
        drain_imports,
        last_seq,
        ours,
        provider_world,
        seed_books,
    )

    c, i, n = BACKFILL["customers"], BACKFILL["items"], BACKFILL["invoices"]
    expected = {"customer": c, "item": i, "invoice": n, "payment": n}
    rows: list[Row] = []
    real_remaining = helpers.LambdaContext.get_remaining_time_in_millis
    helpers.LambdaContext.get_remaining_time_in_millis = lambda self: 300_000  # type: ignore[method-assign]
    try:
        for provider in ("quickbooks", "xero"):
            with provider_world(provider, company="co_bench", connect=False) as w:
                from booksync import wiring

                seed_books("co_bench", c, i, n)
                connect(w, "co_bench")  # the OAuth callback queues the backfill
                wiring.sync_engine().sleep = lambda seconds, url=w["url"]: _advance(url, seconds)
                since = last_seq(w)
                started = time.perf_counter()
                drain_imports(w)
                elapsed = time.perf_counter() - started
                calls = api_calls(w, since)
                got = ours(w)
                assert got == expected, got
                floor = batching_floor(provider, c, i, n, n)
                writes = len([x for x in calls if x["method"] in ("POST", "PUT")])
                throttled = len([x for x in calls if x.get("status") == 429])
                label = {"quickbooks": "QuickBooks", "xero": "Xero"}[provider]
                rows.append(
                    (
                        f"{label} backfill {c} cust + {i} items + {n:,} inv + {n:,} pay: provider calls",
                        f"{len(calls)} ({writes} writes, {throttled} throttled)",
                        f"batching floor {floor}",
                        f"{len(calls) / floor:.3f}x",
                        "<= 1.1x",
                    )
                )
                rows.append(
                    ("  wall time of that backfill (local sandbox + moto)", f"{elapsed:.0f} s", "-", "-", "report")
                )
                if provider == "quickbooks":
                    sdk = _python_quickbooks_loop(w, httpx)
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


def _advance(url: str, seconds: float) -> None:
    import httpx

    httpx.post(f"{url}/_sandbox/clock", json={"advance": seconds}).raise_for_status()


def _python_quickbooks_loop(w: dict[str, Any], httpx: Any) -> int:
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
    c, i, n = BACKFILL["customers"], BACKFILL["items"], BACKFILL["invoices"]
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


def _count_dynamo() -> DynamoCounter:
    from booksync.adapters.dynamodb import TableRecord

    counter = DynamoCounter()
    client = TableRecord._get_connection().connection.client
    client.meta.events.register("before-call.dynamodb", counter.hook)
    counter._client = client  # type: ignore[attr-defined]
    return counter


def _stop_counting(counter: DynamoCounter) -> None:
    counter._client.meta.events.unregister("before-call.dynamodb", counter.hook)  # type: ignore[attr-defined]


def render(rows: list[Row]) -> str:
    head = ("what", "measured", "reference", "ratio", "target")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(5)]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])


def main() -> None:
    sections: list[tuple[str, Callable[[], list[Row]]]] = [
        ("cold init", cold_init),
        ("QuickBooks Resync and DynamoDB", qbo_resync_and_dynamo),
        ("backfill (batching) per provider", backfill),
    ]
    rows: list[Row] = []
    for name, fn in sections:
        print(f"measuring {name} ...", file=sys.stderr)
        rows += fn()
    table = render(rows)
    machine = f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    print(table)
    doc = ROOT / "docs" / "PERFORMANCE.md"
    doc.write_text(
        "# Performance\n\nWritten by `make bench` (bench/run.py) from the measurements of its last run; do not edit "
        f"by hand.\n\nMachine: {machine}\nRun: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n{table}\n\n"
        "Cold init is the median of 9 fresh interpreters importing the handler module (what Lambda's init phase "
        "runs), against the median of `import boto3` alone on the same machine in the same run.\n"
    )


if __name__ == "__main__":
    main()
