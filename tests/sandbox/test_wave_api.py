"""The Wave sandbox over HTTP: OAuth, the GraphQL error layers (document and variables checked before auth,
UNAUTHENTICATED, NOT_FOUND, scopes), mutations' didSucceed/inputErrors, Wave's business rules, paging, limits, and
operation-level faults."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from local.sandbox.wave import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

REDIRECT_URI = "https://app.test/integrations/wave/callback"
ALL_SCOPES = "business:read user:read account:read customer:* product:* invoice:*"
ERRORS = "inputErrors { code message path }"


class Wave:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def authorize(self, **params: str) -> httpx.Response:
        query = {
            "client_id": DEFAULT_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "scope": ALL_SCOPES,
            "state": "s1",
        }
        return self.http.get("/wave/oauth2/authorize/", params={**query, **params})

    def token(self, **form: str) -> httpx.Response:
        data = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET, **form}
        return self.http.post("/wave/oauth2/token/", data=data)

    def connect(self, **params: str) -> dict[str, Any]:
        r = self.authorize(**params)
        assert r.status_code == 302, r.text
        code = parse_qs(urlparse(r.headers["location"]).query)["code"][0]
        t = self.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
        assert t.status_code == 200, t.text
        body = dict(t.json())
        rows = self.ok(body, "query { businesses(pageSize: 50) { edges { node { id isPersonal } } } }")
        body["business"] = next(e["node"]["id"] for e in rows["businesses"]["edges"] if not e["node"]["isPersonal"])
        return body

    def gql(self, conn: dict[str, Any] | None, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {conn['access_token']}"} if conn else {}
        return self.http.post(
            "/wave/graphql/public", json={"query": query, "variables": variables or {}}, headers=headers
        )

    def ok(self, conn: dict[str, Any], query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        r = self.gql(conn, query, variables)
        assert r.status_code == 200 and "errors" not in r.json(), r.text
        return dict(r.json()["data"])

    def mutate(self, conn: dict[str, Any], name: str, input_type: str, payload: dict[str, Any], out: str) -> Any:
        query = f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ didSucceed {ERRORS} {out} }} }}"
        return self.ok(conn, query, {"i": payload})[name]

    def account(self, conn: dict[str, Any], subtype: str) -> str:
        q = (
            "query($b: ID!, $s: [AccountSubtypeValue!]) "
            "{ business(id: $b) { accounts(subtypes: $s) { edges { node { id } } } } }"
        )
        data = self.ok(conn, q, {"b": conn["business"], "s": [subtype]})
        return str(data["business"]["accounts"]["edges"][0]["node"]["id"])

    def customer(self, conn: dict[str, Any], name: str = "Acme") -> str:
        out = self.mutate(
            conn,
            "customerCreate",
            "CustomerCreateInput",
            {"businessId": conn["business"], "name": name},
            "customer { id }",
        )
        return str(out["customer"]["id"])

    def product(self, conn: dict[str, Any], name: str = "Widget") -> str:
        payload = {
            "businessId": conn["business"],
            "name": name,
            "unitPrice": "12.50",
            "incomeAccountId": self.account(conn, "INCOME"),
        }
        return str(self.mutate(conn, "productCreate", "ProductCreateInput", payload, "product { id }")["product"]["id"])

    def invoice(self, conn: dict[str, Any], number: str = "INV-1", status: str = "SAVED") -> Any:
        payload = {
            "businessId": conn["business"],
            "customerId": self.customer(conn),
            "invoiceNumber": number,
            "status": status,
            "items": [{"productId": self.product(conn), "quantity": "2", "unitPrice": "12.50"}],
        }
        return self.mutate(
            conn,
            "invoiceCreate",
            "InvoiceCreateInput",
            payload,
            "invoice { id status total { value } items { account { id } } }",
        )

    def configure(self, **knobs: Any) -> None:
        self.http.post("/_sandbox/wave/config", json=knobs).raise_for_status()

    def advance(self, seconds: float) -> None:
        self.http.post("/_sandbox/clock", json={"advance": seconds}).raise_for_status()


@pytest.fixture
def wave(http: httpx.Client) -> Wave:
    return Wave(http)


@pytest.fixture
def conn(wave: Wave) -> dict[str, Any]:
    return wave.connect()


def _code(r: httpx.Response) -> str:
    return str(r.json()["errors"][0]["extensions"]["code"])


def _cash_payment(wave: Any, conn: dict[str, Any], invoice_id: str, amount: str) -> dict[str, Any]:
    """An InvoicePaymentCreateManualInput paid in cash into the business's cash account."""
    return {
        "invoiceId": invoice_id,
        "paymentAccountId": wave.account(conn, "CASH_AND_BANK"),
        "amount": amount,
        "paymentDate": "2026-11-24",
        "paymentMethod": "CASH",
        "exchangeRate": "1",
    }


