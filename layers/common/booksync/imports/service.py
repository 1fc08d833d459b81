"""Imports from the books: the weekly auto-sync and POST /customers/import, for every provider with an importer.

A run reads pages from the provider's :class:`~booksync.imports.ports.ImportSource` and upserts each record into
BlueClerk **without duplicates**: match by the stored provider id, then by the natural key (customer name, then
e-mail; item name, then SKU; invoice number or BlueClerk's own marker); a new BlueClerk record gets an id derived
from the provider record, created with a conditional write, so two runs can never create it twice.

**The conflict rule (one rule, written in the sync history):** a BlueClerk record with a local change not yet
pushed to the books — a customer or item whose ``version`` differs from its ``pushed_version``, a linked invoice
whose ``sync_status`` is ``not_synced`` or ``failed``, or any record a push is holding right now — is **not
overwritten**: BlueClerk keeps its version (and pushes it). Otherwise the newer side wins: a linked record takes the
books' version; a record matched by its natural key that was never pushed is compared by time — the books win
unless BlueClerk's copy was edited after the books' copy, in which case BlueClerk's stays and is queued for a push.
Every conflict is one sync-history row (``action = import``, ``result = kept_local``).

**Checkpointing:** after each page the run's cursor and counts are stored (conditionally, so two workers cannot
both advance one run); a run that nears the Lambda time limit stops between pages and re-enqueues itself; the next
invocation resumes at the stored cursor and never re-reads a finished page. A successful weekly run stores the
provider's clock at its first answer as the next run's watermark.

The service is provider-neutral: provider differences live in the import source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from booksync.catalog.models import Address, Customer, Item
from booksync.classification import CLASSES, Classification, CustomerFacts, classify, location_key
from booksync.classification.rules import PRECEDENCE
from booksync.config import PROVIDER_DISPLAY_NAMES
from booksync.errors import AppError, Conflict
from booksync.ids import utcnow
from booksync.imports.budget import REMAINING_MS
from booksync.imports.models import (
    ImportRun,
    ImportState,
    ImportStatus,
    KindCounts,
    Link,
    Local,
    RunError,
    RunStatus,
)
from booksync.imports.ports import (
    KINDS,
    Deleted,
    ImportedCustomer,
    ImportedInvoice,
    ImportedItem,
    ImportedPayment,
    ImportPage,
    ImportSource,
    Kind,
)
from booksync.integrations.models import Connection, ConnectionStatus, SyncSettings
from booksync.invoicing.models import (
    PAYMENT_PROVIDER_ID_FIELDS,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
    SyncError,
    SyncStatus,
)
from booksync.observability import logger
from booksync.ports import Notifier, SyncQueue
from booksync.sync.ports import ProviderError, Session, Unauthorized

T = TypeVar("T")

MAX_RUN_ERRORS = 20
_RULE_ORDER = {rule: i for i, (rule, _cls, _doc) in enumerate(PRECEDENCE)}


# ---- ports --------------------------------------------------------------------------------------------------------
class ImportStore(Protocol):
    # runs and state
    def state(self, company_id: str, provider: str) -> ImportState: ...
    def start_run(self, company_id: str, run: ImportRun) -> ImportRun: ...
    def save_run(self, company_id: str, run: ImportRun, expected_seq: int, state: ImportState) -> bool: ...
    def advance_watermark(self, company_id: str, provider: str, watermark: dt.datetime, kinds: list[str]) -> None: ...
    def get_run(self, company_id: str, provider: str, run_id: str) -> ImportRun | None: ...

    # links of provider records
    def links(self, company_id: str, provider: str, kind: str, provider_ids: Iterable[str]) -> dict[str, Link]: ...
    def put_links(self, company_id: str, provider: str, links: dict[tuple[str, str], Link]) -> None: ...
    def add_child(
        self, company_id: str, provider: str, parent_id: str, child_id: str, location: str | None
    ) -> Link: ...

    # BlueClerk records
    def customer_index(self, company_id: str) -> list[Customer]: ...
    def item_index(self, company_id: str) -> list[Item]: ...
    def invoice_index(self, company_id: str, provider: str) -> dict[str, str]: ...
    def get_entity(self, company_id: str, kind: str, entity_id: str) -> Local | None: ...
    def get_entities(self, company_id: str, kind: str, entity_ids: Iterable[str]) -> dict[str, Local]: ...
    def all_payments(self, company_id: str) -> dict[str, list[Payment]]: ...
    def class_counts(self, company_id: str, provider: str) -> dict[str, int]: ...
    def add_item_accounts(self, company_id: str, provider: str, accounts: dict[str, str]) -> None: ...
    def invoice_id_by_number(self, company_id: str, number: str) -> str | None: ...
    def create_entity(self, company_id: str, kind: str, entity: Any, provider: str, provider_id: str) -> bool: ...
    def update_entity(
        self,
        company_id: str,
        kind: str,
        entity: Any,
        expected_version: int,
        provider: str,
        provider_id: str,
        *,
        previous_number: str | None = None,
        sync_token: str | None = None,
    ) -> str: ...
    def link_entity(
        self,
        company_id: str,
        kind: str,
        entity_id: str,
        provider: str,
        provider_id: str,
        *,
        pushed_version: int | None = None,
        sync_token: str | None = None,
    ) -> bool: ...
    def set_classification(self, company_id: str, customer_id: str, kind: str, reason: str) -> bool: ...
    def list_payments(self, company_id: str, invoice_id: str) -> list[Payment]: ...
    def add_payment(
        self, company_id: str, invoice_id: str, expected_version: int, payment: Payment, status: InvoiceStatus
    ) -> bool: ...
    def link_payment(
        self, company_id: str, invoice_id: str, payment_id: str, provider: str, provider_id: str
    ) -> bool: ...
    def update_payment(
        self, company_id: str, invoice_id: str, expected_version: int, payment: Payment, status: InvoiceStatus
    ) -> bool: ...


class Tokens(Protocol):
    def access_token(self, company_id: str, provider: str) -> Any: ...
    def rejected(self, company_id: str, provider: str, access_token: str) -> Any: ...


class Connections(Protocol):
    def get(self, company_id: str, provider: str) -> Connection: ...


class History(Protocol):
    def add(
        self,
        company_id: str,
        *,
        entity_type: str,
        entity_id: str,
        provider: str,
        action: str,
        result: str,
        provider_id: str | None = None,
        error: SyncError | None = None,
    ) -> None: ...


Requeue = Callable[[str, str, str, int], None]  # (company, provider, run id, checkpoint seq)


def enabled_kinds(settings: SyncSettings, offered: Sequence[Kind]) -> list[Kind]:
    """The company's sync settings decide what a weekly run imports."""
    on = {
        "customer": settings.sync_customers,
        "item": settings.sync_items,
        "invoice": settings.sync_invoices,
        "payment": settings.sync_invoices,
    }
    return [k for k in KINDS if k in offered and on[k]]


def stable_id(prefix: str, provider: str, provider_id: str, created: dt.datetime | None, extra: str = "") -> str:
    """BlueClerk's id for a record created from a provider record: same shape as ``new_id`` (time-ordered by the
    provider's creation time) but derived from the provider record, so a second create of it fails its condition."""
    ms = int(created.timestamp() * 1000) if created else 0
    digest = hashlib.sha256(f"{provider}:{provider_id}:{extra}".encode()).hexdigest()[:10]
    return f"{prefix}_{ms:013x}{digest}"


