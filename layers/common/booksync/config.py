"""All configuration, read from the environment in one place.

Every function builds :class:`Settings` once per execution environment (``get_settings`` is cached), so a
misconfigured deploy fails the first invoke with a clear ``ValidationError``.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROVIDERS: tuple[str, ...] = ("quickbooks", "xero", "freshbooks", "wave")
PROVIDER_DISPLAY_NAMES: dict[str, str] = {
    "quickbooks": "QuickBooks",
    "xero": "Xero",
    "freshbooks": "FreshBooks",
    "wave": "Wave",
}

# Real production endpoints; every one can be overridden by an environment variable of the same name.
PROVIDER_URL_DEFAULTS: dict[str, str] = {
    "QUICKBOOKS_API_URL": "https://quickbooks.api.intuit.com",
    "QUICKBOOKS_AUTHORIZE_URL": "https://appcenter.intuit.com/connect/oauth2",
    "QUICKBOOKS_TOKEN_URL": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
    "QUICKBOOKS_REVOKE_URL": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
    "XERO_API_URL": "https://api.xero.com",
    "XERO_AUTHORIZE_URL": "https://login.xero.com/identity/connect/authorize",
    "XERO_TOKEN_URL": "https://identity.xero.com/connect/token",
    "XERO_REVOKE_URL": "https://identity.xero.com/connect/revocation",
    "XERO_CONNECTIONS_URL": "https://api.xero.com/connections",
    "FRESHBOOKS_API_URL": "https://api.freshbooks.com",
    "FRESHBOOKS_AUTHORIZE_URL": "https://auth.freshbooks.com/oauth/authorize",
    "FRESHBOOKS_TOKEN_URL": "https://api.freshbooks.com/auth/oauth/token",
    "FRESHBOOKS_REVOKE_URL": "https://api.freshbooks.com/auth/oauth/revoke",
    "WAVE_API_URL": "https://gql.waveapps.com",
    "WAVE_AUTHORIZE_URL": "https://api.waveapps.com/oauth2/authorize/",
    "WAVE_TOKEN_URL": "https://api.waveapps.com/oauth2/token/",
    "WAVE_REVOKE_URL": "https://api.waveapps.com/oauth2/token/revoke/",
}


class Settings(BaseSettings):
    """Environment of every function. Names are UPPER_SNAKE with a kind suffix (STYLE.md section 4)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(default="blueclerk-sync", alias="TABLE_NAME")
    invoice_sync_queue_url: str = Field(default="", alias="INVOICE_SYNC_QUEUE_URL")
    payment_sync_queue_url: str = Field(default="", alias="PAYMENT_SYNC_QUEUE_URL")
    import_queue_url: str = Field(default="", alias="IMPORT_QUEUE_URL")
    token_kms_key_id: str = Field(default="", alias="TOKEN_KMS_KEY_ID")
    frontend_url: str = Field(default="http://127.0.0.1:5173", alias="FRONTEND_URL")
    # Public base URL of the HTTP API; the OAuth redirect URI is {api_base_url}/integrations/{provider}/callback
    api_base_url: str = Field(default="http://127.0.0.1:3000", alias="API_BASE_URL")
    oauth_state_ttl_seconds: int = Field(default=600, alias="OAUTH_STATE_TTL_SECONDS")
    token_refresh_skew_seconds: int = Field(default=300, alias="TOKEN_REFRESH_SKEW_SECONDS")
    token_lease_seconds: int = Field(default=30, alias="TOKEN_LEASE_SECONDS")
    provider_timeout_seconds: float = Field(default=10.0, alias="PROVIDER_TIMEOUT_SECONDS")
    max_body_bytes: int = Field(default=262_144, alias="MAX_BODY_BYTES")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def provider_url(name: str) -> str:
    """An endpoint of a provider, e.g. ``provider_url("QUICKBOOKS_TOKEN_URL")``; env overrides the default."""
    return os.environ.get(name) or PROVIDER_URL_DEFAULTS[name]


def provider_credential(provider: str, kind: str) -> str:
    """Client id / secret of a provider app.

    Locally the plain value is in ``{PROVIDER}_CLIENT_ID`` / ``{PROVIDER}_CLIENT_SECRET``; in AWS the secret
    lives in Secrets Manager under the name in ``{PROVIDER}_CLIENT_SECRET_NAME``.
    """
    key = f"{provider.upper()}_CLIENT_{kind.upper()}"
    value = os.environ.get(key)
    if value:
        return value
    secret_name = os.environ.get(f"{key}_NAME")
    if secret_name:
        from aws_lambda_powertools.utilities import parameters

        return str(parameters.get_secret(secret_name, max_age=300))
    return ""