# ---- OAuth ----------------------------------------------------------------------------------------------------------
def test_consent_checks_scopes_and_redirects_with_code(wave: Wave) -> None:
    r = wave.authorize()
    assert r.status_code == 302 and set(parse_qs(urlparse(r.headers["location"]).query)) == {"code", "state"}
    bad = wave.authorize(scope="customer:read offline_access")  # offline_access is not on Wave's official list
    assert parse_qs(urlparse(bad.headers["location"]).query)["error"] == ["invalid_scope"]
    assert wave.authorize(client_id="nope").status_code == 400


def test_token_endpoint_is_form_encoded_and_rotates_refresh_tokens_without_grace(
    wave: Wave, http: httpx.Client
) -> None:
    conn = wave.connect()
    assert {"access_token", "refresh_token", "expires_in", "token_type", "scope"} <= set(conn)
    as_json = http.post(
        "/wave/oauth2/token/", json={"grant_type": "refresh_token", "refresh_token": conn["refresh_token"]}
    )
    assert as_json.status_code == 400
    first = wave.token(grant_type="refresh_token", refresh_token=conn["refresh_token"])
    assert first.status_code == 200 and first.json()["refresh_token"] != conn["refresh_token"]
    again = wave.token(grant_type="refresh_token", refresh_token=conn["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_access_tokens_expire_and_revoke_kills_the_grant(wave: Wave, http: httpx.Client) -> None:
    conn = wave.connect()
    wave.advance(7200 + 1)
    r = wave.gql(conn, "query { user { id } }")
    assert r.status_code == 200 and _code(r) == "UNAUTHENTICATED"  # HTTP 200 by default (strict)
    wave.configure(auth_error_http_status=401)
    assert wave.gql(conn, "query { user { id } }").status_code == 401
    fresh = wave.connect()
    form = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET, "token": fresh["refresh_token"]}
    assert http.post("/wave/oauth2/token/revoke/", data=form).status_code == 200
    assert (
        wave.token(grant_type="refresh_token", refresh_token=fresh["refresh_token"]).json()["error"] == "invalid_grant"
    )


def test_a_token_restricted_to_one_business_sees_only_it(wave: Wave, conn: dict[str, Any]) -> None:
    data = wave.ok(conn, "query { businesses { edges { node { id isPersonal } } } }")
    assert sorted(e["node"]["isPersonal"] for e in data["businesses"]["edges"]) == [False, True]
    only = wave.connect(businessId=conn["business"])
    data = wave.ok(only, "query { businesses { edges { node { id } } } }")
    assert [e["node"]["id"] for e in data["businesses"]["edges"]] == [conn["business"]]
    r = wave.authorize(businessId="not-mine")
    assert parse_qs(urlparse(r.headers["location"]).query)["error"] == ["invalid_request"]


# ---- GraphQL error layers ------------------------------------------------------------------------------------------
def test_document_and_variables_are_checked_before_authentication(wave: Wave) -> None:
    r = wave.gql(None, "query { nope }")
    assert r.status_code == 400 and _code(r) == "GRAPHQL_VALIDATION_FAILED"
    r = wave.gql(None, "query {")
    assert r.status_code == 400 and _code(r) == "GRAPHQL_PARSE_FAILED"
    q = "mutation($i: ProductCreateInput!) { productCreate(input: $i) { didSucceed } }"
    r = wave.gql(None, q, {"i": {"businessId": "b", "name": "x", "unitPrice": "not a number"}})
    assert r.status_code == 400 and _code(r) == "BAD_USER_INPUT"
    r = wave.gql(None, q, {"i": {"businessId": "b", "name": "x"}})  # unitPrice is Decimal! in Wave's input type
    assert _code(r) == "BAD_USER_INPUT"
    r = wave.gql(None, "query { user { id } }")
    assert _code(r) == "UNAUTHENTICATED"


def test_unknown_business_is_not_found_and_missing_scope_is_forbidden(wave: Wave) -> None:
    conn = wave.connect(scope="business:read customer:read")
    r = wave.gql(conn, "query($b: ID!) { business(id: $b) { id } }", {"b": "QnVzaW5lc3M6bm9wZQ"})
    assert r.json()["data"]["business"] is None and _code(r) == "NOT_FOUND"
    q = "mutation($i: CustomerCreateInput!) { customerCreate(input: $i) { didSucceed } }"
    r = wave.gql(conn, q, {"i": {"businessId": conn["business"], "name": "x"}})
    assert _code(r) == "FORBIDDEN" and "customer:write" in r.json()["errors"][0]["message"]


# ---- business rules -----------------------------------------------------------------------------------------------
def test_products_need_an_income_account_of_an_income_subtype(wave: Wave, conn: dict[str, Any]) -> None:
    base = {"businessId": conn["business"], "name": "W", "unitPrice": "1"}
    out = wave.mutate(conn, "productCreate", "ProductCreateInput", base, "product { id }")
    assert out["didSucceed"] is False and out["product"] is None
    assert out["inputErrors"][0]["path"] == ["input", "incomeAccountId"]
    bank = wave.account(conn, "CASH_AND_BANK")
    out = wave.mutate(conn, "productCreate", "ProductCreateInput", {**base, "incomeAccountId": bank}, "product { id }")
    assert out["didSucceed"] is False and "INCOME" in out["inputErrors"][0]["message"]


def test_invoice_lines_post_to_the_products_income_account_and_numbers_are_unique(
    wave: Wave, conn: dict[str, Any]
) -> None:
    made = wave.invoice(conn)
    assert made["didSucceed"] and made["invoice"]["status"] == "SAVED"
    assert made["invoice"]["total"]["value"] == "25.00"
    assert made["invoice"]["items"][0]["account"]["id"] == wave.account(conn, "INCOME")
    dup = wave.invoice(conn, "inv-1")  # case-insensitive
    assert dup["didSucceed"] is False
    assert dup["inputErrors"][0]["path"] == ["input", "invoiceNumber"] and dup["inputErrors"][0]["code"] == "DUPLICATE"
    payload = {"businessId": conn["business"], "customerId": wave.customer(conn), "items": [{"productId": "nope"}]}
    out = wave.mutate(conn, "invoiceCreate", "InvoiceCreateInput", payload, "invoice { id }")
    assert out["inputErrors"][0]["path"] == ["input", "items", "0", "productId"]


def test_payments_need_an_approved_invoice_and_a_cash_and_bank_account(wave: Wave, conn: dict[str, Any]) -> None:
    draft = wave.invoice(conn, "INV-D", status="DRAFT")["invoice"]
    bank = wave.account(conn, "CASH_AND_BANK")
    payment = {
        "invoiceId": draft["id"],
        "paymentAccountId": bank,
        "amount": "10.00",
        "paymentDate": "2026-11-24",
        "paymentMethod": "CASH",
        "exchangeRate": "1",
        "memo": "BlueClerk payment pay_1",
    }
    name, input_type = "invoicePaymentCreateManual", "InvoicePaymentCreateManualInput"
    out = wave.mutate(conn, name, input_type, payment, "invoicePayment { id }")
    assert out["didSucceed"] is False and out["inputErrors"][0]["code"] == "NOT_ALLOWED"
    approved = wave.mutate(
        conn, "invoiceApprove", "InvoiceApproveInput", {"invoiceId": draft["id"]}, "invoice { status }"
    )
    assert approved["invoice"]["status"] == "SAVED"
    income = wave.account(conn, "INCOME")
    out = wave.mutate(conn, name, input_type, {**payment, "paymentAccountId": income}, "invoicePayment { id }")
    assert out["didSucceed"] is False and out["inputErrors"][0]["path"] == ["input", "paymentAccountId"]
    out = wave.mutate(conn, name, input_type, payment, "invoicePayment { id memo amount }")
    assert out["didSucceed"] and out["invoicePayment"]["amount"] == "10.00"
    q = (
        "query($b: ID!, $i: ID!) "
        "{ business(id: $b) { invoice(id: $i) { status amountDue { value } payments { memo } } } }"
    )
    inv = wave.ok(conn, q, {"b": conn["business"], "i": draft["id"]})["business"]["invoice"]
    assert (inv["status"], inv["amountDue"]["value"], inv["payments"][0]["memo"]) == (
        "PARTIAL",
        "15.00",
        payment["memo"],
    )
    no_rate = wave.gql(
        conn,
        f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ didSucceed }} }}",
        {"i": {**payment, "exchangeRate": None}},
    )
    assert _code(no_rate) == "BAD_USER_INPUT"  # exchangeRate is required by Wave's input type


