"""QuickBooks sandbox: authorize, token, refresh rotation, revoke, and API authentication."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import httpx

from local.sandbox.quickbooks import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

if TYPE_CHECKING:
    from conftest import Connection, Qbo

REDIRECT_URI = "http://127.0.0.1:9/integrations/quickbooks/callback"


def test_authorize_redirects_with_code_state_and_realm(qbo: Qbo) -> None:
    params = qbo.redirect_params(qbo.authorize(state="abc"))
    assert set(params) == {"code", "state", "realmId"}
    assert params["state"] == "abc"
    assert params["realmId"].isdigit()


def test_first_consent_creates_a_seeded_company(qbo: Qbo) -> None:
    conn = qbo.connect(sandbox_realm_id="4620816365", sandbox_company_name="Plumbing Co")
    assert conn.realm_id == "4620816365"
    info = qbo.read(conn, "CompanyInfo", conn.realm_id)
    assert info["CompanyName"] == "Plumbing Co"
    methods = {m["Name"] for m in qbo.query(conn, "select * from PaymentMethod")["PaymentMethod"]}
    assert methods == {"Cash", "Check", "Visa", "MasterCard", "American Express", "Discover"}
    income = qbo.query(conn, "select * from Account where AccountType = 'Income'")["Account"]
    assert len(income) >= 2
    assert all(a["Classification"] == "Revenue" for a in income)
    assert qbo.query(conn, "select * from Account where AccountType = 'Bank'")["Account"]
    assert qbo.query(conn, "select * from Account where Name = 'Undeposited Funds'")["Account"]


def test_next_connect_knob_chooses_realm_once(qbo: Qbo) -> None:
    qbo.configure(next_connect={"realm_id": "123456", "company_name": "Knob Co"})
    assert qbo.connect().realm_id == "123456"
    assert qbo.connect().realm_id != "123456"  # one-shot: back to the default realm


def test_authorize_rejects_unknown_client_bad_redirect_and_missing_state(qbo: Qbo) -> None:
    assert qbo.authorize(client_id="someone-else").status_code == 400
    assert qbo.authorize(redirect_uri="ftp://x").status_code == 400
    assert qbo.authorize(state="").status_code == 400


def test_authorize_errors_come_back_on_the_redirect(qbo: Qbo) -> None:
    assert qbo.redirect_params(qbo.authorize(response_type="token"))["error"] == "unsupported_response_type"
    assert qbo.redirect_params(qbo.authorize(scope="openid email"))["error"] == "invalid_scope"
    denied = qbo.redirect_params(qbo.authorize(sandbox_decision="deny"))
    assert denied == {"error": "access_denied", "state": "state-123"}


def test_registered_redirect_uris_are_enforced(qbo: Qbo) -> None:
    qbo.configure(apps=[{"client_id": "strict", "client_secret": "s", "redirect_uris": ["https://app.example/cb"]}])
    assert qbo.authorize(client_id="strict").status_code == 400
    assert qbo.authorize(client_id="strict", redirect_uri="https://app.example/cb").status_code == 302


def test_token_response_has_intuit_shape(qbo: Qbo) -> None:
    body = qbo.connect().token_response
    assert set(body) == {"token_type", "expires_in", "refresh_token", "x_refresh_token_expires_in", "access_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["x_refresh_token_expires_in"] == 8_726_400


def test_authorization_code_is_single_use(qbo: Qbo) -> None:
    code = qbo.redirect_params(qbo.authorize())["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    assert qbo.token(data).status_code == 200
    second = qbo.token(data)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"


def test_authorization_code_is_bound_to_redirect_uri_and_expires(qbo: Qbo) -> None:
    code = qbo.redirect_params(qbo.authorize())["code"]
    wrong = qbo.token({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI + "x"})
    assert wrong.json()["error"] == "invalid_grant"
    late = qbo.redirect_params(qbo.authorize())["code"]
    qbo.advance(301)
    expired = qbo.token({"grant_type": "authorization_code", "code": late, "redirect_uri": REDIRECT_URI})
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"


def test_authorization_code_is_bound_to_the_client(qbo: Qbo) -> None:
    qbo.configure(apps=[{"client_id": "other", "client_secret": "other-secret"}])
    code = qbo.redirect_params(qbo.authorize())["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    assert qbo.token(data, auth=("other", "other-secret")).json()["error"] == "invalid_grant"


def test_token_endpoint_authenticates_the_client(qbo: Qbo) -> None:
    code = qbo.redirect_params(qbo.authorize())["code"]
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    bad = qbo.token(data, auth=(DEFAULT_CLIENT_ID, "wrong"))
    assert bad.status_code == 401
    assert bad.json()["error"] == "invalid_client"
    no_auth = qbo.http.post("/quickbooks/oauth2/v1/tokens/bearer", data=data)
    assert no_auth.status_code == 401
    # client_secret_post is accepted too (both methods are in Intuit's discovery document)
    post = qbo.http.post(
        "/quickbooks/oauth2/v1/tokens/bearer",
        data={**data, "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET},
    )
    assert post.status_code == 200


def test_token_endpoint_requires_a_form_body_and_a_known_grant(qbo: Qbo) -> None:
    as_json = qbo.http.post(
        "/quickbooks/oauth2/v1/tokens/bearer",
        json={"grant_type": "refresh_token"},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    assert as_json.status_code == 400
    assert qbo.token({"grant_type": "password"}).json()["error"] == "unsupported_grant_type"


def test_access_token_expires_after_an_hour(qbo: Qbo, conn: Connection) -> None:
    assert qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}").status_code == 200
    qbo.advance(3599)
    assert qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}").status_code == 200
    qbo.advance(2)
    error = qbo.error(qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}"), 401)
    assert error["code"] == "3200"
    assert error["type"] == "AuthenticationFault"
    refreshed = qbo.refresh(conn.refresh_token).json()
    assert qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}", token=refreshed["access_token"]).status_code == 200


def test_refresh_rotates_and_the_superseded_token_gets_invalid_grant(qbo: Qbo, conn: Connection) -> None:
    # Given the default policy (rotate on every refresh, no grace)
    first = qbo.refresh(conn.refresh_token)
    assert first.status_code == 200
    new_token = first.json()["refresh_token"]
    assert new_token != conn.refresh_token
    # When the superseded token is replayed
    replay = qbo.refresh(conn.refresh_token)
    # Then Intuit's invalid_grant JSON comes back and the stats count it
    assert replay.status_code == 400
    assert set(replay.json()) == {"error", "error_description"}
    assert replay.json()["error"] == "invalid_grant"
    assert qbo.refresh(new_token).status_code == 200
    tokens = qbo.tenant(conn.realm_id)["tokens"]
    assert tokens["refreshes"] == 2
    assert tokens["invalid_grant"] == 1


def test_grace_lets_a_superseded_token_work_for_a_while(qbo: Qbo, conn: Connection) -> None:
    qbo.configure(refresh_grace_seconds=60)
    current = qbo.refresh(conn.refresh_token).json()["refresh_token"]
    qbo.advance(30)
    within = qbo.refresh(conn.refresh_token)
    assert within.status_code == 200
    assert within.json()["refresh_token"] == current  # no second rotation
    qbo.advance(31)
    assert qbo.refresh(conn.refresh_token).json()["error"] == "invalid_grant"
    assert qbo.refresh(current).status_code == 200


def test_rotation_never_returns_the_same_refresh_token(qbo: Qbo, conn: Connection) -> None:
    qbo.configure(rotation_policy="never")
    assert qbo.refresh(conn.refresh_token).json()["refresh_token"] == conn.refresh_token
    assert qbo.refresh(conn.refresh_token).status_code == 200


def test_periodic_rotation_keeps_the_value_inside_the_period(qbo: Qbo, conn: Connection) -> None:
    qbo.configure(rotation_policy="periodic", rotation_period_seconds=86_400)
    qbo.advance(3600)
    assert qbo.refresh(conn.refresh_token).json()["refresh_token"] == conn.refresh_token
    qbo.advance(86_400)
    rotated = qbo.refresh(conn.refresh_token).json()["refresh_token"]
    assert rotated != conn.refresh_token
    assert qbo.refresh(conn.refresh_token).json()["error"] == "invalid_grant"


def test_refresh_token_expires_when_unused_and_each_refresh_extends_it(qbo: Qbo, conn: Connection) -> None:
    qbo.configure(rotation_policy="never")
    qbo.advance(8_000_000)
    extended = qbo.refresh(conn.refresh_token).json()
    assert extended["x_refresh_token_expires_in"] >= 8_726_300
    qbo.advance(8_726_401)
    assert qbo.refresh(conn.refresh_token).json()["error"] == "invalid_grant"


def test_revoking_the_refresh_token_kills_the_whole_grant(qbo: Qbo, conn: Connection) -> None:
    response = qbo.http.post(
        "/quickbooks/v2/oauth2/tokens/revoke",
        json={"token": conn.refresh_token},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    assert response.status_code == 200
    assert qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}").status_code == 401
    assert qbo.refresh(conn.refresh_token).json()["error"] == "invalid_grant"
    assert qbo.tenant(conn.realm_id)["tokens"]["active_grants"] == 0


def test_revoking_an_access_token_also_kills_the_grant(qbo: Qbo, conn: Connection) -> None:
    qbo.http.post(
        "/quickbooks/v2/oauth2/tokens/revoke",
        json={"token": conn.access_token},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    ).raise_for_status()
    assert qbo.refresh(conn.refresh_token).json()["error"] == "invalid_grant"


def test_revoke_requires_basic_auth_and_json(qbo: Qbo, conn: Connection) -> None:
    unauth = qbo.http.post("/quickbooks/v2/oauth2/tokens/revoke", json={"token": conn.refresh_token})
    assert unauth.status_code == 401
    form = qbo.http.post(
        "/quickbooks/v2/oauth2/tokens/revoke",
        data={"token": conn.refresh_token},
        auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
    )
    assert form.status_code == 400
    assert qbo.refresh(conn.refresh_token).status_code == 200  # nothing was revoked


def test_api_requires_a_bearer_token_valid_for_that_realm(qbo: Qbo, conn: Connection) -> None:
    other = qbo.connect(sandbox_realm_id="777")
    wrong_realm = qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}", token=other.access_token)
    assert qbo.error(wrong_realm, 401)["code"] == "3200"
    garbage = qbo.api(conn, "GET", f"companyinfo/{conn.realm_id}", token="nope")
    assert qbo.error(garbage, 401)["type"] == "AuthenticationFault"
    missing = qbo.http.get(
        f"/quickbooks/v3/company/{conn.realm_id}/companyinfo/{conn.realm_id}", headers={"Accept": "application/json"}
    )
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith("Bearer")


def test_lowercase_401_style_is_available(qbo: Qbo, conn: Connection) -> None:
    qbo.configure(auth_fault_style="lowercase")
    body = qbo.api(conn, "GET", "companyinfo/1", token="nope").json()
    assert body["fault"]["error"][0]["code"] == "3200"
    assert "Fault" not in body


def test_request_log_flags_token_refreshes(qbo: Qbo, conn: Connection) -> None:
    qbo.refresh(conn.refresh_token)
    qbo.refresh("bogus")
    refreshes = [r for r in qbo.requests() if r["token_refresh"]]
    assert [(r["status"], r["tenant"]) for r in refreshes] == [(200, conn.realm_id), (400, None)]
    exchanges = [r for r in qbo.requests() if r["path"].endswith("/tokens/bearer") and not r["token_refresh"]]
    assert len(exchanges) == 1


def test_basic_auth_header_is_parsed_strictly(qbo: Qbo, conn: Connection) -> None:
    garbled = qbo.http.post(
        "/quickbooks/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": conn.refresh_token},
        headers={"Authorization": "Basic " + base64.b64encode(b"no-colon-here").decode()},
    )
    assert garbled.status_code == 401


def test_discovery_document_points_at_the_sandbox(qbo: Qbo) -> None:
    doc = qbo.http.get("/quickbooks/.well-known/openid_configuration").json()
    assert doc["token_endpoint"] == f"{qbo.sandbox.url}/quickbooks/oauth2/v1/tokens/bearer"
    assert isinstance(httpx.URL(doc["authorization_endpoint"]), httpx.URL)
