"""FreshBooks OAuth 2.0: authorize, code exchange, refresh (single use, no grace), revoke, and the business chosen.

FreshBooks rotates the refresh token on every refresh and the old one dies at once (no grace documented). The
TokenManager serialises refreshes per connection, so two of ours never race. What remains is an answer lost on the
way back (timeout or dropped connection after FreshBooks processed the refresh): the new refresh token exists only in
that lost answer. This client narrows the window as far as the provider allows (docs/providers/freshbooks.md):

- the token call gets a long read timeout and is never retried blindly by the transport;
- a failure *before* the request was sent (connect error) leaves the stored token valid: ``ProviderUnavailable``;
- a failure *after* it was sent is retried once at once with the same refresh token: if FreshBooks never processed
  the first attempt this succeeds; if it did, FreshBooks answers ``invalid_grant`` and the connection honestly needs
  re-authorisation (one notification, from the TokenManager).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from booksync.config import get_settings, provider_credential, provider_url
from booksync.errors import ServiceUnavailable
from booksync.observability import logger
from booksync.providers.base import InvalidGrant, ProviderUnavailable, Tenant, TokenSet
from booksync.providers.http import client, retry_after

# What the accounting sync uses (providers/freshbooks.md section 1); ledger accounts for the mapping screen.
SCOPES = (
    "user:profile:read",
    "user:clients:read",
    "user:clients:write",
    "user:invoices:read",
    "user:invoices:write",
    "user:payments:read",
    "user:payments:write",
    "user:billable_items:read",
    "user:billable_items:write",
    "user:business:read",
)
TOKEN_READ_TIMEOUT = 30.0  # long: a timed-out refresh may have consumed the single-use refresh token
GRANT_ERRORS = ("invalid_grant", "invalid_request", "unauthorized_client", "invalid_client")


@dataclass(frozen=True)
class FreshBooksOAuth:
    client_id: str
    client_secret: str
    authorize_endpoint: str
    token_endpoint: str
    revoke_endpoint: str
    api_base: str
    provider: str = "freshbooks"

    @classmethod
    def from_env(cls) -> FreshBooksOAuth:
        return cls(
            client_id=provider_credential("freshbooks", "id"),
            client_secret=provider_credential("freshbooks", "secret"),
            authorize_endpoint=provider_url("FRESHBOOKS_AUTHORIZE_URL"),
            token_endpoint=provider_url("FRESHBOOKS_TOKEN_URL"),
            revoke_endpoint=provider_url("FRESHBOOKS_REVOKE_URL"),
            api_base=provider_url("FRESHBOOKS_API_URL").rstrip("/"),
        )

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        if not self.client_id or not self.client_secret:
            raise ServiceUnavailable(
                "FreshBooks is not configured on this server (FRESHBOOKS_CLIENT_ID / client secret); ask an operator.",
                code="provider_not_configured",
            )
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "scope": " ".join(SCOPES),
            "state": state,
        }
        return f"{self.authorize_endpoint}?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        body = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return self._token(body, redirect_uri, retry_lost_answer=False)

    def refresh(self, tokens: TokenSet) -> TokenSet:
        redirect_uri = str(tokens.extra.get("redirect_uri") or self._default_redirect_uri())
        body = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token, "redirect_uri": redirect_uri}
        return self._token(body, redirect_uri, retry_lost_answer=True)

    def revoke(self, tokens: TokenSet) -> None:
        payload = {"client_id": self.client_id, "client_secret": self.client_secret, "token": tokens.refresh_token}
        try:
            resp = client("freshbooks").post(self.revoke_endpoint, json=payload, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise ProviderUnavailable("FreshBooks could not be reached") from exc
        if resp.status_code >= 500:
            raise ProviderUnavailable(f"FreshBooks revoke answered {resp.status_code}")
        # 4xx: the token is already dead; the app is disconnected either way

    def tenant(self, tokens: TokenSet, callback_params: dict[str, str]) -> Tenant:
        """The business whose ``account_id`` the accounting endpoints take (users/me business memberships).

        FreshBooks' callback names no business; a user may belong to several. The sync takes the first business the
        user owns (else the first membership) - docs/providers/freshbooks.md explains the choice.
        """
        memberships = self.memberships(tokens.access_token)
        if not memberships:
            raise InvalidGrant("the FreshBooks user belongs to no business")
        chosen = next((m for m in memberships if m.get("role") == "owner"), memberships[0])
        business = chosen.get("business") or {}
        account_id = str(business.get("account_id") or "")
        if not account_id:
            raise ProviderUnavailable("FreshBooks users/me returned a business without account_id")
        return Tenant(id=account_id, name=str(business.get("name") or f"FreshBooks business {account_id}"))

    def memberships(self, access_token: str) -> list[dict[str, Any]]:
        try:
            resp = client("freshbooks").get(
                f"{self.api_base}/auth/api/v1/users/me",
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable("FreshBooks could not be reached") from exc
        if resp.status_code == 401:
            raise InvalidGrant("FreshBooks refused the new access token")
        if resp.status_code != 200:
            raise ProviderUnavailable(f"FreshBooks users/me answered {resp.status_code}")
        return list((resp.json().get("response") or {}).get("business_memberships") or [])

    # ------------------------------------------------------------------------------------------------------------
    @staticmethod
    def _default_redirect_uri() -> str:
        return f"{get_settings().api_base_url.rstrip('/')}/integrations/freshbooks/callback"

    def _token(self, body: dict[str, str], redirect_uri: str, *, retry_lost_answer: bool) -> TokenSet:
        payload = {"client_id": self.client_id, "client_secret": self.client_secret, **body}
        started = time.time()
        try:
            resp = self._post_token(payload)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ProviderUnavailable("FreshBooks could not be reached (nothing was sent)") from exc
        except httpx.HTTPError as exc:
            if not retry_lost_answer:
                raise ProviderUnavailable("FreshBooks token endpoint did not answer") from exc
            # Sent, answer lost. Only the same refresh token can tell whether FreshBooks processed it.
            logger.warning("freshbooks refresh answer lost; retrying once with the same refresh token")
            try:
                resp = self._post_token(payload)
            except httpx.HTTPError as again:
                raise ProviderUnavailable("FreshBooks token endpoint did not answer twice") from again
            if _error_code(resp) == "invalid_grant":
                logger.warning("freshbooks consumed the refresh token but its answer was lost; reconnect needed")
        if resp.status_code in (400, 401) and _error_code(resp) in GRANT_ERRORS:
            raise InvalidGrant(_error_code(resp))
        if resp.status_code == 429 or resp.status_code >= 500:
            raise ProviderUnavailable(
                f"FreshBooks token endpoint answered {resp.status_code}", retry_after=retry_after(resp, 30.0)
            )
        if resp.status_code != 200:
            raise ProviderUnavailable(f"FreshBooks token endpoint answered {resp.status_code}")
        data = resp.json()
        created = float(data.get("created_at") or started)
        return TokenSet(
            access_token=data["access_token"],
            refresh_token=data["refresh_token"],
            # measured from our own clock (the provider's created_at only says when FreshBooks issued it)
            access_expires_at=started + float(data.get("expires_in", 43_200)),
            refresh_expires_at=None,  # FreshBooks refresh tokens do not expire; they are single use
            extra={"redirect_uri": redirect_uri, "issued_at": created},
        )

    def _post_token(self, payload: dict[str, str]) -> httpx.Response:
        return client("freshbooks").post(
            self.token_endpoint,
            json=payload,
            headers={"Accept": "application/json"},
            timeout=httpx.Timeout(TOKEN_READ_TIMEOUT, connect=3.0),
        )


def _error_code(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("error") or "")
    except (ValueError, AttributeError):
        return ""
