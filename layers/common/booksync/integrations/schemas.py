from __future__ import annotations

from datetime import datetime

from pydantic import Field

from booksync.integrations.models import ConnectionStatus, Health, SyncSettings
from booksync.schema_base import ApiModel, DeferredRootModel, RequestModel


class SettingsIn(RequestModel):
    sync_invoices: bool
    sync_customers: bool
    sync_items: bool


class IntegrationOut(ApiModel):
    provider: str
    display_name: str
    status: ConnectionStatus
    tenant_name: str | None = None
    tenant_id: str | None = None
    connected_at: datetime | None = None
    settings: SyncSettings
    health: Health


class IntegrationList(ApiModel):
    data: list[IntegrationOut]


class ConnectOut(ApiModel):
    authorize_url: str


class ProviderMappingIn(RequestModel):
    default_account_id: str | None = Field(default=None, max_length=64)
    items: dict[str, str] = Field(default_factory=dict, description="itemId -> accountId overrides")
    payment_accounts: dict[str, str | None] | None = Field(
        default=None,
        description="payment method (cash, check, card, ach, other) -> the account its payments are deposited to "
        "(ids from GET /integrations/{provider}/accounts?purpose=payment); null or absent: the provider's default. "
        "Omit the field to keep the saved payment accounts.",
    )


class AccountMappingsIn(DeferredRootModel[dict[str, ProviderMappingIn]]):
    """Per provider: `defaultAccountId`, `items` (`{"<itemId>": "<accountId>"}`) and `paymentAccounts`
    (`{"<method>": "<accountId>"}`)."""


class AccountOut(ApiModel):
    id: str
    name: str
    type: str


class AccountList(ApiModel):
    data: list[AccountOut]
