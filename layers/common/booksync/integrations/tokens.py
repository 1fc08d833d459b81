"""Access tokens for provider calls, refreshed at most once per rotation under a DynamoDB lease.

Why: several Lambdas refreshing the same token at once made the losers replay a superseded refresh token, the
provider answered ``invalid_grant`` and the connection was revoked. Here one caller takes a lease (owner + expiry,
conditional write on the token version), refreshes, stores the new tokens with a version check and releases; the
others wait (bounded) for the new version. A lease left by a crashed holder simply expires. ``invalid_grant`` after
another caller already rotated the token means "re-read", not "disconnect".
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from booksync.config import PROVIDER_DISPLAY_NAMES
from booksync.errors import AppError, Conflict, ServiceUnavailable
from booksync.observability import logger
from booksync.ports import Notifier
from booksync.providers.base import InvalidGrant, OAuthClient, ProviderUnavailable, TokenSet


class NeedsReauth(AppError):
    status = 409
    code = "needs_reauth"


class StoredTokensLike(Protocol):
    status: str
    ciphertext: str | None
    version: int
    lease_owner: str | None
    lease_until: float | None


class TokenStore(Protocol):
    def read(self, company_id: str, provider: str) -> Any: ...
    def acquire_lease(
        self, company_id: str, provider: str, owner: str, version: int, until: float, now: float
    ) -> bool: ...
    def store_refreshed(
        self, company_id: str, provider: str, owner: str, version: int, ciphertext: str, access_expires_at: float
    ) -> bool: ...
    def release_lease(self, company_id: str, provider: str, owner: str) -> None: ...
    def mark_needs_reauth(self, company_id: str, provider: str, version: int) -> bool: ...


class Cipher(Protocol):
    def encrypt(self, company_id: str, provider: str, tokens: TokenSet) -> str: ...
    def decrypt(self, company_id: str, provider: str, ciphertext: str) -> TokenSet: ...


def needs_reauth_error(provider: str) -> NeedsReauth:
    name = PROVIDER_DISPLAY_NAMES.get(provider, provider)
    return NeedsReauth(
        f"{name} access has expired or was revoked. Reconnect {name} in Settings > Integrations; nothing already "
        "synced is lost.",
    )


def not_connected_error(provider: str) -> Conflict:
    name = PROVIDER_DISPLAY_NAMES.get(provider, provider)
    return Conflict(f"{name} is not connected; connect it in Settings > Integrations.", code="not_connected")


@dataclass
class TokenManager:
    store: TokenStore
    cipher: Cipher
    oauth: Callable[[str], OAuthClient]
    notifier: Notifier
    refresh_skew: float = 300.0  # refresh this long before expiry
    lease_seconds: float = 30.0  # well above the token endpoint's timeout
    max_wait: float = 45.0  # how long a caller waits for someone else's refresh before giving up (retryable)
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    refreshes: int = field(default=0)  # refreshes this process performed (for tests and metrics)

    def rejected(self, company_id: str, provider: str, access_token: str) -> TokenSet:
        """The provider answered 401 to ``access_token``: refresh it, unless another caller already did."""
        return self.access_token(company_id, provider, reject=access_token)

    def access_token(self, company_id: str, provider: str, reject: str | None = None) -> TokenSet:
        """A token valid for at least ``refresh_skew`` seconds, refreshing it under the lease when needed."""
        owner = uuid.uuid4().hex
        deadline = self.clock() + self.max_wait
        delay = 0.02
        while True:
            stored = self.store.read(company_id, provider)
            self._check_status(provider, stored)
            now = self.clock()
            if (stored.access_expires_at or 0) - self.refresh_skew > now:
                tokens = self.cipher.decrypt(company_id, provider, stored.ciphertext)
                if tokens.access_token != reject:
                    return tokens
            lease_live = stored.lease_owner is not None and (stored.lease_until or 0) >= now
            if not lease_live and self.store.acquire_lease(
                company_id, provider, owner, stored.version, now + self.lease_seconds, now
            ):
                tokens = self.cipher.decrypt(company_id, provider, stored.ciphertext)
                return self._refresh(company_id, provider, owner, stored.version, tokens)
            if self.clock() >= deadline:
                raise ServiceUnavailable(
                    "Another request is refreshing the provider connection; try again in a few seconds.",
                    code="provider_unavailable",
                )
            self.sleep(delay)  # waiters only read the version; they decrypt once the new tokens are stored
            delay = min(delay * 2, 0.5)

    def current(self, company_id: str, provider: str) -> TokenSet:
        """The stored tokens as they are (for revoke on disconnect); no refresh."""
        return self._usable(company_id, provider, self.store.read(company_id, provider), allow_reauth=True)

    # --------------------------------------------------------------------------------------------------------------
    def _usable(self, company_id: str, provider: str, stored: Any, allow_reauth: bool = False) -> TokenSet:
        self._check_status(provider, stored, allow_reauth)
        return self.cipher.decrypt(company_id, provider, stored.ciphertext)

    @staticmethod
    def _check_status(provider: str, stored: Any, allow_reauth: bool = False) -> None:
        if stored is None or stored.status == "disconnected" or not stored.ciphertext:
            raise not_connected_error(provider)
        if stored.status == "needs_reauth" and not allow_reauth:
            raise needs_reauth_error(provider)

    def _refresh(self, company_id: str, provider: str, owner: str, version: int, tokens: TokenSet) -> TokenSet:
        try:
            fresh = self.oauth(provider).refresh(tokens)
        except InvalidGrant:
            return self._on_invalid_grant(company_id, provider, owner, version)
        except ProviderUnavailable as exc:
            self.store.release_lease(company_id, provider, owner)
            raise ServiceUnavailable(
                f"{PROVIDER_DISPLAY_NAMES.get(provider, provider)} did not answer the token refresh; it will be "
                "retried.",
                code="provider_unavailable",
            ) from exc
        except BaseException:
            self.store.release_lease(company_id, provider, owner)
            raise
        self.refreshes += 1
        ciphertext = self.cipher.encrypt(company_id, provider, fresh)
        if not self.store.store_refreshed(company_id, provider, owner, version, ciphertext, fresh.access_expires_at):
            # Someone stored a newer version first (possible only with a provider that accepts the previous refresh
            # token for a grace period). What we hold is valid now; the stored state stays authoritative.
            logger.warning("refreshed tokens not stored: a newer version exists", provider=provider)
        else:
            logger.info("provider token refreshed", provider=provider, version=version + 1)
        return fresh

    def _on_invalid_grant(self, company_id: str, provider: str, owner: str, version: int) -> TokenSet:
        # Another caller may have rotated the token and not stored it yet (a slow holder whose lease we outlived,
        # or a store that lost a race): give it a moment before calling the connection dead.
        deadline = self.clock() + min(self.lease_seconds, 5.0)
        while True:
            latest = self.store.read(company_id, provider)
            if latest is not None and latest.version != version and latest.status == "connected" and latest.ciphertext:
                self.store.release_lease(company_id, provider, owner)
                return self.cipher.decrypt(company_id, provider, latest.ciphertext)
            if self.clock() >= deadline or latest is None or latest.status != "connected":
                break
            self.sleep(0.25)
        if self.store.mark_needs_reauth(company_id, provider, version):
            name = PROVIDER_DISPLAY_NAMES.get(provider, provider)
            logger.warning("provider refused the refresh token; connection needs re-auth", provider=provider)
            self.notifier.notify(
                company_id,
                code="needs_reauth",
                message=f"{name} access has expired or was revoked. Reconnect {name} in Settings > Integrations "
                "to resume syncing; nothing already synced is lost.",
                provider=provider,
                entity_type="connection",
                entity_id=provider,
            )
        raise needs_reauth_error(provider)
