"""Generic OAuth 2.0 authorization-server helpers for provider sandboxes.

Holds registered apps, single-use authorization codes, grants (one per consent), access tokens with a TTL and
refresh tokens with a configurable rotation policy and grace for superseded tokens. Everything is timed by the
sandbox clock. The provider module owns the HTTP shapes; this module only decides.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from local.sandbox.clock import SandboxClock

ROTATION_POLICIES = ("every", "never", "periodic")


class OAuthError(Exception):
    """An OAuth error answer: ``error`` is the RFC 6749 code."""

    def __init__(self, error: str, description: str, status: int = 400, tenant: str | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.tenant = tenant


@dataclass(frozen=True)
class OAuthApp:
    client_id: str
    client_secret: str
    # None: any http(s) redirect URI is accepted (local convenience); otherwise an exact-match allow list.
    redirect_uris: frozenset[str] | None = None

    def allows_redirect(self, redirect_uri: str) -> bool:
        if self.redirect_uris is None:
            return redirect_uri.startswith(("http://", "https://"))
        return redirect_uri in self.redirect_uris


@dataclass
class OAuthPolicy:
    access_token_ttl: int = 3600
    refresh_token_ttl: int | None = None  # rolling validity, renewed on every successful refresh; None = no expiry
    refresh_token_max_lifetime: int | None = None  # hard cap counted from the consent; None = none
    code_ttl: int = 300
    rotation: str = "every"  # every | never | periodic
    rotation_period: int = 86_400  # for "periodic": rotate when the current refresh token is at least this old
    refresh_grace: float = 0.0  # seconds a superseded refresh token still works

    def validate(self) -> None:
        if self.rotation not in ROTATION_POLICIES:
            raise ValueError(f"rotation must be one of {list(ROTATION_POLICIES)}")
        for name in ("access_token_ttl", "code_ttl", "rotation_period"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) <= 0:
                raise ValueError(f"{name} must be a positive integer")
        for name in ("refresh_token_ttl", "refresh_token_max_lifetime"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value <= 0):
                raise ValueError(f"{name} must be a positive integer or null")
        if not isinstance(self.refresh_grace, int | float) or self.refresh_grace < 0:
            raise ValueError("refresh_grace must be >= 0")

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token_ttl": self.access_token_ttl,
            "refresh_token_ttl": self.refresh_token_ttl,
            "refresh_token_max_lifetime": self.refresh_token_max_lifetime,
            "code_ttl": self.code_ttl,
            "rotation": self.rotation,
            "rotation_period": self.rotation_period,
            "refresh_grace": self.refresh_grace,
        }


@dataclass
class Grant:
    id: str
    client_id: str
    tenant: str
    scope: str
    created_at: float
    refresh_token: str
    refresh_issued_at: float
    refresh_expires_at: float | None
    hard_expires_at: float | None
    revoked: bool = False

    def refresh_expiry(self) -> float | None:
        candidates = [t for t in (self.refresh_expires_at, self.hard_expires_at) if t is not None]
        return min(candidates) if candidates else None


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    tenant: str
    scope: str
    expires_at: float
    used: bool = False


@dataclass
class _AccessToken:
    grant_id: str
    expires_at: float


@dataclass
class _RefreshRecord:
    grant_id: str
    superseded_at: float | None = None


@dataclass
class TokenResult:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int | None
    grant: Grant
    rotated: bool = False


@dataclass
class TenantTokenStats:
    refreshes: int = 0
    invalid_grant: int = 0
    codes_exchanged: int = 0
    revocations: int = 0

    def to_json(self) -> dict[str, int]:
        return {
            "refreshes": self.refreshes,
            "invalid_grant": self.invalid_grant,
            "codes_exchanged": self.codes_exchanged,
            "revocations": self.revocations,
        }


@dataclass
class OAuthServer:
    clock: SandboxClock
    policy: OAuthPolicy = field(default_factory=OAuthPolicy)
    token_prefix: str = ""
    apps: dict[str, OAuthApp] = field(default_factory=dict)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _grants: dict[str, Grant] = field(default_factory=dict)
    _access: dict[str, _AccessToken] = field(default_factory=dict)
    _refresh: dict[str, _RefreshRecord] = field(default_factory=dict)
    _stats: dict[str, TenantTokenStats] = field(default_factory=dict)
    unknown_invalid_grant: int = 0

    # -- apps -------------------------------------------------------------------------------------------------
    def register_app(self, app: OAuthApp) -> None:
        self.apps[app.client_id] = app

    def authenticate_client(self, client_id: str | None, client_secret: str | None) -> OAuthApp:
        app = self.apps.get(client_id or "")
        if app is None or not secrets.compare_digest(app.client_secret, client_secret or ""):
            raise OAuthError("invalid_client", "Client authentication failed", status=401)
        return app

    # -- authorization codes ------------------------------------------------------------------------------------
    def issue_code(self, app: OAuthApp, redirect_uri: str, tenant: str, scope: str) -> str:
        code = self.token_prefix + "code-" + secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            tenant=tenant,
            scope=scope,
            expires_at=self.clock.timestamp() + self.policy.code_ttl,
        )
        return code

    def exchange_code(self, app: OAuthApp, code: str | None, redirect_uri: str | None) -> TokenResult:
        record = self._codes.get(code or "")
        now = self.clock.timestamp()
        if record is None:
            raise OAuthError("invalid_grant", "Invalid authorization code")
        if record.used:
            raise OAuthError("invalid_grant", "Authorization code has already been used", tenant=record.tenant)
        if record.client_id != app.client_id:
            raise OAuthError("invalid_grant", "Authorization code was issued to another client", tenant=record.tenant)
        if now >= record.expires_at:
            raise OAuthError("invalid_grant", "Authorization code has expired", tenant=record.tenant)
        if redirect_uri != record.redirect_uri:
            raise OAuthError(
                "invalid_grant", "redirect_uri does not match the authorization request", tenant=record.tenant
            )
        record.used = True
        grant = Grant(
            id=secrets.token_hex(8),
            client_id=app.client_id,
            tenant=record.tenant,
            scope=record.scope,
            created_at=now,
            refresh_token=self._new_refresh_token(),
            refresh_issued_at=now,
            refresh_expires_at=now + self.policy.refresh_token_ttl if self.policy.refresh_token_ttl else None,
            hard_expires_at=(
                now + self.policy.refresh_token_max_lifetime if self.policy.refresh_token_max_lifetime else None
            ),
        )
        self._grants[grant.id] = grant
        self._refresh[grant.refresh_token] = _RefreshRecord(grant_id=grant.id)
        self.stats(grant.tenant).codes_exchanged += 1
        return self._token_result(grant, rotated=True)

    # -- refresh ------------------------------------------------------------------------------------------------
    def refresh(self, app: OAuthApp, refresh_token: str | None) -> TokenResult:
        now = self.clock.timestamp()
        record = self._refresh.get(refresh_token or "")
        if record is None:
            self.unknown_invalid_grant += 1
            raise OAuthError("invalid_grant", "Incorrect or invalid refresh token")
        grant = self._grants[record.grant_id]
        stats = self.stats(grant.tenant)

        def fail(description: str) -> OAuthError:
            stats.invalid_grant += 1
            return OAuthError("invalid_grant", description, tenant=grant.tenant)

        if grant.client_id != app.client_id:
            raise fail("Refresh token was issued to another client")
        if grant.revoked:
            raise fail("Token has been expired or revoked.")
        expiry = grant.refresh_expiry()
        if expiry is not None and now >= expiry:
            raise fail("Token has been expired or revoked.")
        if record.superseded_at is not None:
            if now - record.superseded_at > self.policy.refresh_grace or self.policy.refresh_grace <= 0:
                raise fail("Incorrect or invalid refresh token")
            # Within grace: a new access token; the refresh token stays the current one (no second rotation).
            stats.refreshes += 1
            self._extend(grant, now)
            return self._token_result(grant, rotated=False)
        rotate = self.policy.rotation == "every" or (
            self.policy.rotation == "periodic" and now - grant.refresh_issued_at >= self.policy.rotation_period
        )
        if rotate:
            self._refresh[grant.refresh_token].superseded_at = now
            grant.refresh_token = self._new_refresh_token()
            grant.refresh_issued_at = now
            self._refresh[grant.refresh_token] = _RefreshRecord(grant_id=grant.id)
        self._extend(grant, now)
        stats.refreshes += 1
        return self._token_result(grant, rotated=rotate)

    def _extend(self, grant: Grant, now: float) -> None:
        if self.policy.refresh_token_ttl:
            grant.refresh_expires_at = now + self.policy.refresh_token_ttl

    # -- revocation ---------------------------------------------------------------------------------------------
    def revoke(self, app: OAuthApp, token: str | None) -> Grant | None:
        """Revoke the whole grant a refresh or access token belongs to. Unknown tokens are ignored (RFC 7009)."""
        grant = self._grant_of(token or "")
        if grant is None:
            return None
        if grant.client_id != app.client_id:
            raise OAuthError("invalid_request", "Token was issued to another client")
        if not grant.revoked:
            grant.revoked = True
            self.stats(grant.tenant).revocations += 1
        return grant

    def _grant_of(self, token: str) -> Grant | None:
        if token in self._refresh:
            return self._grants[self._refresh[token].grant_id]
        if token in self._access:
            return self._grants[self._access[token].grant_id]
        return None

    # -- access tokens ------------------------------------------------------------------------------------------
    def validate_access_token(self, token: str | None) -> Grant | None:
        record = self._access.get(token or "")
        if record is None or self.clock.timestamp() >= record.expires_at:
            return None
        grant = self._grants[record.grant_id]
        return None if grant.revoked else grant

    # -- stats / dump -------------------------------------------------------------------------------------------
    def stats(self, tenant: str) -> TenantTokenStats:
        return self._stats.setdefault(tenant, TenantTokenStats())

    def tenant_summary(self, tenant: str) -> dict[str, Any]:
        now = self.clock.timestamp()
        grants = [g for g in self._grants.values() if g.tenant == tenant]
        live_access = sum(
            1
            for a in self._access.values()
            if a.expires_at > now and self._grants[a.grant_id].tenant == tenant and not self._grants[a.grant_id].revoked
        )
        return {
            **self.stats(tenant).to_json(),
            "grants": len(grants),
            "active_grants": sum(1 for g in grants if not g.revoked),
            "live_access_tokens": live_access,
        }

    # -- helpers ------------------------------------------------------------------------------------------------
    def _new_refresh_token(self) -> str:
        return self.token_prefix + "rt-" + secrets.token_urlsafe(32)

    def _token_result(self, grant: Grant, rotated: bool) -> TokenResult:
        now = self.clock.timestamp()
        access = self.token_prefix + "at-" + secrets.token_urlsafe(48)
        self._access[access] = _AccessToken(grant_id=grant.id, expires_at=now + self.policy.access_token_ttl)
        expiry = grant.refresh_expiry()
        return TokenResult(
            access_token=access,
            expires_in=self.policy.access_token_ttl,
            refresh_token=grant.refresh_token,
            refresh_expires_in=None if expiry is None else max(0, round(expiry - now)),
            grant=grant,
            rotated=rotated,
        )