def test_paging_is_capped_at_200_and_filters_by_invoice_number(wave: Wave, conn: dict[str, Any]) -> None:
    for n in range(3):
        wave.customer(conn, f"C{n}")
    q = (
        "query($b: ID!, $p: Int!, $s: Int!) { business(id: $b) { customers(page: $p, pageSize: $s) "
        "{ pageInfo { totalPages totalCount } edges { node { name } } } } }"
    )
    page = wave.ok(conn, q, {"b": conn["business"], "p": 2, "s": 2})["business"]["customers"]
    assert page["pageInfo"] == {"totalPages": 2, "totalCount": 3} and [e["node"]["name"] for e in page["edges"]] == [
        "C2"
    ]
    assert _code(wave.gql(conn, q, {"b": conn["business"], "p": 1, "s": 201})) == "BAD_USER_INPUT"
    wave.invoice(conn, "INV-7")
    wave.invoice(conn, "INV-8")
    q = (
        "query($b: ID!, $n: String!) "
        "{ business(id: $b) { invoices(invoiceNumber: $n) { edges { node { invoiceNumber } } } } }"
    )
    rows = wave.ok(conn, q, {"b": conn["business"], "n": "INV-8"})["business"]["invoices"]["edges"]
    assert [e["node"]["invoiceNumber"] for e in rows] == ["INV-8"]


