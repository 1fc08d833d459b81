"""Wave OAuth 2.0: authorize, code exchange, refresh, revoke (best effort), and the business the consent is for.

Wave's token lifetimes and rotation rules are UNCONFIRMED (../shared/providers/wave.md section 1). So: honour
``expires_in``, keep whatever new refresh token an answer carries (and the old one when none is returned), and let the
TokenManager serialise refreshes. The tenant is a Wave business id (an opaque global id), chosen from ``businesses``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from booksync.config import provider_credential, provider_url
from booksync.errors import ServiceUnavailable
from booksync.providers.base import InvalidGrant, ProviderUnavailable, Tenant, TokenSet
from booksync.providers.http import client, retry_after

# Write does not imply read on Wave (official scope page): every resource the sync reads and writes is listed.
SCOPES = (
    "business:read",
    "user:read",
    "account:read",
    "customer:read",
    "customer:write",
    "product:read",
    "product:write",
    "invoice:read",
    "invoice:write",
)
GRANT_ERRORS = ("invalid_grant", "invalid_request", "unauthorized_client", "invalid_client")
BUSINESSES = """
query Businesses($page: Int!, $pageSize: Int!) {
  businesses(page: $page, pageSize: $pageSize) {
    pageInfo { currentPage totalPages totalCount }
    edges { node { id name isPersonal isArchived } }
  }
}
"""


@dataclass(frozen=True)
class WaveOAuth:
    client_id: str
    client_secret: str
    authorize_endpoint: str
    token_endpoint: str
    revoke_endpoint: str
    graphql_endpoint: str
    provider: str = "wave"

    @classmethod
    def from_env(cls) -> WaveOAuth:
        return cls(
            client_id=provider_credential("wave", "id"),
            client_secret=provider_credential("wave", "secret"),
            authorize_endpoint=provider_url("WAVE_AUTHORIZE_URL"),
            token_endpoint=provider_url("WAVE_TOKEN_URL"),
            revoke_endpoint=provider_url("WAVE_REVOKE_URL"),
            graphql_endpoint=provider_url("WAVE_API_URL").rstrip("/") + "/graphql/public",
        )

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        if not self.client_id or not self.client_secret:
            raise ServiceUnavailable(
                "Wave is not configured on this server (WAVE_CLIENT_ID / client secret); ask an operator.",
                code="provider_not_configured",
            )
        query = {
            "client_id": self.client_id,
            "response_type": "code",
            "scope": " ".join(SCOPES),
            "redirect_uri": redirect_uri,
            "state": state,
        }
        return f"{self.authorize_endpoint}?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return self._token(form, None)

    def refresh(self, tokens: TokenSet) -> TokenSet:
        return self._token({"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}, tokens)

    def revoke(self, tokens: TokenSet) -> None:
        """Best effort: Wave's revocation endpoint is UNCONFIRMED, so any 4xx counts as done."""
        try:
            resp = self._post(self.revoke_endpoint, {"token": tokens.refresh_token})
        except ProviderUnavailable:
            raise
        if resp.status_code >= 500:
            raise ProviderUnavailable(f"Wave revoke answered {resp.status_code}")

    def tenant(self, tokens: TokenSet, callback_params: dict[str, str]) -> Tenant:
        """The business to sync: the one named by the callback (``businessId``) if the token reaches it, else the
        first active non-personal business (Wave creates a personal one for every user), else the first one."""
        rows = self.businesses(tokens.access_token)
        if not rows:
            raise InvalidGrant("the Wave token reaches no business")
        wanted = callback_params.get("businessId")
        chosen = next((b for b in rows if wanted and b["id"] == wanted), None)
        chosen = chosen or next((b for b in rows if not b.get("isPersonal") and not b.get("isArchived")), rows[0])
        return Tenant(id=str(chosen["id"]), name=str(chosen.get("name") or "Wave business"))

    def businesses(self, access_token: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 1
        while True:
            try:
                resp = client("wave").post(
                    self.graphql_endpoint,
                    json={"query": BUSINESSES, "variables": {"page": page, "pageSize": 50}},
                    headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise ProviderUnavailable("Wave could not be reached") from exc
            if resp.status_code >= 500 or resp.status_code == 429:
                raise ProviderUnavailable(f"Wave answered {resp.status_code}")
            body = resp.json() if resp.content else {}
            codes = {((e.get("extensions") or {}).get("code")) for e in body.get("errors") or []}
            if resp.status_code in (401, 403) or "UNAUTHENTICATED" in codes:
                raise InvalidGrant("Wave refused the new access token")
            connection = ((body.get("data") or {}).get("businesses")) or {}
            if resp.status_code != 200 or not connection:
                raise ProviderUnavailable(f"Wave businesses query failed ({resp.status_code})")
            out += [edge["node"] for edge in connection.get("edges") or []]
            if page >= int((connection.get("pageInfo") or {}).get("totalPages") or 1):
                return out
            page += 1

    # ------------------------------------------------------------------------------------------------------------
    def _token(self, form: dict[str, str], previous: TokenSet | None) -> TokenSet:
        started = time.time()
        resp = self._post(self.token_endpoint, form)
        if resp.status_code in (400, 401) and _error_code(resp) in GRANT_ERRORS:
            raise InvalidGrant(_error_code(resp))
        if resp.status_code == 429 or resp.status_code >= 500:
            raise ProviderUnavailable(
                f"Wave token endpoint answered {resp.status_code}", retry_after=retry_after(resp, 30.0)
            )
        if resp.status_code != 200:
            raise ProviderUnavailable(f"Wave token endpoint answered {resp.status_code}")
        body = resp.json()
        return TokenSet(
            access_token=body["access_token"],
            # rotation is UNCONFIRMED: keep a returned refresh token, else the one we had
            refresh_token=body.get("refresh_token") or (previous.refresh_token if previous else ""),
            access_expires_at=started + float(body.get("expires_in", 3600)),
        )

    def _post(self, url: str, form: dict[str, str]) -> httpx.Response:
        try:
            return client("wave").post(
                url,
                data={"client_id": self.client_id, "client_secret": self.client_secret, **form},
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ProviderUnavailable("Wave could not be reached") from exc


def _error_code(resp: httpx.Response) -> str:
    try:
        return str(resp.json().get("error") or "")
    except (ValueError, AttributeError):
        return ""
