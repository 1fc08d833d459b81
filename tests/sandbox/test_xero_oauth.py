"""Xero sandbox: identity OAuth (consent, code, 30-minute tokens, rotation with a 30-minute grace, revoke) and
/connections, over real HTTP. Every exchange is checked against the official specs at teardown."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from local.sandbox.server import SandboxServer
from local.sandbox.xero import DEFAULT_TENANT_ID
from tests.integration.xero_helpers import REDIRECT_URI, XeroClient, assert_conformant

OTHER_TENANT = "0b7c6f0e-5a4e-4d55-8e5d-3f1c9c2d7a02"


@pytest.fixture
def xero(http: httpx.Client, sandbox: SandboxServer) -> Iterator[XeroClient]:
    client = XeroClient(http, sandbox)
    client.configure(record_exchanges=True)
    yield client
    assert_conformant(sandbox)


def test_consent_redirects_with_code_and_state_and_the_code_is_single_use(xero: XeroClient) -> None:
    consent = xero.authorize()
    params = xero.redirect_params(consent)
    assert params["state"] == "state-123" and params["code"] and "offline_access" in params["scope"]
    form = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI}
    first = xero.token(form)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["expires_in"] == 1800 and body["token_type"] == "Bearer"
    assert {"access_token", "refresh_token", "id_token", "scope"} <= set(body)
    again = xero.token(form)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}


def test_client_auth_and_redirect_checks(xero: XeroClient) -> None:
    params = xero.redirect_params(xero.authorize())
    form = {"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI}
    assert xero.token(form, auth=("local-xero-client", "wrong")).json() == {"error": "invalid_client"}
    wrong_uri = xero.token({**form, "redirect_uri": "http://127.0.0.1:9/other"})
    assert wrong_uri.status_code == 400 and wrong_uri.json()["error"] == "invalid_grant"
    # client_secret_post (as xero-python sends it) works too
    post = xero.http.post(
        "/xero/connect/token", data={**form, "client_id": "local-xero-client", "client_secret": "local-xero-secret"}
    )
    assert post.status_code == 200, post.text
    assert xero.authorize(client_id="nobody").status_code == 400
    denied = xero.redirect_params(xero.authorize(sandbox_decision="deny"))
    assert denied == {"error": "access_denied", "state": "state-123"}
    assert xero.redirect_params(xero.authorize(scope="accounting.everything"))["error"] == "invalid_scope"


def test_without_offline_access_there_is_no_refresh_token(xero: XeroClient) -> None:
    params = xero.redirect_params(xero.authorize(scope="accounting.transactions accounting.contacts"))
    body = xero.token({"grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT_URI}).json()
    assert "refresh_token" not in body and "id_token" not in body


def test_access_tokens_last_thirty_minutes(xero: XeroClient) -> None:
    conn = xero.connect()
    assert xero.api(conn, "GET", "Accounts").status_code == 200
    xero.advance(1801)
    expired = xero.api(conn, "GET", "Accounts")
    assert expired.status_code == 401
    problem = expired.json()
    assert problem["Title"] == "Unauthorized" and problem["Detail"].startswith("TokenExpired")


def test_refresh_rotates_every_time_and_the_old_token_has_a_30_minute_grace(xero: XeroClient) -> None:
    conn = xero.connect()
    first = xero.refresh(conn.refresh_token).json()
    assert first["refresh_token"] != conn.refresh_token
    second = xero.refresh(first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    # the answer to a refresh was lost: the previous token still works within 30 minutes ...
    replay = xero.refresh(first["refresh_token"])
    assert replay.status_code == 200, replay.text
    assert replay.json()["refresh_token"] == second["refresh_token"]  # ... and hands back the current one
    assert xero.api(conn, "GET", "Accounts", token=replay.json()["access_token"]).status_code == 200
    # after the grace the superseded token is dead
    xero.advance(1801)
    dead = xero.refresh(first["refresh_token"])
    assert dead.status_code == 400 and dead.json() == {"error": "invalid_grant"}
    assert xero.refresh(second["refresh_token"]).status_code == 200
    tokens = xero.tenant()["tokens"]
    assert tokens["refreshes"] == 4 and tokens["invalid_grant"] == 1


def test_refresh_tokens_die_after_60_days_unused(xero: XeroClient) -> None:
    conn = xero.connect()
    xero.advance(59 * 86400)
    alive = xero.refresh(conn.refresh_token)
    assert alive.status_code == 200
    xero.advance(60 * 86400 + 1)
    assert xero.refresh(alive.json()["refresh_token"]).json() == {"error": "invalid_grant"}


def test_connections_list_tenants_and_delete_disconnects_one(xero: XeroClient) -> None:
    conn = xero.connect(sandbox_tenants=f"{DEFAULT_TENANT_ID},{OTHER_TENANT}")
    auth = {"Authorization": f"Bearer {conn.access_token}"}
    rows = xero.http.get("/xero/connections", headers=auth).json()
    assert {r["tenantId"] for r in rows} == {DEFAULT_TENANT_ID, OTHER_TENANT}
    assert all(r["tenantType"] == "ORGANISATION" and r["id"] and r["tenantName"] for r in rows)
    assert len({r["authEventId"] for r in rows}) == 1
    by_event = xero.http.get("/xero/Connections", headers=auth, params={"authEventId": rows[0]["authEventId"]})
    assert len(by_event.json()) == 2
    other = next(r for r in rows if r["tenantId"] == OTHER_TENANT)
    assert xero.http.delete(f"/xero/connections/{other['id']}", headers=auth).status_code == 204
    assert xero.http.delete(f"/xero/connections/{other['id']}", headers=auth).status_code == 404
    # the disconnected organisation refuses the token, the other one still answers
    refused = xero.api(conn, "GET", "Accounts", tenant=OTHER_TENANT)
    assert refused.status_code == 403 and refused.json()["Detail"] == "AuthenticationUnsuccessful"
    assert xero.api(conn, "GET", "Accounts").status_code == 200
    assert xero.http.get("/xero/connections").status_code == 401


def test_revoking_the_refresh_token_kills_the_grant_and_the_connections(xero: XeroClient) -> None:
    conn = xero.connect()
    revoked = xero.http.post(
        "/xero/connect/revocation", data={"token": conn.refresh_token}, auth=("local-xero-client", "local-xero-secret")
    )
    assert revoked.status_code == 200 and revoked.content == b""
    assert xero.refresh(conn.refresh_token).json() == {"error": "invalid_grant"}
    assert xero.api(conn, "GET", "Accounts").status_code == 401
    assert xero.tenant()["connections"] == []
    # unknown tokens are fine (RFC 7009); access tokens are not what Xero revokes
    again = xero.http.post(
        "/xero/connect/revocation", data={"token": "nope"}, auth=("local-xero-client", "local-xero-secret")
    )
    assert again.status_code == 200
    other = xero.connect()
    wrong_kind = xero.http.post(
        "/xero/connect/revocation", data={"token": other.access_token}, auth=("local-xero-client", "local-xero-secret")
    )
    assert wrong_kind.status_code == 400 and wrong_kind.json() == {"error": "unsupported_token_type"}


def test_reconsent_keeps_the_connection_and_moves_its_auth_event(xero: XeroClient) -> None:
    first = xero.connect()
    auth = {"Authorization": f"Bearer {first.access_token}"}
    before = xero.http.get("/xero/connections", headers=auth).json()
    second = xero.connect()
    after = xero.http.get("/xero/connections", headers={"Authorization": f"Bearer {second.access_token}"}).json()
    assert [r["id"] for r in before] == [r["id"] for r in after]
    assert before[0]["authEventId"] != after[0]["authEventId"]
    location = urlparse(xero.authorize(state="s2").headers["location"])
    assert parse_qs(location.query)["state"] == ["s2"]
