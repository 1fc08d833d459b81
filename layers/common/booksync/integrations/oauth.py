"""The OAuth callback: single-use, company-bound, 10-minute `state`; provider connectors do the exchange."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from booksync.config import PROVIDERS
from booksync.ids import utcnow
from booksync.integrations.models import OAuthState
from booksync.observability import logger


class StateStore(Protocol):
    def add(self, state: OAuthState) -> None: ...
    def consume(self, state: str) -> OAuthState | None: ...


@dataclass(frozen=True)
class OAuthService:
    states: StateStore
    frontend_url: str

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
        logger.warning("oauth callback for a provider without a connector", provider=provider)
        return self._redirect(error="not_connected")

    def _redirect(self, **query: str) -> str:
        return f"{self.frontend_url.rstrip('/')}/settings/integrations?{urlencode(query)}"