def _digest(*parts: Any) -> str:
    raw = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _addr(a: Address | None) -> dict[str, Any] | None:
    if a is None:
        return None
    data = {k: v for k, v in a.model_dump(by_alias=False).items() if v}
    return data or None


# ---- per-invocation state ------------------------------------------------------------------------------------------
@dataclass
class _Run:
    company_id: str
    provider: str
    run: ImportRun
    conn: Connection
    lock: threading.Lock = field(default_factory=threading.Lock)
    customers: dict[str, dict[str, list[Customer]]] | None = None
    items: dict[str, dict[str, list[Item]]] | None = None
    invoices: dict[str, str] | None = None  # provider id -> BlueClerk id of linked invoices
    payments: dict[str, list[Payment]] | None = None  # BlueClerk invoice id -> its payments (bulk pages only)
    pending: dict[tuple[str, str], Link] = field(default_factory=dict)  # links written in one batch per kind
    page_counts: dict[str, KindCounts] = field(default_factory=dict)
    page_errors: list[RunError] = field(default_factory=list)
    by_class: dict[str, int] = field(default_factory=dict)
    names_refreshed: bool = False  # the item name index was re-read for lines that name their item

    def count(self, kind: str, what: str, n: int = 1) -> None:
        with self.lock:
            c = self.page_counts.setdefault(kind, KindCounts())
            setattr(c, what, getattr(c, what) + n)

    def error(self, kind: str, code: str, message: str, provider_id: str | None) -> None:
        self.count(kind, "errors")
        with self.lock:
            self.page_errors.append(
                RunError(code=code, message=message, entity_type=kind, provider_id=provider_id, at=utcnow())
            )

    def classed(self, kind: str) -> None:
        with self.lock:
            self.by_class[kind] = self.by_class.get(kind, 0) + 1


