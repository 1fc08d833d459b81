"""Xero OAuth 2.0 (providers/xero.md §1): authorize, code exchange, rotating refresh, revoke, tenant from /connections.

The token set's ``extra`` carries the chosen organisation: ``tenant_id``, ``tenant_name``, ``connection_id`` (needed
to disconnect with ``DELETE /connections/{id}``) and ``auth_event_id``. Every refresh returns a new refresh token;
the previous one keeps working for 30 minutes, which is what makes a refresh whose answer got lost recoverable (the
TokenManager simply retries with the stored, previous token).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx

from booksync.config import provider_credential, provider_url
from booksync.errors import ServiceUnavailable
from booksync.observability import logger
from booksync.providers.base import InvalidGrant, ProviderUnavailable, Tenant, TokenSet
from booksync.providers.http import client, retry_after

# offline_access: refresh tokens; contacts, transactions (invoices, payments), settings (items, accounts).
# Apps created on or after 2 March 2026 must ask for granular scopes whose names are UNCONFIRMED (xero.md §1).
SCOPE = "openid profile email offline_access accounting.contacts accounting.transactions accounting.settings"
ACCESS_TOKEN_SECONDS = 1800
REFRESH_TOKEN_IDLE_SECONDS = 60 * 86_400  # a refresh token dies after 60 days unused


@dataclass(frozen=True)
class XeroOAuth:
    client_id: str
    client_secret: str
    authorize_endpoint: str
    token_endpoint: str
    revoke_endpoint: str
    connections_endpoint: str
    provider: str = "xero"

    @classmethod
    def from_env(cls) -> XeroOAuth:
        return cls(
            client_id=provider_credential("xero", "id"),
            client_secret=provider_credential("xero", "secret"),
            authorize_endpoint=provider_url("XERO_AUTHORIZE_URL"),
            token_endpoint=provider_url("XERO_TOKEN_URL"),
            revoke_endpoint=provider_url("XERO_REVOKE_URL"),
            connections_endpoint=provider_url("XERO_CONNECTIONS_URL").rstrip("/"),
        )

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        if not self.client_id or not self.client_secret:
            raise ServiceUnavailable(
                "Xero is not configured on this server (XERO_CLIENT_ID / client secret); ask an operator.",
                code="provider_not_configured",
            )
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": SCOPE,
            "state": state,
        }
        return f"{self.authorize_endpoint}?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        """Exchange the code, then pick the organisation this consent connected (``GET /connections``)."""
        tokens = self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}, None)
        chosen = choose_connection(self.connections(tokens.access_token))
        if chosen is None:
            raise InvalidGrant("the consent connected no Xero organisation")
        extra = {
            "tenant_id": chosen["tenantId"],
            "tenant_name": chosen.get("tenantName") or "Xero organisation",
            "connection_id": chosen["id"],
            "auth_event_id": chosen.get("authEventId"),
        }
        return TokenSet(
            tokens.access_token, tokens.refresh_token, tokens.access_expires_at, tokens.refresh_expires_at, extra
        )

    def refresh(self, tokens: TokenSet) -> TokenSet:
        return self._token({"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}, tokens)

    def revoke(self, tokens: TokenSet) -> None:
        """Disconnect: ``DELETE /connections/{id}`` (needs a live access token), then revoke the refresh token."""
        current = tokens
        connection = str(tokens.extra.get("connection_id") or "")
        if connection:
            try:
                if current.access_expires_at - 60 < time.time():
                    current = self.refresh(current)
                self._delete_connection(current.access_token, connection)
            except InvalidGrant:
                logger.info("xero grant already dead; nothing to disconnect", provider=self.provider)
                return
        resp = self._post(self.revoke_endpoint, {"token": current.refresh_token})
        if resp.status_code >= 500 or resp.status_code == 429:
            raise ProviderUnavailable(f"Xero revocation answered {resp.status_code}")
        # 400 means the token was already dead: the app is disconnected either way

    def tenant(self, tokens: TokenSet, callback_params: dict[str, str]) -> Tenant:
        tenant_id = tokens.extra.get("tenant_id")
        if tenant_id:
            return Tenant(id=str(tenant_id), name=str(tokens.extra.get("tenant_name") or "Xero organisation"))
        chosen = choose_connection(self.connections(tokens.access_token))
        if chosen is None:
            raise InvalidGrant("no Xero organisation is connected")
        return Tenant(id=chosen["tenantId"], name=chosen.get("tenantName") or "Xero organisation")

    def connections(self, access_token: str) -> list[dict[str, Any]]:
        try:
            resp = client("xero").get(
                self.connections_endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable("Xero could not be reached") from exc
        if resp.status_code == 401:
            raise InvalidGrant("Xero refused the access token for /connections")
        if resp.status_code != 200:
            raise ProviderUnavailable(f"Xero /connections answered {resp.status_code}", retry_after(resp, 60.0))
        rows = resp.json()
        return [r for r in rows if isinstance(r, dict) and r.get("tenantId") and r.get("id")]

    # ------------------------------------------------------------------------------------------------------------
    def _delete_connection(self, access_token: str, connection_id: str) -> None:
        try:
            resp = client("xero").delete(
                f"{self.connections_endpoint}/{connection_id}", headers={"Authorization": f"Bearer {access_token}"}
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable("Xero could not be reached") from exc
        if resp.status_code >= 500 or resp.status_code == 429:
            raise ProviderUnavailable(f"Xero DELETE /connections answered {resp.status_code}")
        # 204 deleted; 404 already gone (the user removed the app in Xero); 401 the token died: revoke still follows

    def _token(self, form: dict[str, str], previous: TokenSet | None) -> TokenSet:
        started = time.time()
        resp = self._post(self.token_endpoint, form)
        if resp.status_code in (400, 401):
            error = _error_code(resp)
            if error in ("invalid_grant", "invalid_client", "unauthorized_client", "invalid_request"):
                raise InvalidGrant(error)
        if resp.status_code == 429 or resp.status_code >= 500:
            raise ProviderUnavailable(
                f"Xero token endpoint answered {resp.status_code}", retry_after=retry_after(resp, 60.0)
            )
        if resp.status_code != 200:
            raise ProviderUnavailable(f"Xero token endpoint answered {resp.status_code}")
        body = resp.json()
        refresh = body.get("refresh_token") or (previous.refresh_token if previous else "")
        if not refresh:
            raise InvalidGrant("Xero returned no refresh token (offline_access scope missing)")
        return TokenSet(
            access_token=body["access_token"],
            refresh_token=refresh,  # rotated on every refresh: always keep the newest
            access_expires_at=started + float(body.get("expires_in", ACCESS_TOKEN_SECONDS)),
            refresh_expires_at=started + REFRESH_TOKEN_IDLE_SECONDS,
            extra=dict(previous.extra) if previous else {},
        )

    def _post(self, url: str, form: dict[str, str]) -> httpx.Response:
        try:
            return client("xero").post(
                url,
                data=form,
                auth=(self.client_id, self.client_secret),  # HTTP Basic client authentication
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable("Xero could not be reached") from exc


def choose_connection(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The organisation the latest consent connected: the newest ``authEventId``'s first connection.

    One consent can connect several organisations; BlueClerk links one company to one, the first of that consent.
    """
    if not rows:
        return None
    newest = max(rows, key=lambda r: (_when(r.get("updatedDateUtc")), _when(r.get("createdDateUtc"))))
    event = newest.get("authEventId")
    same = [r for r in rows if event and r.get("authEventId") == event] or [newest]
    if len(same) > 1:
        logger.info("xero consent connected several organisations; using the first", count=len(same))
    return min(same, key=lambda r: _when(r.get("createdDateUtc")))


def _when(value: Any) -> float:
    """``createdDateUtc`` as sent (the spec's example has no offset and 7 fractional digits): UTC seconds."""
    if not isinstance(value, str) or not value:
        return 0.0
    text = value.rstrip("Z")
    main, _, frac = text.partition(".")
    try:
        parsed = datetime.fromisoformat(main + (f".{frac[:6]}" if frac else ""))
    except ValueError:
        return 0.0
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _error_code(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("error") or "")
    except (ValueError, AttributeError):
        return ""
