"""QuickBooks OAuth 2.0: authorize, code exchange, refresh (rotating), revoke, and the realm's company name."""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx

from booksync.config import provider_credential, provider_url
from booksync.errors import ServiceUnavailable
from booksync.providers.base import InvalidGrant, ProviderUnavailable, Tenant, TokenSet
from booksync.providers.http import client, retry_after

SCOPE = "com.intuit.quickbooks.accounting"
MINOR_VERSION = "75"


@dataclass(frozen=True)
class QuickBooksOAuth:
    client_id: str
    client_secret: str
    authorize_endpoint: str
    token_endpoint: str
    revoke_endpoint: str
    api_base: str
    provider: str = "quickbooks"

    @classmethod
    def from_env(cls) -> QuickBooksOAuth:
        return cls(
            client_id=provider_credential("quickbooks", "id"),
            client_secret=provider_credential("quickbooks", "secret"),
            authorize_endpoint=provider_url("QUICKBOOKS_AUTHORIZE_URL"),
            token_endpoint=provider_url("QUICKBOOKS_TOKEN_URL"),
            revoke_endpoint=provider_url("QUICKBOOKS_REVOKE_URL"),
            api_base=provider_url("QUICKBOOKS_API_URL").rstrip("/"),
        )

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        if not self.client_id or not self.client_secret:
            raise ServiceUnavailable(
                "QuickBooks is not configured on this server (QUICKBOOKS_CLIENT_ID / client secret); ask an operator.",
                code="provider_not_configured",
            )
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self.authorize_endpoint}?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        return self._token({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}, None)

    def refresh(self, tokens: TokenSet) -> TokenSet:
        return self._token({"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}, tokens)

    def revoke(self, tokens: TokenSet) -> None:
        resp = self._post(self.revoke_endpoint, json={"token": tokens.refresh_token})
        if resp.status_code >= 500:
            raise ProviderUnavailable(f"QuickBooks revoke answered {resp.status_code}")
        # 400 means the token was already dead: the app is disconnected either way

    def tenant(self, tokens: TokenSet, callback_params: dict[str, str]) -> Tenant:
        realm = callback_params.get("realmId") or ""
        if not realm.isdigit():
            raise InvalidGrant("the callback carried no realmId")
        url = f"{self.api_base}/v3/company/{realm}/companyinfo/{realm}"
        try:
            resp = client("quickbooks").get(
                url,
                params={"minorversion": MINOR_VERSION},
                headers={"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable("QuickBooks could not be reached") from exc
        if resp.status_code != 200 or "Fault" in resp.json():
            raise ProviderUnavailable(f"QuickBooks companyinfo answered {resp.status_code}")
        info = resp.json().get("CompanyInfo", {})
        return Tenant(id=realm, name=info.get("CompanyName") or info.get("LegalName") or f"QuickBooks company {realm}")

    # ------------------------------------------------------------------------------------------------------------
    def _token(self, form: dict[str, str], previous: TokenSet | None) -> TokenSet:
        started = time.time()
        resp = self._post(self.token_endpoint, data=form)
        if resp.status_code in (400, 401):
            error = _error_code(resp)
            if error in ("invalid_grant", "invalid_request", "unauthorized_client", "invalid_client"):
                raise InvalidGrant(error)
        if resp.status_code == 429 or resp.status_code >= 500:
            raise ProviderUnavailable(
                f"QuickBooks token endpoint answered {resp.status_code}", retry_after=retry_after(resp, 60.0)
            )
        if resp.status_code != 200:
            raise ProviderUnavailable(f"QuickBooks token endpoint answered {resp.status_code}")
        body = resp.json()
        refresh_in = body.get("x_refresh_token_expires_in")
        return TokenSet(
            access_token=body["access_token"],
            # Intuit returns the same refresh token for ~24 h, then a new one; always keep the latest returned.
            refresh_token=body.get("refresh_token") or (previous.refresh_token if previous else ""),
            access_expires_at=started + float(body.get("expires_in", 3600)),
            refresh_expires_at=started + float(refresh_in) if refresh_in else None,
        )

    def _post(self, url: str, **kwargs: object) -> httpx.Response:
        try:
            return client("quickbooks").post(
                url,
                auth=(self.client_id, self.client_secret),  # HTTP Basic client authentication
                headers={"Accept": "application/json"},
                **kwargs,  # type: ignore[arg-type]
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable("QuickBooks could not be reached") from exc


def _error_code(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("error") or "")
    except ValueError:
        return ""