def test_rate_limit_answers_429_per_token_and_recovers_on_the_sandbox_clock(wave: Wave, conn: dict[str, Any]) -> None:
    wave.configure(rate_limit_per_minute=2)
    wave.advance(61)  # a fresh window
    for _ in range(2):
        wave.ok(conn, "query { user { id } }")
    r = wave.gql(conn, "query { user { id } }")
    assert r.status_code == 429 and _code(r) == "RATE_LIMITED" and "Retry-After" not in r.headers
    wave.advance(61)
    wave.ok(conn, "query { user { id } }")


def test_operation_faults_single_out_one_mutation(wave: Wave, conn: dict[str, Any]) -> None:
    wave.configure(operation_faults=[{"field": "customerCreate", "mode": "commit_then_500"}])
    wave.ok(conn, "query { user { id } }")  # other operations are not affected
    r = wave.gql(
        conn,
        "mutation($i: CustomerCreateInput!) { customerCreate(input: $i) { didSucceed } }",
        {"i": {"businessId": conn["business"], "name": "Saved"}},
    )
    assert r.status_code == 500
    q = "query($b: ID!) { business(id: $b) { customers { edges { node { name } } } } }"
    names = [e["node"]["name"] for e in wave.ok(conn, q, {"b": conn["business"]})["business"]["customers"]["edges"]]
    assert names == ["Saved"]  # committed before the 500
    wave.configure(operation_faults=[{"field": "customerCreate", "mode": "commit_then_drop"}])
    with pytest.raises(httpx.RemoteProtocolError):
        wave.gql(
            conn,
            "mutation($i: CustomerCreateInput!) { customerCreate(input: $i) { didSucceed } }",
            {"i": {"businessId": conn["business"], "name": "Dropped"}},
        )
    names = [e["node"]["name"] for e in wave.ok(conn, q, {"b": conn["business"]})["business"]["customers"]["edges"]]
    assert names == ["Dropped", "Saved"]


