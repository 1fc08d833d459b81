"""Connections to the books, their settings and health; account mappings; OAuth state."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from booksync.imports.models import ImportStatus
from booksync.schema_base import ApiModel


class ConnectionStatus(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    NEEDS_REAUTH = "needs_reauth"


class SyncSettings(ApiModel):
    sync_invoices: bool = True
    sync_customers: bool = True
    sync_items: bool = True


class Health(ApiModel):
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    consecutive_failures: int = 0
    token_expires_at: datetime | None = None
    last_error: str | None = None
    # the latest import run from this provider (weekly auto-sync or POST /customers/import), finished or running;
    # filled by the integrations overview from the import state, never stored with the connection
    last_import: ImportStatus | None = None


class Connection(ApiModel):
    """What the service knows about one company's link to one provider (tokens are never in this model)."""

    provider: str
    status: ConnectionStatus = ConnectionStatus.DISCONNECTED
    tenant_id: str | None = None
    tenant_name: str | None = None
    settings: SyncSettings = Field(default_factory=SyncSettings)
    health: Health = Field(default_factory=Health)
    connected_at: datetime | None = None
    token_version: int = 0


class ProviderMapping(ApiModel):
    default_account_id: str | None = None
    items: dict[str, str] = Field(default_factory=dict)
    # payment method (PaymentMethod value) -> the account its payments are deposited to; a method not here lands in
    # the provider adapter's default (QuickBooks: Undeposited Funds)
    payment_accounts: dict[str, str] = Field(default_factory=dict)


class OAuthState(ApiModel):
    state: str
    company_id: str
    provider: str
    created_at: datetime
    expires_at: datetime
