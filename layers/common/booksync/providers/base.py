"""The provider port: what the engine and the connection flow need from QuickBooks, Xero, FreshBooks or Wave.

Each provider is one adapter package under ``booksync.providers.<name>`` exposing an ``OAuthClient`` (and, with the
sync engine, an ``AccountingProvider``). Nothing outside the adapter knows a provider's paths, headers or payloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str
    access_expires_at: float  # epoch seconds
    refresh_expires_at: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # provider specifics, e.g. Xero's connection id

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "access_expires_at": self.access_expires_at,
            "refresh_expires_at": self.refresh_expires_at,
            "extra": self.extra,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TokenSet:
        return cls(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            access_expires_at=float(data["access_expires_at"]),
            refresh_expires_at=data.get("refresh_expires_at"),
            extra=dict(data.get("extra") or {}),
        )

    def __repr__(self) -> str:  # never print a token, even by accident
        return f"TokenSet(access_expires_at={self.access_expires_at}, extra_keys={sorted(self.extra)})"


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str


class InvalidGrant(Exception):
    """The provider refused the refresh token (superseded, expired or revoked)."""


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered 5xx/429 (retryable)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OAuthClient(Protocol):
    provider: str

    def authorize_url(self, state: str, redirect_uri: str) -> str: ...

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet: ...

    def refresh(self, tokens: TokenSet) -> TokenSet:
        """Raises InvalidGrant when the refresh token is dead, ProviderUnavailable on transient failure."""
        ...

    def revoke(self, tokens: TokenSet) -> None: ...

    def tenant(self, tokens: TokenSet, callback_params: dict[str, str]) -> Tenant:
        """Which company/organisation the consent was for (QuickBooks: realmId + CompanyInfo; Xero: /connections)."""
        ...
