"""The FreshBooks sandbox over HTTP: OAuth (12 h access tokens, single-use refresh tokens without grace), users/me,
the accounting rules, search and paging, limits, and error bodies in the shapes of FreshBooks' own SDK fixtures.

Fixtures come from one setting: env BOOKSYNC_SPECS_DIR, default ``../shared/specs`` from the repo root.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from local.sandbox.freshbooks import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

REPO_ROOT = Path(__file__).resolve().parents[2]
REDIRECT_URI = "https://app.test/integrations/freshbooks/callback"


def specs_dir() -> Path:
    configured = os.environ.get("BOOKSYNC_SPECS_DIR")
    return Path(configured) if configured else (REPO_ROOT / ".." / "shared" / "specs").resolve()


def fixture(name: str) -> Any:
    path = specs_dir() / "fixtures" / "freshbooks" / name
    if not path.is_file():
        pytest.skip(f"FreshBooks fixture {path} not found: set BOOKSYNC_SPECS_DIR to the shared specs directory")
    return json.loads(path.read_text())


class Fb:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def authorize(self, **params: str) -> httpx.Response:
        query = {"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT_URI, "state": "s1"}
        query.update(params)
        return self.http.get("/freshbooks/oauth/authorize", params=query)

    def token(self, **body: str) -> httpx.Response:
        payload = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET, **body}
        return self.http.post("/freshbooks/auth/oauth/token", json=payload)

    def connect(self, **params: str) -> dict[str, Any]:
        r = self.authorize(**params)
        assert r.status_code == 302, r.text
        code = parse_qs(urlparse(r.headers["location"]).query)["code"][0]
        t = self.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
        assert t.status_code == 200, t.text
        body = t.json()
        me = self.me(body["access_token"]).json()["response"]
        body["account_id"] = me["business_memberships"][0]["business"]["account_id"]
        body["business_uuid"] = me["business_memberships"][0]["business"]["business_uuid"]
        return dict(body)

    def refresh(self, refresh_token: str, redirect_uri: str | None = REDIRECT_URI) -> httpx.Response:
        body = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        if redirect_uri:
            body["redirect_uri"] = redirect_uri
        return self.token(**body)

    def me(self, access_token: str) -> httpx.Response:
        return self.http.get("/freshbooks/auth/api/v1/users/me", headers={"Authorization": f"Bearer {access_token}"})

    def api(self, conn: dict[str, Any], method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {kw.pop('token', conn['access_token'])}"}
        url = f"/freshbooks/accounting/account/{kw.pop('account', conn['account_id'])}/{path}"
        return self.http.request(method, url, headers=headers, **kw)

    def create(self, conn: dict[str, Any], path: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        r = self.api(conn, "POST", path, json={kind: obj})
        assert r.status_code == 200, r.text
        return dict(r.json()["response"]["result"][kind])

    def client(self, conn: dict[str, Any], name: str = "Acme Corp") -> dict[str, Any]:
        return self.create(conn, "users/clients", "client", {"organization": name})

    def invoice(self, conn: dict[str, Any], client_id: int, number: str = "INV-1", **extra: Any) -> dict[str, Any]:
        line = {"type": 0, "name": "Widget", "qty": "2", "unit_cost": {"amount": "12.50", "code": "USD"}}
        body = {"customerid": client_id, "create_date": "2026-11-01", "invoice_number": number, "lines": [line]}
        return self.create(conn, "invoices/invoices", "invoice", {**body, **extra})

    @staticmethod
    def error(r: httpx.Response, status: int) -> dict[str, Any]:
        assert r.status_code == status, r.text
        errors = r.json()["response"]["errors"]
        assert len(errors) == 1
        return dict(errors[0])

    def configure(self, **knobs: Any) -> None:
        self.http.post("/_sandbox/freshbooks/config", json=knobs).raise_for_status()

    def advance(self, seconds: float) -> None:
        self.http.post("/_sandbox/clock", json={"advance": seconds}).raise_for_status()


@pytest.fixture
def fb(http: httpx.Client) -> Fb:
    return Fb(http)


@pytest.fixture
def conn(fb: Fb) -> dict[str, Any]:
    return fb.connect()


# ---- OAuth ----------------------------------------------------------------------------------------------------------
def test_consent_redirects_with_code_and_state_only(fb: Fb) -> None:
    r = fb.authorize()
    assert r.status_code == 302
    params = parse_qs(urlparse(r.headers["location"]).query)
    assert set(params) == {"code", "state"} and params["state"] == ["s1"]  # no account id: users/me names it
    assert fb.authorize(redirect_uri=REDIRECT_URI + "?x=1").status_code == 400  # no query strings in redirect URIs
    assert fb.authorize(client_id="nope").status_code == 400
    denied = fb.authorize(sandbox_decision="deny")
    assert parse_qs(urlparse(denied.headers["location"]).query)["error"] == ["access_denied"]


def test_token_answer_has_the_fixture_shape_and_a_12_hour_access_token(fb: Fb) -> None:
    body = fb.connect()
    expected = set(fixture("auth_token_response.json")) - {"id_token"}  # no OpenID in the accounting flow
    assert expected <= set(body)
    assert body["token_type"] == "Bearer" and body["expires_in"] == 43_200
    fb.advance(43_200 - 30)
    assert fb.me(body["access_token"]).status_code == 200
    fb.advance(60)
    r = fb.me(body["access_token"])
    assert r.status_code == 401 and set(r.json()) == {"error", "error_description"}


def test_codes_are_single_use_short_lived_and_bound_to_the_redirect(fb: Fb) -> None:
    def code() -> str:
        return parse_qs(urlparse(fb.authorize().headers["location"]).query)["code"][0]

    first = code()
    assert fb.token(grant_type="authorization_code", code=first, redirect_uri=REDIRECT_URI).status_code == 200
    again = fb.token(grant_type="authorization_code", code=first, redirect_uri=REDIRECT_URI)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    other = fb.token(grant_type="authorization_code", code=code(), redirect_uri="https://elsewhere.test/cb")
    assert other.json()["error"] == "invalid_grant"
    late = code()
    fb.advance(301)
    assert fb.token(grant_type="authorization_code", code=late, redirect_uri=REDIRECT_URI).json()["error"] == (
        "invalid_grant"
    )


def test_refresh_tokens_are_single_use_with_no_grace(fb: Fb) -> None:
    conn = fb.connect()
    first = fb.refresh(conn["refresh_token"])
    assert first.status_code == 200
    assert first.json()["refresh_token"] != conn["refresh_token"]
    # the superseded refresh token is dead at once, even a second later
    replay = fb.refresh(conn["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert fb.refresh(first.json()["refresh_token"], redirect_uri=None).json()["error"] == "invalid_request"
    assert fb.refresh(first.json()["refresh_token"]).status_code == 200
    # refresh tokens do not expire with time
    fb.advance(400 * 86_400)
    conn2 = fb.connect()
    fb.advance(400 * 86_400)
    assert fb.refresh(conn2["refresh_token"]).status_code == 200


def test_token_endpoint_takes_json_or_form_and_checks_the_client(fb: Fb, http: httpx.Client) -> None:
    conn = fb.connect()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": conn["refresh_token"],
        "redirect_uri": REDIRECT_URI,
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": "wrong",
    }
    bad = http.post("/freshbooks/auth/oauth/token", data=form)
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    form["client_secret"] = DEFAULT_CLIENT_SECRET
    assert http.post("/freshbooks/auth/oauth/token", data=form).status_code == 200


def test_revoke_kills_the_grant(fb: Fb, http: httpx.Client) -> None:
    conn = fb.connect()
    payload = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET, "token": conn["refresh_token"]}
    assert http.post("/freshbooks/auth/oauth/revoke", json=payload).status_code == 200
    assert fb.refresh(conn["refresh_token"]).json()["error"] == "invalid_grant"
    r = fb.api(conn, "GET", "users/clients")
    assert r.status_code == 401 and r.json() == fixture("get_callback_response__no_auth.json")


def test_revoke_takes_only_a_json_body_with_the_client_credentials(fb: Fb, http: httpx.Client) -> None:
    """FB.md section 1: revoke is JSON {client_id, client_secret, token}; a form body or Basic auth is refused with an
    OAuth error and the grant stays live (our adapter ignores 4xx on revoke, so only the sandbox can tell)."""
    conn = fb.connect()
    creds = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
    url = "/freshbooks/auth/oauth/revoke"
    form = http.post(url, data={**creds, "token": conn["refresh_token"]})
    basic = http.post(url, json={"token": conn["refresh_token"]}, auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
    assert (form.status_code, form.json()["error"]) == (400, "invalid_request")
    assert (basic.status_code, basic.json()["error"]) == (401, "invalid_client")
    assert fb.api(conn, "GET", "users/clients").status_code == 200  # still connected
    account = conn["account_id"]
    assert http.get(f"/_sandbox/freshbooks/tenants/{account}").json()["tokens"]["revocations"] == 0
    assert http.post(url, json={**creds, "token": conn["refresh_token"]}).status_code == 200
    assert fb.api(conn, "GET", "users/clients").status_code == 401
    assert http.get(f"/_sandbox/freshbooks/tenants/{account}").json()["tokens"]["revocations"] == 1


def test_references_to_soft_deleted_objects_answer_1011(fb: Fb, conn: dict[str, Any]) -> None:
    """FB.md section 7: errno 1011 DeletedResource. A deleted (vis_state 1) client cannot take a new invoice and a
    deleted invoice cannot take a payment; the refusal is in the accounting envelope and writes nothing."""
    client = fb.client(conn, "Gone Client")
    keep = fb.client(conn, "Kept Client")
    assert fb.api(conn, "PUT", f"users/clients/{client['id']}", json={"client": {"vis_state": 1}}).status_code == 200
    body = {"customerid": client["id"], "create_date": "2026-11-01", "lines": []}
    refused = fb.error(fb.api(conn, "POST", "invoices/invoices", json={"invoice": body}), 400)
    assert (refused["errno"], refused["field"], refused["object"]) == (1011, "customerid", "client")
    invoice = fb.invoice(conn, keep["id"], "INV-DEL")
    assert fb.api(conn, "DELETE", f"invoices/invoices/{invoice['id']}").status_code == 200
    payment = {"invoiceid": invoice["id"], "amount": {"amount": "5.00"}, "date": "2026-11-02", "type": "Check"}
    refused = fb.error(fb.api(conn, "POST", "payments/payments", json={"payment": payment}), 400)
    assert (refused["errno"], refused["field"], refused["object"]) == (1011, "invoiceid", "invoice")
    listed = fb.api(conn, "GET", "payments/payments").json()["response"]["result"]
    invoices = fb.api(conn, "GET", "invoices/invoices").json()["response"]["result"]
    assert (listed["total"], invoices["total"]) == (0, 0)


# ---- identity --------------------------------------------------------------------------------------------------------
def test_users_me_lists_business_memberships_like_the_fixture(fb: Fb) -> None:
    fb.configure(next_connect={"account_id": "AAA111", "extra_businesses": [{"account_id": "BBB222"}]})
    conn = fb.connect()
    me = fb.me(conn["access_token"]).json()["response"]
    sample = fixture("auth_me_response.json")["response"]["business_memberships"][0]
    for membership in me["business_memberships"]:
        assert set(sample) - {"business"} <= set(membership)
        assert {"id", "business_uuid", "name", "account_id", "date_format"} <= set(membership["business"])
    accounts = [m["business"]["account_id"] for m in me["business_memberships"]]
    assert accounts == ["AAA111", "BBB222"]
    assert fb.api(conn, "GET", "users/clients", account="BBB222").status_code == 200
    fb.configure(next_connect={"account_id": "CCC333"})
    other = fb.connect()
    assert fb.api(conn, "GET", "users/clients", account=other["account_id"]).status_code == 401


# ---- accounting rules ---------------------------------------------------------------------------------------------
def test_bodies_are_wrapped_validated_and_unknown_fields_refused(fb: Fb, conn: dict[str, Any]) -> None:
    assert fb.error(fb.api(conn, "POST", "users/clients", json={"organization": "x"}), 400)["errno"] == 1005
    err = fb.error(fb.api(conn, "POST", "users/clients", json={"client": {"organization": "x", "nickname": "y"}}), 400)
    assert (err["errno"], err["field"]) == (1004, "nickname")
    err = fb.error(fb.api(conn, "POST", "users/clients", json={"client": {"note": "nobody"}}), 400)
    assert err["errno"] == 1001
    client = fb.client(conn)
    body = {"customerid": client["id"], "lines": []}
    assert fb.error(fb.api(conn, "POST", "invoices/invoices", json={"invoice": body}), 400)["field"] == "create_date"
    line = {"name": "W", "qty": 1, "unit_cost": {"amount": 12.5, "code": "USD"}}  # a number, not a string
    body = {"customerid": client["id"], "create_date": "2026-11-01", "lines": [line]}
    assert fb.error(fb.api(conn, "POST", "invoices/invoices", json={"invoice": body}), 400)["errno"] == 1004
    line["unit_cost"] = {"amount": "12.50", "code": "CAD"}  # not the invoice's currency
    assert fb.error(fb.api(conn, "POST", "invoices/invoices", json={"invoice": body}), 400)["errno"] == 1004
    body["customerid"] = 999_999
    err = fb.error(fb.api(conn, "POST", "invoices/invoices", json={"invoice": body}), 400)
    assert (err["errno"], err["field"]) == (1012, "customerid")


def test_not_found_has_the_fixture_shape(fb: Fb, conn: dict[str, Any]) -> None:
    r = fb.api(conn, "GET", "users/clients/12345")
    assert r.status_code == 404
    assert r.json() == fixture("get_client_response__not_found.json")


def test_client_answer_carries_the_fixture_fields(fb: Fb, conn: dict[str, Any]) -> None:
    client = fb.client(conn)
    sample = fixture("create_client_response.json")["response"]["result"]["client"]
    core = {"id", "userid", "accounting_systemid", "organization", "fname", "lname", "email", "currency_code"}
    assert core | {"updated", "vis_state", "signup_date", "note", "language"} <= set(client) & set(sample)
    assert client["accounting_systemid"] == conn["account_id"] and client["id"] == client["userid"]
    # US/Eastern, no offset, whole seconds (like the fixture's "2020-11-16 21:27:03")
    assert len(client["updated"]) == len(sample["updated"]) and "T" not in client["updated"]


def test_invoice_totals_lines_only_on_request_payments_and_overpayment(fb: Fb, conn: dict[str, Any]) -> None:
    client = fb.client(conn)
    inv = fb.invoice(conn, client["id"])
    assert inv["amount"] == {"amount": "25.00", "code": "USD"} and inv["v3_status"] == "draft"
    plain = fb.api(conn, "GET", f"invoices/invoices/{inv['id']}").json()["response"]["result"]["invoice"]
    assert "lines" not in plain
    full = fb.api(conn, "GET", f"invoices/invoices/{inv['id']}", params={"include[]": "lines"})
    assert full.json()["response"]["result"]["invoice"]["lines"][0]["amount"]["amount"] == "25.00"
    pay = {"invoiceid": inv["id"], "amount": {"amount": "10.00"}, "date": "2026-11-02", "type": "Check", "note": "n"}
    payment = fb.create(conn, "payments/payments", "payment", pay)
    assert payment["amount"] == {"amount": "10.00", "code": "USD"} and payment["clientid"] == client["id"]
    assert payment["overpaymentid"] is None
    after = fb.api(conn, "GET", f"invoices/invoices/{inv['id']}").json()["response"]["result"]["invoice"]
    assert (after["outstanding"]["amount"], after["payment_status"]) == ("15.00", "partial")
    over = fb.create(conn, "payments/payments", "payment", {**pay, "amount": {"amount": "20.00"}})
    assert over["overpaymentid"] is not None  # the excess becomes a credit
    bad = fb.api(conn, "POST", "payments/payments", json={"payment": {**pay, "type": "Barter"}})
    assert fb.error(bad, 400)["field"] == "type"


def test_invoice_numbers_are_not_unique_unless_the_account_says_so(fb: Fb, conn: dict[str, Any]) -> None:
    client = fb.client(conn)
    fb.invoice(conn, client["id"], "INV-9")
    fb.invoice(conn, client["id"], "INV-9")  # FreshBooks' rule is UNCONFIRMED: the sandbox does not protect you
    fb.configure(accounts={conn["account_id"]: {"unique_invoice_numbers": True}})
    line = {"name": "W", "qty": "1", "unit_cost": {"amount": "1.00", "code": "USD"}}
    body = {"customerid": client["id"], "create_date": "2026-11-01", "invoice_number": "INV-9", "lines": [line]}
    err = fb.error(fb.api(conn, "POST", "invoices/invoices", json={"invoice": body}), 400)
    assert (err["errno"], err["field"]) == (1004, "invoice_number")


def test_paging_caps_per_page_at_100_and_pages_past_the_end_are_empty(fb: Fb, conn: dict[str, Any]) -> None:
    for n in range(105):
        fb.client(conn, f"Client {n:03d}")
    page = fb.api(conn, "GET", "users/clients", params={"per_page": "500"}).json()["response"]["result"]
    assert (len(page["clients"]), page["per_page"], page["pages"], page["total"]) == (100, 100, 2, 105)
    default = fb.api(conn, "GET", "users/clients").json()["response"]["result"]
    assert (default["per_page"], len(default["clients"])) == (15, 15)
    zero = fb.api(conn, "GET", "users/clients", params={"page": "0", "per_page": "100"}).json()["response"]["result"]
    assert zero["page"] == 1
    past = fb.api(conn, "GET", "users/clients", params={"page": "3", "per_page": "100"}).json()["response"]["result"]
    assert past["clients"] == []


def test_search_filters_and_day_granular_updated_min(fb: Fb, conn: dict[str, Any]) -> None:
    old = fb.client(conn, "Old Client")
    fb.advance(3 * 86_400)
    conn = fb.connect()  # the first access token expired meanwhile (12 h)
    new = fb.client(conn, "New Client")
    day = new["updated"][:10]  # the US/Eastern date
    found = fb.api(conn, "GET", "users/clients", params={"search[updated_min]": day}).json()["response"]["result"]
    assert [c["id"] for c in found["clients"]] == [new["id"]]
    like = fb.api(conn, "GET", "users/clients", params={"search[organization_like]": "old"}).json()
    assert [c["id"] for c in like["response"]["result"]["clients"]] == [old["id"]]
    # soft delete: gone from lists unless asked for
    fb.api(conn, "PUT", f"users/clients/{old['id']}", json={"client": {"vis_state": 1}})
    listed = fb.api(conn, "GET", "users/clients").json()["response"]["result"]["clients"]
    assert [c["id"] for c in listed] == [new["id"]]
    deleted = fb.api(conn, "GET", "users/clients", params={"search[vis_state]": "1"}).json()["response"]["result"]
    assert [c["id"] for c in deleted["clients"]] == [old["id"]]
    inv = fb.invoice(conn, new["id"], "INV-77")
    fb.invoice(conn, new["id"], "INV-78")
    by_number = fb.api(conn, "GET", "invoices/invoices", params={"search[invoice_number]": "INV-77"}).json()
    assert [i["id"] for i in by_number["response"]["result"]["invoices"]] == [inv["id"]]


def test_scopes_limit_what_a_token_may_do(fb: Fb) -> None:
    conn = fb.connect(scope="user:profile:read user:clients:read")
    assert fb.api(conn, "GET", "users/clients").status_code == 200
    err = fb.error(fb.api(conn, "POST", "users/clients", json={"client": {"organization": "x"}}), 403)
    assert err["errno"] == 1003 and "user:clients:write" in err["message"]


def test_rate_and_concurrency_limits_answer_429_in_the_accounting_envelope(fb: Fb, conn: dict[str, Any]) -> None:
    fb.configure(rate_limit_per_minute=3)
    for _ in range(3):
        assert fb.api(conn, "GET", "users/clients").status_code == 200
    r = fb.api(conn, "GET", "users/clients")
    assert r.status_code == 429 and "Retry-After" not in r.headers  # Retry-After is UNCONFIRMED: none by default
    assert fb.error(r, 429)["errno"] == 429
    fb.advance(61)
    assert fb.api(conn, "GET", "users/clients").status_code == 200
    fb.configure(retry_after_on_429=7)
    for _ in range(3):
        fb.api(conn, "GET", "users/clients")
    assert fb.api(conn, "GET", "users/clients").headers["Retry-After"] == "7"


def test_ledger_accounts_use_the_business_envelope(fb: Fb, conn: dict[str, Any], http: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {conn['access_token']}"}
    r = http.get(f"/freshbooks/accounting/businesses/{conn['business_uuid']}/ledger_accounts/accounts", headers=headers)
    sample = fixture("list_ledger_accounts_response.json")["data"][0]
    rows = r.json()["data"]
    assert all(set(sample) <= set(row) for row in rows)
    assert {"income", "asset"} <= {row["type"] for row in rows}
    missing = http.get("/freshbooks/accounting/businesses/nope/ledger_accounts/accounts", headers=headers)
    assert missing.status_code == 404 and missing.json() == fixture("get_ledger_account_response__not_found.json")


def test_injected_faults_use_each_family_envelope(fb: Fb, conn: dict[str, Any], http: httpx.Client) -> None:
    http.post("/_sandbox/faults", json={"provider": "freshbooks", "path": "/users/clients$", "status": 503})
    assert fb.error(fb.api(conn, "GET", "users/clients"), 503)["errno"] == 503
    http.post("/_sandbox/faults", json={"provider": "freshbooks", "path": "/auth/oauth/token$", "status": 503})
    r = fb.refresh(conn["refresh_token"])
    assert r.status_code == 503 and r.json()["error"] == "temporarily_unavailable"
    assert fb.refresh(conn["refresh_token"]).status_code == 200  # the fault was not a processed refresh
