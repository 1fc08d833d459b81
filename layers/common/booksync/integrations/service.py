"""Connections, sync settings and account mappings as the Settings screens see them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from booksync.catalog.models import Item
from booksync.config import PROVIDER_DISPLAY_NAMES, PROVIDERS, check_provider
from booksync.errors import BadRequest, Conflict, ServiceUnavailable
from booksync.ids import new_id
from booksync.imports.models import RunStatus
from booksync.integrations.models import Connection, ConnectionStatus, ProviderMapping, SyncSettings
from booksync.integrations.schemas import AccountMappingsIn, IntegrationList, IntegrationOut, SettingsIn
from booksync.integrations.tokens import needs_reauth_error
from booksync.invoicing.models import PaymentMethod
from booksync.invoicing.service import primary_connection
from booksync.observability import logger
from booksync.sync.ports import ProviderError

# What each provider can receive. Wave has no item sync: invoice lines need products, which the Wave adapter keeps.
ITEM_SYNC_SUPPORTED: dict[str, bool] = {"quickbooks": True, "xero": True, "freshbooks": True, "wave": False}


class ConnectionRepo(Protocol):
    def get(self, company_id: str, provider: str) -> Connection: ...
    def for_company(self, company_id: str) -> list[Connection]: ...
    def save_settings(self, company_id: str, provider: str, settings: SyncSettings) -> Connection: ...


class MappingRepo(Protocol):
    def get_all(self, company_id: str) -> dict[str, ProviderMapping]: ...
    def put(self, company_id: str, provider: str, mapping: ProviderMapping) -> None: ...


class ItemLookup(Protocol):
    def get_many(self, company_id: str, item_ids: Iterable[str]) -> dict[str, Item]: ...


@dataclass(frozen=True)
class IntegrationService:
    connections: ConnectionRepo
    mappings: MappingRepo
    items: ItemLookup
    imports: Any = None  # ImportService (booksync.imports.service): POST /customers/import, health.lastImport
    import_budget_seconds: float = 20.0  # of the API's 29 s; the rest of a big import continues on the queue
    # queues a backfill run (company, provider, runId, seq): saving a changed mapping restarts the backfill of each
    # connected provider (the one after a connect usually stopped at "items have no income account")
    enqueue_backfill: Callable[[str, str, str, int], None] | None = None

    def overview(self, company_id: str) -> IntegrationList:
        known = {c.provider: c for c in self.connections.for_company(company_id)}
        out = []
        for provider in PROVIDERS:
            conn = known.get(provider) or Connection(provider=provider)
            out.append(
                IntegrationOut(
                    provider=provider,
                    display_name=PROVIDER_DISPLAY_NAMES[provider],
                    status=conn.status,
                    tenant_name=conn.tenant_name,
                    tenant_id=conn.tenant_id,
                    connected_at=conn.connected_at,
                    settings=conn.settings,
                    health=self._health(company_id, conn) if provider in known else conn.health,
                )
            )
        return IntegrationList(data=out)

    def update_settings(self, company_id: str, provider: str, cmd: SettingsIn) -> SyncSettings:
        check_provider(provider)
        if cmd.sync_items and not ITEM_SYNC_SUPPORTED[provider]:
            raise BadRequest(
                f"{PROVIDER_DISPLAY_NAMES[provider]} has no item sync; set 'syncItems' to false. Invoice lines still "
                "reach it (the service keeps the products its invoices need).",
                code="item_sync_unsupported",
            )
        settings = SyncSettings(
            sync_invoices=cmd.sync_invoices, sync_customers=cmd.sync_customers, sync_items=cmd.sync_items
        )
        return self.connections.save_settings(company_id, provider, settings).settings

    def get_mappings(self, company_id: str) -> dict[str, ProviderMapping]:
        return self.mappings.get_all(company_id)

    def put_mappings(self, company_id: str, body: AccountMappingsIn) -> dict[str, ProviderMapping]:
        given = body.root
        unknown = sorted(set(given) - set(PROVIDERS))
        if unknown:
            raise BadRequest(
                f"Unknown provider(s) {', '.join(unknown)} in the mapping; use {', '.join(PROVIDERS)}.",
                code="unknown_provider",
            )
        item_ids = {i for m in given.values() for i in m.items}
        found = self.items.get_many(company_id, item_ids) if item_ids else {}
        missing = sorted(item_ids - set(found))
        if missing:
            raise BadRequest(
                f"Unknown item id(s) in the mapping: {', '.join(missing)}. Use ids from GET /items.",
                code="unknown_item",
                details=[{"field": "items", "value": m} for m in missing],
            )
        methods = [m.value for m in PaymentMethod]
        for provider, m in given.items():
            bad = sorted(set(m.payment_accounts or {}) - set(methods))
            if bad:
                raise BadRequest(
                    f"Unknown payment method(s) {', '.join(repr(b) for b in bad)} in paymentAccounts for {provider}; "
                    f"use {', '.join(methods)}.",
                    code="unknown_payment_method",
                    details=[{"field": f"{provider}.paymentAccounts", "value": b, "choices": methods} for b in bad],
                )
        before = self.mappings.get_all(company_id)
        changed: list[str] = []
        for provider, m in given.items():
            old = before.get(provider, ProviderMapping())
            if m.payment_accounts is None:  # omitted: keep what was saved (older clients send only income accounts)
                payment_accounts = dict(old.payment_accounts)
            else:
                payment_accounts = {k: v for k, v in m.payment_accounts.items() if v}
            new = ProviderMapping(
                default_account_id=m.default_account_id, items=dict(m.items), payment_accounts=payment_accounts
            )
            self.mappings.put(company_id, provider, new)
            if (
                old.default_account_id != new.default_account_id
                or old.payment_accounts != new.payment_accounts
                or any(old.items.get(k) != v for k, v in new.items.items())
            ):
                changed.append(provider)
        after = self.mappings.get_all(company_id)
        # a removed item override shows in the merged mapping (the imported account, or none, answers again)
        empty = ProviderMapping()
        changed += [p for p in given if p not in changed and before.get(p, empty) != after.get(p, empty)]
        if changed:
            self._restart_backfills(company_id, changed)
        return after

    def _restart_backfills(self, company_id: str, providers: list[str]) -> None:
        """Queue a backfill for each connected provider whose mapping changed: invoices that stopped at an unmapped
        item (or a refused deposit account) go out without another click. Best effort: the mapping is saved."""
        if self.enqueue_backfill is None:
            return
        connected = {
            c.provider for c in self.connections.for_company(company_id) if c.status == ConnectionStatus.CONNECTED
        }
        for provider in providers:
            if provider not in connected:
                continue
            run_id = new_id("bf")
            try:
                self.enqueue_backfill(company_id, provider, run_id, 0)
            except Exception as exc:  # the queue is down: the user can still start it in Settings > Integrations
                logger.warning("backfill after mapping not queued", provider=provider, error=type(exc).__name__)
                continue
            logger.info("backfill queued after mapping change", provider=provider, run_id=run_id)

    # Provider-backed operations. Each provider lands as an adapter (booksync.providers); until a provider's adapter
    # is registered these answer `not_connected`, as the foundation issue allows.
    # ---- imports (issue 7) ------------------------------------------------------------------------------------------
    def _health(self, company_id: str, conn: Connection) -> Any:
        if self.imports is None:
            return conn.health
        return conn.health.model_copy(update={"last_import": self.imports.status(company_id, conn.provider)})

    def import_customers(self, company_id: str) -> dict[str, object]:
        """Every customer of the connected provider (all pages), classified; counts per class. Re-running it changes
        nothing that did not change. A run longer than the API's budget continues on the import queue."""
        conn = primary_connection(self.connections.for_company(company_id))
        if conn is None:
            raise Conflict(
                "No accounting provider is connected; connect one in Settings > Integrations, then import.",
                code="not_connected",
            )
        name = PROVIDER_DISPLAY_NAMES[conn.provider]
        if conn.status.value == "needs_reauth":
            raise needs_reauth_error(conn.provider)
        if self.imports is None:
            raise _unavailable(conn.provider)
        if not conn.settings.sync_customers:
            raise Conflict(
                f"Customer sync with {name} is off; turn on 'Sync customers' in Settings > Integrations, then import.",
                code="customer_sync_off",
            )
        deadline = time.monotonic() + self.import_budget_seconds
        try:
            run = self.imports.import_customers(
                company_id, conn.provider, new_id("imp"), lambda: int((deadline - time.monotonic()) * 1000)
            )
        except ProviderError as exc:
            raise ServiceUnavailable(
                f"{name} did not answer the import ({exc.message}); try again in a minute.", code="provider_unavailable"
            ) from exc
        if run.status == RunStatus.FAILED:
            if run.last_error == "needs_reauth":
                raise needs_reauth_error(conn.provider)
            last = run.errors[-1].message if run.errors else "the import failed"
            raise Conflict(f"The import from {name} failed: {last}", code=run.last_error or "import_failed")
        from booksync.imports.service import customer_import_answer  # the import service loads only when used

        return customer_import_answer(run)


def _unavailable(provider: str) -> Conflict:
    name = PROVIDER_DISPLAY_NAMES[provider]
    return Conflict(
        f"{name} is not connected, and connecting to {name} is not available in this build yet.", code="not_connected"
    )
