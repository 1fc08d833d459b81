"""All configuration, read from the environment in one place.

Every function builds :class:`Settings` once per execution environment (``get_settings`` is cached), so a
misconfigured deploy fails the first invoke with a clear ``ValidationError``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import lru_cache

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


@dataclass(frozen=True)
class Settings:
    """Environment of every function. Names are UPPER_SNAKE with a kind suffix (STYLE.md section 4).

    A plain dataclass rather than pydantic-settings: the same fail-fast parse for a fraction of the cold start
    (docs/PERFORMANCE.md). A malformed number raises ``ValueError`` naming the variable on the first invoke.
    """

    table_name: str = "blueclerk-sync"
    invoice_sync_queue_url: str = ""
    payment_sync_queue_url: str = ""
    import_queue_url: str = ""
    token_kms_key_id: str = ""
    frontend_url: str = "http://127.0.0.1:5173"
    # Public base URL of the HTTP API; the OAuth redirect URI is {api_base_url}/integrations/{provider}/callback
    api_base_url: str = "http://127.0.0.1:3000"
    oauth_state_ttl_seconds: int = 600
    token_refresh_skew_seconds: int = 300
    token_lease_seconds: int = 30
    provider_timeout_seconds: float = 10.0
    max_body_bytes: int = 262_144

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f.name.upper())
            if raw is None or raw == "":
                continue
            kind: type = type(f.default)
            try:
                values[f.name] = kind(raw) if kind in (int, float) else raw
            except ValueError as exc:
                raise ValueError(f"{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from exc
        return cls(**values)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()


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


def check_provider(provider: str) -> str:
    """``provider`` when it is one of ours, else a 404 naming the choices."""
    from booksync.errors import NotFound

    if provider not in PROVIDERS:
        raise NotFound(f"Unknown provider '{provider}'; use one of {', '.join(PROVIDERS)}.", code="unknown_provider")
    return provider