def test_decimals_must_be_strings_not_json_numbers(wave: Wave, conn: dict[str, Any]) -> None:
    """W.md section 2: Decimal is sent as a string ("12.50"); money as a JSON float is refused before it is used."""
    invoice = wave.invoice(conn, "INV-DEC")["invoice"]
    payment = _cash_payment(wave, conn, invoice["id"], "10.00")
    name, input_type = "invoicePaymentCreateManual", "InvoicePaymentCreateManualInput"
    document = f"mutation($i: {input_type}!) {{ {name}(input: $i) {{ didSucceed invoicePayment {{ id }} }} }}"
    for field, number in (("amount", 10.0), ("amount", 10), ("exchangeRate", 1)):
        refused = wave.gql(conn, document, {"i": {**payment, field: number}})
        assert refused.status_code == 400 and _code(refused) == "BAD_USER_INPUT", refused.text
        assert "Decimal must be a string" in refused.json()["errors"][0]["message"]
    inline = wave.gql(
        conn,
        'mutation($b: ID!) { productCreate(input: {businessId: $b, name: "P", unitPrice: 12.5}) { didSucceed } }',
        {"b": conn["business"]},
    )
    assert inline.status_code == 400 and _code(inline) == "GRAPHQL_VALIDATION_FAILED", inline.text
    ok = wave.gql(conn, document, {"i": payment})
    assert ok.status_code == 200 and ok.json()["data"][name]["didSucceed"] is True, ok.text
    dump = wave.http.get(f"/_sandbox/wave/tenants/{conn['business']}").json()
    assert len(dump["entities"]["payments"]) == 1  # the refused requests wrote nothing


def test_a_deleted_invoice_leaves_no_tombstone_and_one_with_payments_cannot_be_deleted(
    wave: Wave, conn: dict[str, Any]
) -> None:
    """W.md section 3 (incremental sync): hard-deleted invoices simply disappear; the sandbox refuses to delete an
    invoice that has payments (sandbox choice) with a didSucceed: false answer."""
    delete = "mutation($i: InvoiceDeleteInput!) { invoiceDelete(input: $i) { didSucceed inputErrors { code path } } }"
    read = "query($b: ID!, $i: ID!) { business(id: $b) { invoice(id: $i) { id } invoices { edges { node { id } } } } }"
    paid = wave.invoice(conn, "INV-P")["invoice"]
    payment = _cash_payment(wave, conn, paid["id"], "5.00")
    made = wave.mutate(
        conn, "invoicePaymentCreateManual", "InvoicePaymentCreateManualInput", payment, "invoicePayment { id }"
    )
    assert made["didSucceed"] is True
    refused = wave.ok(conn, delete, {"i": {"invoiceId": paid["id"]}})["invoiceDelete"]
    assert refused["didSucceed"] is False and refused["inputErrors"][0]["code"] == "NOT_ALLOWED"
    gone = wave.invoice(conn, "INV-G")["invoice"]
    assert wave.ok(conn, delete, {"i": {"invoiceId": gone["id"]}})["invoiceDelete"]["didSucceed"] is True
    data = wave.ok(conn, read, {"b": conn["business"], "i": gone["id"]})["business"]
    assert data["invoice"] is None
    assert [e["node"]["id"] for e in data["invoices"]["edges"]] == [paid["id"]]
    again = wave.ok(conn, delete, {"i": {"invoiceId": gone["id"]}})["invoiceDelete"]
    assert again["didSucceed"] is False and again["inputErrors"][0]["code"] == "NOT_FOUND"
