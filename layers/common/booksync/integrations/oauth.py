"""Connect / callback / disconnect: single-use, company-bound, 10-minute `state`; provider adapters do the wire."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol
from urllib.parse import urlencode

from booksync.config import PROVIDERS
from booksync.errors import AppError
from booksync.ids import new_id, utcnow
from booksync.integrations.models import OAuthState
from booksync.integrations.service import check_provider
from booksync.observability import logger
from booksync.providers.base import InvalidGrant, OAuthClient, ProviderUnavailable, Tenant, TokenSet


class StateStore(Protocol):
    def add(self, state: OAuthState) -> None: ...
    def consume(self, state: str) -> OAuthState | None: ...


class ConnectionWriter(Protocol):
    def connect(
        self,
        company_id: str,
        provider: str,
        *,
        tenant_id: str,
        tenant_name: str,
        ciphertext: str,
        access_expires_at: float,
    ) -> None: ...
    def disconnect(self, company_id: str, provider: str) -> None: ...


class Cipher(Protocol):
    def encrypt(self, company_id: str, provider: str, tokens: TokenSet) -> str: ...


class TokenReader(Protocol):
    def current(self, company_id: str, provider: str) -> TokenSet: ...


@dataclass(frozen=True)
class OAuthService:
    states: StateStore
    frontend_url: str
    api_base_url: str = ""
    oauth: Callable[[str], OAuthClient] | None = None
    connections: ConnectionWriter | None = None
    cipher: Cipher | None = None
    tokens: TokenReader | None = None
    state_ttl: int = 600
    backfill: Callable[[str, str, str], None] | None = None  # (company, provider, run id): queue a backfill run
    sleep: Callable[[float], None] = time.sleep  # between tenant lookups (tests inject)

    def _tenant(self, client: OAuthClient, tokens: TokenSet, params: dict[str, str]) -> Tenant:
        """Which organisation/realm/business the new tokens reach. The code is spent by now, so a blip here would
        cost the user a whole new consent: a transient failure is retried (3 tries, 0.5 s then 1 s apart)."""
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

        retrying = Retrying(
            retry=retry_if_exception_type(ProviderUnavailable),
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.5, max=2.0),
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(client.tenant, tokens, params)

    def redirect_uri(self, provider: str) -> str:
        return f"{self.api_base_url.rstrip('/')}/integrations/{provider}/callback"

    def start(self, company_id: str, provider: str) -> str:
        """Create a single-use state bound to the company and answer the provider's consent URL."""
        check_provider(provider)
        assert self.oauth is not None
        client = self.oauth(provider)
        now = utcnow()
        state = OAuthState(
            state=secrets.token_urlsafe(32),
            company_id=company_id,
            provider=provider,
            created_at=now,
            expires_at=now + timedelta(seconds=self.state_ttl),
        )
        self.states.add(state)
        return client.authorize_url(state.state, self.redirect_uri(provider))

    def disconnect(self, company_id: str, provider: str) -> None:
        """Revoke at the provider (best effort), forget the tokens, keep every synced id."""
        check_provider(provider)
        assert self.tokens is not None and self.connections is not None and self.oauth is not None
        try:
            current = self.tokens.current(company_id, provider)
        except AppError:
            current = None  # nothing stored: disconnecting is still fine (idempotent)
        if current is not None:
            try:
                self.oauth(provider).revoke(current)
            except ProviderUnavailable:
                logger.warning("revoke failed; tokens forgotten anyway", provider=provider)
        self.connections.disconnect(company_id, provider)

    def complete(self, provider: str, params: dict[str, str]) -> str:
        """Finish a connect; always answers the frontend URL to redirect to (with ?connected= or ?error=)."""
        if provider not in PROVIDERS:
            return self._redirect(error="unknown_provider")
        if params.get("error"):
            logger.info("oauth consent refused", provider=provider)
            return self._redirect(error="access_denied")
        state_value = params.get("state") or ""
        state = self.states.consume(state_value) if state_value else None
        if state is None or state.provider != provider:
            logger.warning("oauth state rejected", provider=provider, reason="unknown_or_used")
            return self._redirect(error="invalid_state")
        if state.expires_at < utcnow():
            logger.warning("oauth state rejected", provider=provider, reason="expired")
            return self._redirect(error="expired_state")
        code = params.get("code") or ""
        if not code or self.oauth is None or self.connections is None or self.cipher is None:
            return self._redirect(error="invalid_request")
        try:
            client = self.oauth(provider)
            tokens = client.exchange_code(code, self.redirect_uri(provider))
            tenant = self._tenant(client, tokens, params)
        except InvalidGrant:
            logger.warning("oauth code exchange refused", provider=provider)
            return self._redirect(error="invalid_grant")
        except ProviderUnavailable:
            logger.warning("oauth code exchange failed upstream", provider=provider)
            return self._redirect(error="provider_unavailable")
        except AppError as exc:
            return self._redirect(error=exc.code)
        self.connections.connect(
            state.company_id,
            provider,
            tenant_id=tenant.id,
            tenant_name=tenant.name,
            ciphertext=self.cipher.encrypt(state.company_id, provider, tokens),
            access_expires_at=tokens.access_expires_at,
        )
        logger.info("provider connected", provider=provider)
        if self.backfill is not None:  # push what is not in the books yet; the connect stands even if this fails
            try:
                self.backfill(state.company_id, provider, new_id("bf"))
            except Exception:  # best effort: the user can start it from Settings > Integrations
                logger.exception("backfill could not be queued after connect", provider=provider)
        return self._redirect(connected=provider)

    def _redirect(self, **query: str) -> str:
        return f"{self.frontend_url.rstrip('/')}/settings/integrations?{urlencode(query)}"