@dataclass
class ImportService:
    store: ImportStore
    connections: Connections
    tokens: Tokens
    source_for: Callable[[str], ImportSource]
    history: History
    notifier: Notifier
    requeue: Requeue | None = None
    queue: SyncQueue | None = None  # pushes BlueClerk's copy when it is newer than the books'
    overlap: dt.timedelta = dt.timedelta(minutes=10)  # re-read this much before the watermark (clock skew)
    margin_ms: int = 10_000  # stop this long before the Lambda limit (or twice the slowest page, if longer)
    workers: int = 8
    max_attempts: int = 4
    backoff_cap: float = 8.0
    sleep: Callable[[float], None] = time.sleep
    monotonic: Callable[[], float] = time.monotonic

    # ---- entry points ---------------------------------------------------------------------------------------------
    def run(
        self,
        company_id: str,
        provider: str,
        run_id: str,
        *,
        trigger: str = "weekly",
        kinds: Sequence[Kind] | None = None,
        remaining_ms: Callable[[], int] | None = None,
    ) -> ImportRun:
        """Run (or resume) one import run. Returns the run as stored; ``status`` ``running`` means it stopped for
        time and was re-enqueued. Raises the provider's retryable errors (the queue retries; the run resumes)."""
        conn = self.connections.get(company_id, provider)
        source = self.source_for(provider)
        state = self.store.state(company_id, provider)
        now = utcnow()
        wanted = list(kinds) if kinds is not None else enabled_kinds(conn.settings, source.kinds)
        since = None
        if trigger == "weekly" and state.watermark is not None and set(wanted) <= set(state.watermark_kinds):
            since = state.watermark - self.overlap
        run = self.store.start_run(
            company_id,
            ImportRun(
                run_id=run_id,
                provider=provider,
                trigger=trigger,
                kinds=list(wanted),
                since=since,
                started_at=now,
                updated_at=now,
            ),
        )
        if run.status != RunStatus.RUNNING:
            logger.info("import run already finished", run_id=run_id, status=run.status.value)
            return run
        if conn.status != ConnectionStatus.CONNECTED or not run.kinds:
            why = "nothing to import (sync settings)" if conn.status == ConnectionStatus.CONNECTED else conn.status
            return self._finish(company_id, run, state, RunStatus.SKIPPED, reason=str(why))
        ctx = _Run(company_id, provider, run, conn)
        started = self.monotonic()
        remaining = remaining_ms or REMAINING_MS.get()
        slowest = 0.0
        try:
            session = self._session(company_id, conn)
            while True:
                if remaining is not None and remaining() < max(self.margin_ms, 2 * slowest * 1000):
                    return self._pause(ctx, state, started)
                t0 = self.monotonic()
                page = self._read(source, session, ctx.run)
                self._apply(ctx, page)
                slowest = max(slowest, self.monotonic() - t0)
                if not self._checkpoint(ctx, state, page, started):
                    logger.warning("import run advanced by another worker; stopping", run_id=run_id)
                    return run
                started = self.monotonic()
                if page.next_cursor is None:
                    return self._complete(ctx, state)
        except AppError as exc:  # needs_reauth / not_connected from the token manager: a person must reconnect
            if exc.code in ("needs_reauth", "not_connected"):
                return self._fail(ctx, state, exc.code, exc.message, started)
            raise
        except Unauthorized as exc:  # refused even with a fresh token: the same one notification as a dead token
            name = PROVIDER_DISPLAY_NAMES.get(provider, provider)
            self.notifier.notify(
                company_id,
                code="needs_reauth",
                message=f"{name} refused BlueClerk's access. Reconnect {name} in Settings > Integrations to resume "
                "syncing; nothing already synced is lost.",
                provider=provider,
                entity_type="connection",
                entity_id=provider,
            )
            return self._fail(ctx, state, "needs_reauth", exc.message, started)
        except ProviderError as exc:
            if exc.retryable:
                self._note(ctx, state, exc.code, exc.message, started)
                raise  # the queue retries; the run resumes at its checkpoint
            return self._fail(ctx, state, "import_failed", exc.message, started, notify=True)

    def import_customers(
        self, company_id: str, provider: str, run_id: str, remaining_ms: Callable[[], int] | None
    ) -> ImportRun:
        """Every customer of the books (all pages), classified. Re-running it changes nothing that did not change."""
        return self.run(company_id, provider, run_id, trigger="manual", kinds=["customer"], remaining_ms=remaining_ms)

    def status(self, company_id: str, provider: str) -> ImportStatus | None:
        return self.store.state(company_id, provider).last_import

    # ---- the loop -------------------------------------------------------------------------------------------------
    def _session(self, company_id: str, conn: Connection) -> Session:
        tokens = self.tokens.access_token(company_id, conn.provider)

        def on_unauthorized(rejected: str) -> str:
            return str(self.tokens.rejected(company_id, conn.provider, rejected).access_token)

        return Session(
            tenant_id=conn.tenant_id or "", access_token=tokens.access_token, on_unauthorized=on_unauthorized
        )

    def _read(self, source: ImportSource, session: Session, run: ImportRun) -> ImportPage:
        attempt = 0
        while True:
            attempt += 1
            try:
                return source.read(session, run.kinds, run.since, run.cursor)  # type: ignore[arg-type]
            except ProviderError as exc:
                if not exc.retryable or attempt >= self.max_attempts:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else min(self.backoff_cap, 0.2 * 2**attempt)
                if wait > self.backoff_cap * 4:
                    raise  # e.g. QuickBooks' 60 s throttle: the queue retries later, the run resumes
                self.sleep(wait)

    def _checkpoint(self, ctx: _Run, state: ImportState, page: ImportPage, started: float) -> bool:
        run = ctx.run
        expected = run.seq
        counts = dict(run.counts)
        for kind, c in ctx.page_counts.items():
            counts[kind] = counts.get(kind, KindCounts()).add(c)
        by_class = dict(run.by_class)
        for k, n in ctx.by_class.items():
            by_class[k] = by_class.get(k, 0) + n
        errors = (run.errors + ctx.page_errors)[-MAX_RUN_ERRORS:]
        updated = run.model_copy(
            update={
                "cursor": page.next_cursor,
                "pages": run.pages + 1,
                "calls": run.calls + page.calls,
                "counts": counts,
                "by_class": by_class,
                "errors": errors,
                "error_count": run.error_count + len(ctx.page_errors),
                "watermark": run.watermark or page.provider_time or utcnow(),
                "duration_ms": run.duration_ms + int((self.monotonic() - started) * 1000),
                "updated_at": utcnow(),
                "seq": expected + 1,
            }
        )
        if not self.store.save_run(ctx.company_id, updated, expected, state):
            return False
        ctx.run = updated
        ctx.page_counts, ctx.page_errors, ctx.by_class = {}, [], {}
        logger.info("import page done", run_id=run.run_id, page=updated.pages, label=page.label, records=page.size())
        return True

    def _complete(self, ctx: _Run, state: ImportState) -> ImportRun:
        run = ctx.run
        if run.trigger == "weekly" and run.watermark is not None:
            self.store.advance_watermark(ctx.company_id, ctx.provider, run.watermark, run.kinds)
            state.watermark, state.watermark_kinds = run.watermark, list(run.kinds)
        state.last_success_at = utcnow()
        update: dict[str, Any] = {
            "status": RunStatus.SUCCEEDED,
            "finished_at": utcnow(),
            "updated_at": utcnow(),
            "seq": run.seq + 1,
        }
        if "customer" in run.kinds:  # the classes as they ended up (a job's class follows its parent's)
            update["by_class"] = self.store.class_counts(ctx.company_id, ctx.provider)
        done = run.model_copy(update=update)
        self.store.save_run(ctx.company_id, done, run.seq, state)
        t = done.totals()
        logger.info(
            "import run finished",
            run_id=done.run_id,
            pages=done.pages,
            calls=done.calls,
            counts=t.model_dump(exclude_defaults=True),  # ("created" is a LogRecord attribute: nest them)
        )
        return done

    def _pause(self, ctx: _Run, state: ImportState, started: float) -> ImportRun:
        run = ctx.run
        paused = run.model_copy(
            update={
                "invocations": run.invocations + 1,
                "duration_ms": run.duration_ms + int((self.monotonic() - started) * 1000),
                "updated_at": utcnow(),
                "seq": run.seq + 1,
            }
        )
        if not self.store.save_run(ctx.company_id, paused, run.seq, state):
            return run
        if self.requeue is not None:
            self.requeue(ctx.company_id, ctx.provider, run.run_id, paused.seq)
        logger.info("import run paused before the time limit; continues in a new invocation", run_id=run.run_id)
        return paused

    def _note(self, ctx: _Run, state: ImportState, code: str, message: str, started: float) -> None:
        """A retryable failure: keep the checkpoint, record the error for the health screen."""
        run = ctx.run
        err = RunError(code=code, message=message, at=utcnow())
        noted = run.model_copy(
            update={
                "last_error": code,
                "errors": ([*run.errors, err])[-MAX_RUN_ERRORS:],
                "error_count": run.error_count + 1,
                "duration_ms": run.duration_ms + int((self.monotonic() - started) * 1000),
                "updated_at": utcnow(),
                "seq": run.seq + 1,
            }
        )
        if self.store.save_run(ctx.company_id, noted, run.seq, state):
            ctx.run = noted

    def _fail(
        self, ctx: _Run, state: ImportState, code: str, message: str, started: float, notify: bool = False
    ) -> ImportRun:
        if notify:  # needs_reauth is notified once per connection by the token manager, never here
            name = PROVIDER_DISPLAY_NAMES.get(ctx.provider, ctx.provider)
            self.notifier.notify(
                ctx.company_id,
                code=code,
                message=f"The import from {name} stopped: {message} It will run again next week; if this repeats, "
                "contact support.",
                provider=ctx.provider,
                entity_type="import",
                entity_id=ctx.provider,
            )
        ctx.run = ctx.run.model_copy(
            update={
                "errors": ([*ctx.run.errors, RunError(code=code, message=message, at=utcnow())])[-MAX_RUN_ERRORS:],
                "error_count": ctx.run.error_count + 1,
                "duration_ms": ctx.run.duration_ms + int((self.monotonic() - started) * 1000),
            }
        )
        return self._finish(ctx.company_id, ctx.run, state, RunStatus.FAILED, reason=code)

    def _finish(self, company_id: str, run: ImportRun, state: ImportState, status: RunStatus, reason: str) -> ImportRun:
        done = run.model_copy(
            update={
                "status": status,
                "last_error": reason if status != RunStatus.SUCCEEDED else None,
                "finished_at": utcnow(),
                "updated_at": utcnow(),
                "seq": run.seq + 1,
            }
        )
        self.store.save_run(company_id, done, run.seq, state)
        logger.info("import run ended", run_id=run.run_id, status=status.value, reason=reason)
        return done

    # ---- applying a page ------------------------------------------------------------------------------------------
    def _apply(self, ctx: _Run, page: ImportPage) -> None:
        """Kind after kind (invoices need their customers and items); each kind's links stored before the next."""
        steps: list[tuple[list[Any], Callable[[_Run, Any], None]]] = [
            (page.customers, self._customers),
            (page.items, self._items),
            (page.invoices, self._invoices),
            (page.payments, self._payments),
        ]
        for records, handler in steps:
            if records:
                handler(ctx, records)
                self._flush_links(ctx)
        if page.deleted:
            self._deleted(ctx, page.deleted)

    def _link(self, ctx: _Run, kind: str, provider_id: str, link: Link, links: dict[str, Link] | None = None) -> None:
        """Remember what a provider record became; written with the kind's batch (``_flush_links``)."""
        with ctx.lock:
            ctx.pending[(kind, provider_id)] = link
            if links is not None:
                links[provider_id] = link

    def _flush_links(self, ctx: _Run) -> None:
        if ctx.pending:
            pending, ctx.pending = ctx.pending, {}
            self.store.put_links(ctx.company_id, ctx.provider, pending)

    def _parallel(self, groups: list[list[T]], fn: Callable[[T], None]) -> None:
        """Run groups concurrently, each group's records in order (records of one group touch the same rows)."""

        def work(group: list[T]) -> None:
            for record in group:
                fn(record)

        if self.workers <= 1 or len(groups) <= 1:
            for g in groups:
                work(g)
            return
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for f in [pool.submit(work, g) for g in groups]:
                f.result()  # re-raise the first failure

    def _conflict(self, ctx: _Run, kind: str, entity_id: str, provider_id: str, why: str) -> None:
        ctx.count(kind, "conflicts")
        self.history.add(
            ctx.company_id,
            entity_type=kind,
            entity_id=entity_id,
            provider=ctx.provider,
            action="import",
            result="kept_local",
            provider_id=provider_id,
            error=SyncError(code="import_conflict", message=why, provider=ctx.provider, at=utcnow()),
        )

    def _recorded(self, ctx: _Run, kind: str, entity_id: str, provider_id: str, action: str) -> None:
        ctx.count(kind, action)
        self.history.add(
            ctx.company_id,
            entity_type=kind,
            entity_id=entity_id,
            provider=ctx.provider,
            action=f"import_{action}",
            result="imported",
            provider_id=provider_id,
        )

    def _push_later(self, ctx: _Run, kind: str, entity_id: str, version: int) -> None:
        enabled = ctx.conn.settings.sync_customers if kind == "customer" else ctx.conn.settings.sync_items
        if self.queue is not None and enabled:
            self.queue.enqueue_entity(ctx.company_id, kind, entity_id, dedupe=f"{kind}#{entity_id}#{version}#import")

    # ---- customers ------------------------------------------------------------------------------------------------
    def _customer_index(self, ctx: _Run) -> dict[str, dict[str, list[Customer]]]:
        with ctx.lock:
            if ctx.customers is None:
                idx: dict[str, dict[str, list[Customer]]] = {"pid": {}, "name": {}, "email": {}}
                for c in sorted(self.store.customer_index(ctx.company_id), key=lambda c: c.id):
                    if pid := c.provider_ids.get(ctx.provider):
                        idx["pid"].setdefault(pid, []).append(c)
                    idx["name"].setdefault(c.name.casefold(), []).append(c)
                    if c.email:
                        idx["email"].setdefault(c.email.casefold(), []).append(c)
                ctx.customers = idx
            return ctx.customers

    def _match(
        self, ctx: _Run, index: dict[str, dict[str, list[T]]], pid: str, keys: list[tuple[str, str]]
    ) -> T | None:
        """A BlueClerk record for provider record ``pid``: by provider id, else the first natural key that names
        exactly one record not linked to another provider record."""
        with ctx.lock:
            found = index["pid"].get(pid)
            if found:
                return found[0]
            for key, value in keys:
                if not value:
                    continue
                free = [
                    e
                    for e in index[key].get(value.casefold(), [])
                    if getattr(e, "provider_ids", {}).get(ctx.provider) in (None, pid)
                ]
                if len(free) == 1 or (free and key == "name"):
                    chosen = free[0]  # names: the oldest record (ids are time-ordered)
                    chosen.provider_ids[ctx.provider] = pid  # type: ignore[attr-defined]  # claimed for this run
                    index["pid"].setdefault(pid, []).append(chosen)
                    return chosen
            return None

    def _customers(self, ctx: _Run, records: list[ImportedCustomer]) -> None:
        pids = [r.provider_id for r in records]
        parents = {r.parent_id for r in records if r.parent_id}
        links = self.store.links(ctx.company_id, ctx.provider, "customer", [*pids, *parents])
        ids = set(pids)
        # a job is processed after its parent when both are on this page (same group, parent first)
        roots: dict[str, list[ImportedCustomer]] = {}
        by_id = {r.provider_id: r for r in records}

        def root(r: ImportedCustomer) -> str:
            """The group: the top ancestor on this page, or the parent off the page (siblings stay together)."""
            seen = set()
            while r.parent_id and r.parent_id in ids and r.provider_id not in seen:
                seen.add(r.provider_id)
                r = by_id[r.parent_id]
            return r.parent_id or r.provider_id

        def depth(r: ImportedCustomer) -> int:
            d, seen = 0, set()
            while r.parent_id and r.parent_id in ids and r.provider_id not in seen:
                seen.add(r.provider_id)
                r, d = by_id[r.parent_id], d + 1
            return d

        for r in sorted(records, key=depth):
            roots.setdefault(root(r), []).append(r)
        ctx.count("customer", "read", len(records))
        self._parallel(list(roots.values()), lambda r: self._customer(ctx, r, links))

    def _facts(self, r: ImportedCustomer, link: Link | None, parent: Link | None) -> CustomerFacts:
        own = location_key(r.shipping_address) or location_key(r.billing_address)
        places = set(link.child_locations) if link else set()
        if own:
            places.add(own)
        return CustomerFacts(
            name=r.name,
            company_name=r.company_name,
            given_name=r.given_name,
            family_name=r.family_name,
            email=r.email,
            billing_address=r.billing_address,
            shipping_address=r.shipping_address,
            customer_type=r.customer_type,
            is_job=bool(r.parent_id),
            parent_name=r.parent_name,
            parent_class=parent.classification if parent else None,
            locations=len(places),
        )

    @staticmethod
    def _customer_fields(r: ImportedCustomer) -> dict[str, Any]:
        return {
            "name": r.name,
            "company_name": r.company_name,
            "given_name": r.given_name,
            "family_name": r.family_name,
            "email": r.email,
            "phone": r.phone,
            "billing_address": r.billing_address,
            "shipping_address": r.shipping_address,
        }

    @staticmethod
    def _same_customer(local: Customer, fields: dict[str, Any]) -> bool:
        for key, value in fields.items():
            current = getattr(local, key)
            if key.endswith("_address"):
                if _addr(current) != _addr(value):
                    return False
            elif (current or None) != (value or None):
                return False
        return True

    def _customer(self, ctx: _Run, r: ImportedCustomer, links: dict[str, Link]) -> None:
        try:
            self._upsert_customer(ctx, r, links)
        except AppError as exc:
            ctx.error("customer", exc.code, exc.message, r.provider_id)

    def _upsert_customer(self, ctx: _Run, r: ImportedCustomer, links: dict[str, Link]) -> None:
        company, provider, pid = ctx.company_id, ctx.provider, r.provider_id
        link = links.get(pid)
        parent = links.get(r.parent_id) if r.parent_id else None
        facts = self._facts(r, link, parent)
        result = classify(facts)
        fields = self._customer_fields(r)
        digest = _digest(fields, r.parent_id, result.kind, result.rule, result.evidence)
        location = location_key(r.shipping_address) or location_key(r.billing_address)
        if link and link.entity_id and link.digest == digest:
            ctx.count("customer", "unchanged")
            ctx.classed(link.classification or result.kind)
            return
        local = self._local_customer(ctx, r, link)
        now = utcnow()
        if local is None:
            customer = Customer(
                id=stable_id("cus", provider, pid, r.created_at),
                classification=result.kind,
                classification_reason=result.reason,
                provider_ids={provider: pid},
                created_at=now,
                updated_at=r.updated_at or now,
                version=0,
                pushed_version=0,
                **fields,
            )
            if self.store.create_entity(company, "customer", customer, provider, pid):
                ctx.count("customer", "created")
                self._after_customer(ctx, r, customer.id, result, result.kind, digest, location, links)
                return
            local = self._reread(ctx, "customer", customer.id)
            if local is None:
                ctx.error("customer", "import_race", "The customer changed while importing; next run retries.", pid)
                return
        c: Customer = local.entity
        effective = c.classification_override if c.classification_override in CLASSES else result.kind
        if self._unpushed(c, local.claimed):
            self._ensure_classified(ctx, c, result)
            self._conflict(ctx, "customer", c.id, pid, self._kept_why(local.claimed))
            self._after_customer(ctx, r, c.id, result, effective, digest, location, links)
            return
        linked = c.provider_ids.get(provider) == pid and c.pushed_version is not None
        if not linked and c.pushed_version is None and r.updated_at and c.updated_at > r.updated_at:
            # matched by name, never pushed, edited in BlueClerk after the books' copy: BlueClerk's copy is newer
            if self.store.link_entity(company, "customer", c.id, provider, pid, pushed_version=-1):
                self._ensure_classified(ctx, c, result)
                self._conflict(
                    ctx, "customer", c.id, pid, "BlueClerk's copy is newer than the books'; kept and queued."
                )
                self._push_later(ctx, "customer", c.id, c.version)
                self._after_customer(ctx, r, c.id, result, effective, digest, location, links)
            else:
                self._conflict(ctx, "customer", c.id, pid, "The customer changed in BlueClerk while importing; kept.")
            return
        same = self._same_customer(c, fields) and c.provider_ids.get(provider) == pid
        classification_same = c.classification_override in CLASSES or (
            c.classification == result.kind and c.classification_reason == result.reason
        )
        if same and linked:
            if not classification_same:
                self.store.set_classification(company, c.id, result.kind, result.reason)
                ctx.count("customer", "updated")
            else:
                ctx.count("customer", "unchanged")
            self._after_customer(ctx, r, c.id, result, effective, digest, location, links)
            return
        update: dict[str, Any] = {**fields, "updated_at": now}
        if c.classification_override not in CLASSES:
            update |= {"classification": result.kind, "classification_reason": result.reason}
        outcome = self.store.update_entity(company, "customer", c.model_copy(update=update), c.version, provider, pid)
        if outcome != "ok":
            self._conflict(ctx, "customer", c.id, pid, "The customer changed in BlueClerk while importing; kept.")
            return
        self._recorded(ctx, "customer", c.id, pid, "linked" if not linked else "updated")
        self._after_customer(ctx, r, c.id, result, effective, digest, location, links)

    def _local_customer(self, ctx: _Run, r: ImportedCustomer, link: Link | None) -> Local | None:
        if link and link.entity_id:
            found = self.store.get_entity(ctx.company_id, "customer", link.entity_id)
            if found is not None:
                return found
        match = self._match(ctx, self._customer_index(ctx), r.provider_id, [("name", r.name), ("email", r.email or "")])
        return self.store.get_entity(ctx.company_id, "customer", match.id) if match is not None else None

    def _reread(self, ctx: _Run, kind: str, entity_id: str) -> Local | None:
        return self.store.get_entity(ctx.company_id, kind, entity_id)

    @staticmethod
    def _unpushed(entity: Any, claimed: bool) -> bool:
        return claimed or (entity.pushed_version is not None and entity.pushed_version != entity.version)

    @staticmethod
    def _kept_why(claimed: bool) -> str:
        if claimed:
            return "A push to the books holds this record right now; BlueClerk's version is kept."
        return "A change made in BlueClerk is not in the books yet; BlueClerk's version is kept and will be pushed."

    def _ensure_classified(self, ctx: _Run, c: Customer, result: Classification) -> None:
        if c.classification_override in CLASSES:
            return
        if c.classification != result.kind or c.classification_reason != result.reason:
            self.store.set_classification(ctx.company_id, c.id, result.kind, result.reason)

    def _after_customer(
        self,
        ctx: _Run,
        r: ImportedCustomer,
        entity_id: str,
        result: Classification,
        effective: str,
        digest: str,
        location: str | None,
        links: dict[str, Link],
    ) -> None:
        link = links.get(r.provider_id)
        previous = link.classification if link else None
        new = replace(
            link or Link(),
            entity_id=entity_id,
            digest=digest,
            classification=effective,
            rule=result.rule,
            parent_id=r.parent_id,
            location=location,
        )
        self._link(ctx, "customer", r.provider_id, new, links)  # later records of this group (its jobs) see it
        ctx.classed(effective)
        if r.parent_id:
            fresh = self.store.add_child(ctx.company_id, ctx.provider, r.parent_id, r.provider_id, location)
            with ctx.lock:  # the parent's own link may be waiting in the batch: give it the new job sets
                waiting = ctx.pending.get(("customer", r.parent_id))
                parent = (
                    replace(waiting, child_locations=fresh.child_locations, children=fresh.children)
                    if waiting is not None
                    else fresh
                )
                if waiting is not None:
                    ctx.pending[("customer", r.parent_id)] = parent
                links[r.parent_id] = parent
            self._reclassify_parent(ctx, r.parent_id, parent, links)
        if previous is not None and previous != effective and new.children:
            self._reconcile_children(ctx, r.name, effective, new.children, links)

    def _reclassify_parent(self, ctx: _Run, parent_id: str, parent: Link, links: dict[str, Link]) -> None:
        """A job at a new address may make its parent a multi-location customer (rule ``multiple_locations``)."""
        places = set(parent.child_locations) | ({parent.location} if parent.location else set())
        rule_rank = _RULE_ORDER.get(parent.rule or "default", len(_RULE_ORDER))
        if not parent.entity_id or len(places) < 2 or rule_rank <= _RULE_ORDER["multiple_locations"]:
            return
        local = self.store.get_entity(ctx.company_id, "customer", parent.entity_id)
        if local is None:
            return
        c: Customer = local.entity
        result = classify(
            CustomerFacts(
                name=c.name,
                company_name=c.company_name,
                given_name=c.given_name,
                family_name=c.family_name,
                email=c.email,
                billing_address=c.billing_address,
                shipping_address=c.shipping_address,
                locations=len(places),
            )
        )
        effective = c.classification_override if c.classification_override in CLASSES else result.kind
        if c.classification_override not in CLASSES and c.classification != result.kind:
            self.store.set_classification(ctx.company_id, c.id, result.kind, result.reason)
        # digest=None: the next run that reads the parent re-checks it (and finds it unchanged)
        updated = replace(parent, classification=effective, rule=result.rule, digest=None)
        self._link(ctx, "customer", parent_id, updated, links)
        if effective != parent.classification:
            self._reconcile_children(ctx, c.name, effective, parent.children, links)

    def _reconcile_children(
        self, ctx: _Run, parent_name: str, kind: str, children: set[str], links: dict[str, Link]
    ) -> None:
        """Jobs take their parent's class: when the parent's class changes, so do theirs (overrides excepted). The
        reason is the one a fresh classification of the job gives, so a later run finds nothing to change."""
        known = {c: links[c] for c in children if c in links}
        unknown = sorted(c for c in children if c not in links)
        if unknown:
            known.update(self.store.links(ctx.company_id, ctx.provider, "customer", unknown))
        for child_id, link in sorted(known.items()):
            if not link.entity_id or link.classification == kind:
                continue
            local = self.store.get_entity(ctx.company_id, "customer", link.entity_id)
            if local is None:
                continue
            child: Customer = local.entity
            result = classify(CustomerFacts(name=child.name, is_job=True, parent_name=parent_name, parent_class=kind))
            effective = child.classification_override if child.classification_override in CLASSES else result.kind
            if child.classification_override not in CLASSES:
                self.store.set_classification(ctx.company_id, child.id, result.kind, result.reason)
            self._link(
                ctx, "customer", child_id, replace(link, classification=effective, rule=result.rule, digest=None), links
            )

    # ---- items ----------------------------------------------------------------------------------------------------
    def _item_index(self, ctx: _Run) -> dict[str, dict[str, list[Item]]]:
        with ctx.lock:
            if ctx.items is None:
                idx: dict[str, dict[str, list[Item]]] = {"pid": {}, "name": {}, "sku": {}}
                for i in sorted(self.store.item_index(ctx.company_id), key=lambda i: i.id):
                    if pid := i.provider_ids.get(ctx.provider):
                        idx["pid"].setdefault(pid, []).append(i)
                    idx["name"].setdefault(i.name.casefold(), []).append(i)
                    if i.sku:
                        idx["sku"].setdefault(i.sku.casefold(), []).append(i)
                ctx.items = idx
            return ctx.items

    def _items(self, ctx: _Run, records: list[ImportedItem]) -> None:
        links = self.store.links(ctx.company_id, ctx.provider, "item", [r.provider_id for r in records])
        ctx.count("item", "read", len(records))
        self._parallel([[r] for r in records], lambda r: self._item(ctx, r, links))
        # An imported item keeps posting to its own income account when BlueClerk later pushes it or invoices it:
        # record that account in the company's account mapping (a mapping the user already chose is kept).
        accounts = {
            link.entity_id: r.income_account_id
            for r in records
            if r.income_account_id and (link := ctx.pending.get(("item", r.provider_id))) is not None and link.entity_id
        }
        if accounts:
            self.store.add_item_accounts(ctx.company_id, ctx.provider, accounts)

    def _item(self, ctx: _Run, r: ImportedItem, links: dict[str, Link]) -> None:
        try:
            self._upsert_item(ctx, r, links)
        except AppError as exc:
            ctx.error("item", exc.code, exc.message, r.provider_id)

    def _upsert_item(self, ctx: _Run, r: ImportedItem, links: dict[str, Link]) -> None:
        company, provider, pid = ctx.company_id, ctx.provider, r.provider_id
        fields = {"name": r.name, "description": r.description, "price": r.price, "sku": r.sku}
        digest = _digest(fields)
        link = links.get(pid)
        if link and link.entity_id and link.digest == digest:
            ctx.count("item", "unchanged")
            return
        local = None
        if link and link.entity_id:
            local = self.store.get_entity(company, "item", link.entity_id)
        if local is None:
            match = self._match(ctx, self._item_index(ctx), pid, [("name", r.name), ("sku", r.sku or "")])
            local = self.store.get_entity(company, "item", match.id) if match is not None else None
        now = utcnow()
        if local is None:
            item = Item(
                id=stable_id("itm", provider, pid, r.created_at),
                provider_ids={provider: pid},
                created_at=now,
                updated_at=r.updated_at or now,
                version=0,
                pushed_version=0,
                **fields,
            )
            if self.store.create_entity(company, "item", item, provider, pid):
                ctx.count("item", "created")
                self._link(ctx, "item", pid, Link(entity_id=item.id, digest=digest))
                return
            local = self._reread(ctx, "item", item.id)
            if local is None:
                ctx.error("item", "import_race", "The item changed while importing; next run retries.", pid)
                return
        i: Item = local.entity
        done = Link(entity_id=i.id, digest=digest)
        if self._unpushed(i, local.claimed):
            self._conflict(ctx, "item", i.id, pid, self._kept_why(local.claimed))
            self._link(ctx, "item", pid, done)
            return
        linked = i.provider_ids.get(provider) == pid and i.pushed_version is not None
        if not linked and i.pushed_version is None and r.updated_at and i.updated_at > r.updated_at:
            if self.store.link_entity(company, "item", i.id, provider, pid, pushed_version=-1):
                self._conflict(ctx, "item", i.id, pid, "BlueClerk's copy is newer than the books'; kept and queued.")
                self._push_later(ctx, "item", i.id, i.version)
                self._link(ctx, "item", pid, done)
            else:
                self._conflict(ctx, "item", i.id, pid, "The item changed in BlueClerk while importing; kept.")
            return
        same = (i.name, i.description or None, i.price, i.sku or None) == (
            r.name,
            r.description or None,
            r.price,
            r.sku or None,
        )
        if same and linked:
            ctx.count("item", "unchanged")
            self._link(ctx, "item", pid, done)
            return
        outcome = self.store.update_entity(
            company, "item", i.model_copy(update={**fields, "updated_at": now}), i.version, provider, pid
        )
        if outcome != "ok":
            self._conflict(ctx, "item", i.id, pid, "The item changed in BlueClerk while importing; kept.")
            return
        self._recorded(ctx, "item", i.id, pid, "linked" if not linked else "updated")
        self._link(ctx, "item", pid, done)

    # ---- invoices -------------------------------------------------------------------------------------------------
    def _resolve(self, ctx: _Run, kind: str, provider_ids: Iterable[str]) -> dict[str, str]:
        """provider id -> BlueClerk id, from the links, else from the records' own provider ids (records the sync
        engine pushed carry the provider id but no link)."""
        wanted = sorted(set(provider_ids))
        out = {p: link.entity_id for p, link in self.store.links(ctx.company_id, ctx.provider, kind, wanted).items()}
        found = {p: e for p, e in out.items() if e}
        missing = [p for p in wanted if p not in found]
        if not missing:
            return found
        if kind == "invoice":
            with ctx.lock:
                if ctx.invoices is None:
                    ctx.invoices = self.store.invoice_index(ctx.company_id, ctx.provider)
                found.update({p: ctx.invoices[p] for p in missing if p in ctx.invoices})
            return found
        index = self._customer_index(ctx) if kind == "customer" else self._item_index(ctx)
        with ctx.lock:
            for p in missing:
                rows = index["pid"].get(p)
                if rows:
                    found[p] = rows[0].id
        return found

    def _invoices(self, ctx: _Run, records: list[ImportedInvoice]) -> None:
        links = self.store.links(ctx.company_id, ctx.provider, "invoice", [r.provider_id for r in records])
        customers = self._resolve(ctx, "customer", [r.customer_id for r in records])
        items = self._resolve(ctx, "item", [ln.item_id for r in records for ln in r.lines if not ln.item_name])
        named = {ln.item_id: ln.item_name for r in records for ln in r.lines if ln.item_name}
        if named:
            items.update(self._items_by_name(ctx, named))
        ctx.count("invoice", "read", len(records))
        self._parallel([[r] for r in records], lambda r: self._invoice(ctx, r, links, customers, items))

    def _items_by_name(self, ctx: _Run, named: dict[str, str]) -> dict[str, str]:
        """Lines that only name their item (``ImportedLine.item_name``): BlueClerk's item of that name, preferring
        one linked to this provider, else the oldest. The name index is re-read once per invocation on a miss (items
        this run created are not in it yet)."""
        found: dict[str, str] = {}
        for attempt in (1, 2):
            index = self._item_index(ctx)
            with ctx.lock:
                for key, item_name in named.items():
                    by_name = index["name"]
                    rows = by_name.get(item_name.casefold()) or by_name.get(item_name.strip().casefold()) or []
                    rows = sorted(rows, key=lambda i: (ctx.provider not in i.provider_ids, i.id))
                    if rows:
                        found[key] = rows[0].id
                if len(found) == len(named) or attempt == 2 or ctx.names_refreshed:
                    return found
                ctx.names_refreshed, ctx.items = True, None
        return found

    def _invoice(
        self, ctx: _Run, r: ImportedInvoice, links: dict[str, Link], customers: dict[str, str], items: dict[str, str]
    ) -> None:
        try:
            self._upsert_invoice(ctx, r, links, customers, items)
        except AppError as exc:
            ctx.error("invoice", exc.code, exc.message, r.provider_id)

    def _local_invoice(self, ctx: _Run, r: ImportedInvoice, link: Link | None) -> Local | None:
        company = ctx.company_id
        if link and link.entity_id and (found := self.store.get_entity(company, "invoice", link.entity_id)):
            return found
        candidates: list[str] = []
        if r.marker and "BlueClerk invoice " in r.marker:
            candidates.append(r.marker.split("BlueClerk invoice ", 1)[1].split()[0])
        if r.number and (by_number := self.store.invoice_id_by_number(company, r.number)):
            candidates.append(by_number)
        for invoice_id in candidates:
            found = self.store.get_entity(company, "invoice", invoice_id)
            if found is not None and found.entity.provider_ids.get(ctx.provider) in (None, r.provider_id):
                return found
        return None

    def _upsert_invoice(
        self, ctx: _Run, r: ImportedInvoice, links: dict[str, Link], customers: dict[str, str], items: dict[str, str]
    ) -> None:
        company, provider, pid = ctx.company_id, ctx.provider, r.provider_id
        name = PROVIDER_DISPLAY_NAMES.get(provider, provider)
        digest = _digest(r.number, r.customer_id, r.lines, r.total, r.issue_date, r.due_date, r.voided, r.version)
        link = links.get(pid)
        if link and link.entity_id and link.digest == digest:
            ctx.count("invoice", "unchanged")
            return
        customer_id = customers.get(r.customer_id)
        if customer_id is None:
            ctx.error(
                "invoice",
                "customer_missing",
                f"Invoice {r.number or pid} from {name} names a customer that is not in BlueClerk; turn on customer "
                "sync (or import customers) and it is picked up next run.",
                pid,
            )
            return
        unknown = sorted({ln.item_id for ln in r.lines if ln.item_id not in items})
        if unknown:
            ctx.error(
                "invoice",
                "item_missing",
                f"Invoice {r.number or pid} from {name} uses items that are not in BlueClerk ({', '.join(unknown)}); "
                "turn on item sync and it is picked up next run.",
                pid,
            )
            return
        local = self._local_invoice(ctx, r, link)
        lines = [
            InvoiceLine(
                item_id=items[ln.item_id],
                description=ln.description,
                quantity=ln.quantity,
                unit_price=ln.unit_price,
                amount=ln.amount,
            )
            for ln in r.lines
        ]
        total = sum((ln.amount for ln in lines), Decimal(0))
        number = r.number or f"IMP-{pid}"
        now = utcnow()
        done = Link(entity_id=None, digest=digest)
        if local is None:
            invoice = Invoice(
                id=stable_id("inv", provider, pid, r.created_at),
                number=number,
                customer_id=customer_id,
                issue_date=r.issue_date,
                due_date=r.due_date,
                status=InvoiceStatus.VOID if r.voided else InvoiceStatus.SENT,
                lines=lines,
                total=total,
                provider_ids={provider: pid},
                provider_sync_tokens={provider: r.version} if r.version else {},
                sync_status=SyncStatus.SYNCED,
                last_synced_at=now,
                created_at=now,
                updated_at=r.updated_at or now,
                version=0,
            )
            if self.store.create_entity(company, "invoice", invoice, provider, pid):
                ctx.count("invoice", "created")
                self._link(ctx, "invoice", pid, replace(done, entity_id=invoice.id))
                return
            local = self._local_invoice(ctx, r, None) or self._reread(ctx, "invoice", invoice.id)
            if local is None:
                ctx.error(
                    "invoice",
                    "duplicate_invoice_number",
                    f"Invoice number {number} from {name} is already used by another BlueClerk invoice; renumber one "
                    "of them.",
                    pid,
                )
                return
        inv: Invoice = local.entity
        done = replace(done, entity_id=inv.id)
        linked = inv.provider_ids.get(provider) == pid
        if local.claimed or (linked and inv.sync_status in (SyncStatus.NOT_SYNCED, SyncStatus.FAILED)):
            self._conflict(ctx, "invoice", inv.id, pid, self._kept_why(local.claimed))
            self._link(ctx, "invoice", pid, done)
            return
        if not linked and r.updated_at and inv.updated_at > r.updated_at:
            if self.store.link_entity(company, "invoice", inv.id, provider, pid, sync_token=r.version):
                self._conflict(ctx, "invoice", inv.id, pid, "BlueClerk's copy is newer than the books'; kept.")
                self._link(ctx, "invoice", pid, done)
            else:
                self._conflict(ctx, "invoice", inv.id, pid, "The invoice changed in BlueClerk while importing; kept.")
            return
        paid = sum((p.amount for p in self.store.list_payments(company, inv.id)), Decimal(0))
        if total < paid:
            ctx.error(
                "invoice",
                "total_below_amount_paid",
                f"Invoice {number} in {name} now totals {total}, below the {paid} BlueClerk has recorded as paid; "
                "BlueClerk kept its version.",
                pid,
            )
            return
        status = (
            InvoiceStatus.VOID if r.voided else (InvoiceStatus.PAID if total and paid >= total else InvoiceStatus.SENT)
        )
        lines = [ln.model_copy(update={"description": self._line_text(ln, inv)}) for ln in lines]
        changes = {
            "number": number,
            "customer_id": customer_id,
            "issue_date": r.issue_date,
            "due_date": r.due_date,
            "lines": lines,
            "total": total,
            "status": status,
        }
        same = all(getattr(inv, k) == v for k, v in changes.items() if k != "lines") and [
            (ln.item_id, ln.quantity, ln.unit_price, ln.amount, ln.description or None) for ln in inv.lines
        ] == [(ln.item_id, ln.quantity, ln.unit_price, ln.amount, ln.description or None) for ln in lines]
        if same and linked and inv.provider_sync_tokens.get(provider) == r.version:
            ctx.count("invoice", "unchanged")
            self._link(ctx, "invoice", pid, done)
            return
        updated = inv.model_copy(update={**changes, "sync_status": SyncStatus.SYNCED, "updated_at": now})
        outcome = self.store.update_entity(
            company, "invoice", updated, inv.version, provider, pid, previous_number=inv.number, sync_token=r.version
        )
        if outcome == "duplicate_number":
            ctx.error(
                "invoice",
                "duplicate_invoice_number",
                f"Invoice number {number} from {name} is already used by another BlueClerk invoice.",
                pid,
            )
            return
        if outcome != "ok":
            self._conflict(ctx, "invoice", inv.id, pid, "The invoice changed in BlueClerk while importing; kept.")
            return
        self._recorded(ctx, "invoice", inv.id, pid, "linked" if not linked else "updated")
        self._link(ctx, "invoice", pid, done)

    @staticmethod
    def _line_text(line: InvoiceLine, current: Invoice) -> str | None:
        """Keep BlueClerk's empty description when the books only repeat what BlueClerk sent for it."""
        for old in current.lines:
            if old.item_id == line.item_id and not old.description and old.amount == line.amount:
                return None
        return line.description

    # ---- payments -------------------------------------------------------------------------------------------------
    def _payments(self, ctx: _Run, records: list[ImportedPayment]) -> None:
        invoices = self._resolve(ctx, "invoice", [a.invoice_id for r in records for a in r.applications])
        ctx.count("payment", "read", len(records))
        # one group per BlueClerk invoice: its payments touch its version, so they go one after another
        groups: dict[str, list[tuple[ImportedPayment, int]]] = {}
        for r in records:
            if r.voided or not r.applications:
                ctx.count("payment", "skipped")
                continue
            for n, a in enumerate(r.applications):
                groups.setdefault(invoices.get(a.invoice_id) or f"?{a.invoice_id}", []).append((r, n))
        known = [g for g in groups if not g.startswith("?")]
        read = self.store.get_entities(ctx.company_id, "invoice", known)  # one batch read, not one per payment
        if len(known) > 50:  # a bulk page: every payment of the company in a few reads, not one query per invoice
            with ctx.lock:
                if ctx.payments is None:
                    ctx.payments = self.store.all_payments(ctx.company_id)
        self._parallel(list(groups.values()), lambda job: self._payment(ctx, job[0], job[1], invoices, read))

    def _payment(self, ctx: _Run, r: ImportedPayment, n: int, invoices: dict[str, str], read: dict[str, Local]) -> None:
        try:
            self._upsert_payment(ctx, r, n, invoices, read)
        except AppError as exc:
            ctx.error("payment", exc.code, exc.message, r.provider_id)

    def _upsert_payment(
        self, ctx: _Run, r: ImportedPayment, n: int, invoices: dict[str, str], read: dict[str, Local]
    ) -> None:
        company, provider, pid = ctx.company_id, ctx.provider, r.provider_id
        application = r.applications[n]
        invoice_id = invoices.get(application.invoice_id)
        if invoice_id is None:
            ctx.count("payment", "skipped")  # applied to an invoice BlueClerk does not hold (settings, or older)
            return
        field_name = PAYMENT_PROVIDER_ID_FIELDS[provider]
        for attempt in range(3):
            local = read.get(invoice_id) if attempt == 0 else self.store.get_entity(company, "invoice", invoice_id)
            if local is None:
                ctx.count("payment", "skipped")
                return
            inv: Invoice = local.entity
            cached = ctx.payments.get(invoice_id, []) if ctx.payments is not None and attempt == 0 else None
            payments = list(cached) if cached is not None else self.store.list_payments(company, invoice_id)
            ours = None
            if r.marker and "BlueClerk payment " in r.marker:
                wanted = r.marker.split("BlueClerk payment ", 1)[1].split()[0]
                ours = next((p for p in payments if p.id == wanted), None)
            existing = next((p for p in payments if getattr(p, field_name) == pid), None) or ours
            paid_others = sum((p.amount for p in payments if existing is None or p.id != existing.id), Decimal(0))
            if paid_others + application.amount > inv.total:
                ctx.error(
                    "payment",
                    "payment_exceeds_balance",
                    f"A payment of {application.amount} from the books would over-pay invoice {inv.number} in "
                    f"BlueClerk (total {inv.total}, already paid {paid_others}); not imported.",
                    pid,
                )
                return
            status = inv.status
            if status == InvoiceStatus.SENT and paid_others + application.amount >= inv.total:
                status = InvoiceStatus.PAID
            if existing is not None:
                if getattr(existing, field_name) != pid:
                    if not self.store.link_payment(company, invoice_id, existing.id, provider, pid):
                        ctx.error("payment", "payment_linked_elsewhere", "Payment already linked elsewhere.", pid)
                        return
                    self._recorded(ctx, "payment", existing.id, pid, "linked")
                    return
                same = (existing.amount, existing.date, existing.reference or None) == (
                    application.amount,
                    r.date,
                    r.reference or None,
                )
                if same:
                    ctx.count("payment", "unchanged")
                    return
                changed = existing.model_copy(
                    update={"amount": application.amount, "date": r.date, "reference": r.reference}
                )
                if self.store.update_payment(company, invoice_id, inv.version, changed, status):
                    self._recorded(ctx, "payment", existing.id, pid, "updated")
                    self._wrote(ctx, read, inv, status, changed)
                    return
                continue  # the invoice changed meanwhile: read again
            payment = Payment(
                id=stable_id("pay", provider, pid, r.created_at, extra=application.invoice_id),
                invoice_id=invoice_id,
                amount=application.amount,
                method=PaymentMethod(r.method) if r.method in PaymentMethod._value2member_map_ else PaymentMethod.OTHER,
                date=r.date,
                reference=r.reference,
                created_at=r.created_at or utcnow(),
                **{field_name: pid},
            )
            if self.store.add_payment(company, invoice_id, inv.version, payment, status):
                ctx.count("payment", "created")
                self._wrote(ctx, read, inv, status, payment)
                return
        self._conflict(ctx, "payment", pid, pid, "The invoice kept changing in BlueClerk while importing; next run.")

    @staticmethod
    def _wrote(ctx: _Run, read: dict[str, Local], inv: Invoice, status: InvoiceStatus, payment: Payment) -> None:
        """Keep this run's copies current: the next payment of the same invoice (same group) checks against them."""
        read[inv.id] = Local(entity=inv.model_copy(update={"version": inv.version + 1, "status": status}))
        if ctx.payments is not None:
            with ctx.lock:
                rows = [p for p in ctx.payments.get(inv.id, []) if p.id != payment.id]
                ctx.payments[inv.id] = [*rows, payment]

    # ---- deletions ------------------------------------------------------------------------------------------------
    def _deleted(self, ctx: _Run, records: list[Deleted]) -> None:
        for kind in KINDS:
            pids = [d.provider_id for d in records if d.kind == kind]
            if not pids:
                continue
            for pid, link in self.store.links(ctx.company_id, ctx.provider, kind, pids).items():
                if not link.entity_id:
                    continue
                ctx.count(kind, "deleted")
                self.history.add(
                    ctx.company_id,
                    entity_type=kind,
                    entity_id=link.entity_id,
                    provider=ctx.provider,
                    action="import",
                    result="deleted_upstream",
                    provider_id=pid,
                )


def customer_import_answer(run: ImportRun) -> dict[str, Any]:
    """The body of POST /customers/import."""
    c = run.counts.get("customer", KindCounts())
    by_class = {k: run.by_class.get(k, 0) for k in CLASSES}
    return {
        "runId": run.run_id,
        "status": "completed" if run.status == RunStatus.SUCCEEDED else "continuing",
        "imported": c.created + c.updated + c.linked + c.unchanged + c.conflicts,
        "created": c.created,
        "updated": c.updated + c.linked,
        "unchanged": c.unchanged,
        "conflicts": c.conflicts,
        "errors": c.errors,
        "byClass": by_class,
    }


def not_importable(provider: str) -> Conflict:
    name = PROVIDER_DISPLAY_NAMES.get(provider, provider)
    return Conflict(
        f"Importing from {name} is not available in this build; connect one of "
        f"{', '.join(PROVIDER_DISPLAY_NAMES.values())} to import.",
        code="not_connected",
    )
