"""5 and 6 against the running local stack (`LocalStack`: the real HTTP gateway with its JWT authorizer, moto server,
the sandboxes, SQS pollers): schemathesis over the generated OpenAPI, forged/expired/replayed OAuth state, oversized
and malformed bodies, and every route called with a second company's token on the first company's ids."""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from local.stack import LocalStack
from tests.helpers import ROOT
from tests.reliability.conftest import LOGS, Record
from tests.reliability.worlds import issued_secrets

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(api_port=0, moto_port=0, sandbox_port=0, physical_names={"DataTable": "blueclerk-test"}) as s:
        yield s


@pytest.fixture(autouse=True)
def _stack_secrets(stack: LocalStack) -> Iterator[None]:
    LOGS.client_prefixes.add(f"HTTP Request: GET {stack.api_url}/integrations/")  # the browser following a redirect
    yield
    sandbox = getattr(stack, "_sandbox", None)
    if sandbox is not None:
        LOGS.add_secrets(issued_secrets(sandbox.app.sandbox))


def _client(stack: LocalStack, company: str) -> httpx.Client:
    return httpx.Client(base_url=stack.api_url, headers={"Authorization": f"Bearer {stack.token(company_id=company)}"},
                        timeout=30)  # fmt: skip


def _consent(stack: LocalStack, api: httpx.Client, provider: str = "quickbooks") -> str:
    """Start a connect and let the sandbox consent: answers our callback URL (code + state), not yet followed."""
    r = api.post(f"/integrations/{provider}/connect")
    assert r.status_code == 200, r.text
    consent = httpx.get(r.json()["authorizeUrl"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    return str(consent.headers["location"])


def _connected(api: httpx.Client, provider: str = "quickbooks") -> bool:
    rows = api.get("/integrations").json()["data"]
    return any(r["provider"] == provider and r["status"] == "connected" for r in rows)


def _tokens_stored(stack: LocalStack, company: str) -> int:
    items = stack.client("dynamodb").scan(TableName=stack.resources["DataTable"]["name"])["Items"]
    return sum(1 for i in items if i["pk"]["S"] == f"COMPANY#{company}" and "token_ciphertext" in i)


# ---- 5b. OAuth state ---------------------------------------------------------------------------------------------
def test_forged_expired_and_replayed_state_store_no_token(stack: LocalStack, record: Record) -> None:
    from booksync.adapters.dynamodb import OAuthStateRecord

    outcomes: Counter[int] = Counter()
    # Forged: a state we never issued, with a real code from the sandbox
    api = _client(stack, "co_state_forged")
    callback = _consent(stack, api)
    query = {k: v[0] for k, v in parse_qs(urlparse(callback).query).items()}
    forged = httpx.get(
        f"{stack.api_url}{urlparse(callback).path}", params={**query, "state": secrets.token_urlsafe(32)}
    )
    outcomes[forged.status_code] += 1
    assert forged.status_code in (302, 400) and "connected=" not in forged.headers.get("location", "")
    assert "invalid_state" in forged.headers.get("location", forged.text)
    assert not _connected(api) and _tokens_stored(stack, "co_state_forged") == 0
    # Expired: a real state whose 10 minutes have passed
    api = _client(stack, "co_state_expired")
    callback = _consent(stack, api)
    state = parse_qs(urlparse(callback).query)["state"][0]
    rec = OAuthStateRecord.get(f"OAUTHSTATE#{state}", "STATE", consistent_read=True)
    rec.update(actions=[OAuthStateRecord.expires_at.set(datetime.now(UTC) - timedelta(seconds=1))])
    expired = httpx.get(callback, follow_redirects=False)
    assert "expired_state" in expired.headers.get("location", expired.text)
    assert not _connected(api) and _tokens_stored(stack, "co_state_expired") == 0
    # Replayed: the callback of a connect that succeeded, sent again (its state is single use)
    api = _client(stack, "co_state_replay")
    callback = _consent(stack, api)
    first = httpx.get(callback, follow_redirects=False)
    assert first.headers["location"].endswith("?connected=quickbooks")
    assert api.delete("/integrations/quickbooks").status_code in (200, 204)
    replay = httpx.get(callback, follow_redirects=False)
    assert "invalid_state" in replay.headers.get("location", replay.text)
    assert not _connected(api) and _tokens_stored(stack, "co_state_replay") == 0
    # A state of company A used for provider B's callback is refused too
    api = _client(stack, "co_state_cross")
    callback = _consent(stack, api)
    crossed = httpx.get(callback.replace("/quickbooks/callback", "/xero/callback"), follow_redirects=False)
    assert "invalid_state" in crossed.headers.get("location", crossed.text)
    assert _tokens_stored(stack, "co_state_cross") == 0
    record("bad_input_oauth_state", "quickbooks", forged=1, expired=1, replayed=1, cross_provider=1, tokens_stored=0)


# ---- 5c. bodies --------------------------------------------------------------------------------------------------
BAD_BODIES: list[tuple[str, str, bytes, dict[str, str]]] = [
    ("oversized", "/customers", b'{"name": "' + b"x" * 300_000 + b'"}', {"content-type": "application/json"}),
    ("truncated json", "/customers", b'{"name": "Jane', {"content-type": "application/json"}),
    ("not json", "/customers", b"name=Jane", {"content-type": "application/json"}),
    ("json array", "/customers", b"[1, 2]", {"content-type": "application/json"}),
    ("json null", "/customers", b"null", {"content-type": "application/json"}),
    ("wrong types", "/items", b'{"name": 5, "price": [1]}', {"content-type": "application/json"}),
    ("invalid utf-8", "/customers", b'{"name": "\xff\xfe"}', {"content-type": "application/json"}),
    (
        "deep nesting",
        "/invoices",
        b'{"lines": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        {"content-type": "application/json"},
    ),
    ("empty", "/items", b"", {"content-type": "application/json"}),
    ("huge number", "/items", b'{"name": "n", "price": 1e400}', {"content-type": "application/json"}),
]


def test_oversized_and_malformed_bodies_are_clear_4xx(stack: LocalStack, record: Record) -> None:
    api = _client(stack, "co_bodies")
    statuses: dict[str, int] = {}
    for name, path, body, headers in BAD_BODIES:
        r = api.post(path, content=body, headers=headers)
        statuses[name] = r.status_code
        assert 400 <= r.status_code < 500, f"{name}: {r.status_code} {r.text[:300]}"
        error = r.json().get("error") or r.json().get("message")
        assert error, f"{name}: no error in {r.text[:300]}"
    assert statuses["oversized"] == 413
    record("bad_input_bodies", "all", cases=len(BAD_BODIES), clear_4xx=sum(1 for s in statuses.values() if s < 500),
           server_errors=sum(1 for s in statuses.values() if s >= 500), statuses=statuses)  # fmt: skip


# ---- 5a. schemathesis ----------------------------------------------------------------------------------------------
# Known and accepted: an opaque `cursor` that is schema-valid (any string) but not one we issued is refused with 400
# ("Schema-valid request rejected"); the cursor's format is deliberately not published. Everything else must be 0,
# including statuses the OpenAPI document does not list (every route documents the error envelope for its 4xx/5xx).
KNOWN = {"Schema-valid request rejected"}
CALLBACK = "/integrations/{provider}/callback"


def _schemathesis(stack: LocalStack, examples: int, checks: list[Any] | None = None) -> dict[str, Any]:
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    spec = json.loads((ROOT / "openapi.json").read_text())
    schema = schemathesis.openapi.from_dict(spec)
    headers = {"Authorization": f"Bearer {stack.token(company_id='co_fuzz')}"}
    out: dict[str, Any] = {"operations": 0, "cases": 0, "server_errors": 0, "hard": Counter(), "known": Counter(),
                           "samples": []}  # fmt: skip

    def count(operation_path: str, exc: BaseException, where: str) -> None:
        for failure in getattr(exc, "exceptions", [exc]):
            title = str(getattr(failure, "title", type(failure).__name__))
            known = title in KNOWN
            bucket: Counter[str] = out["known" if known else "hard"]
            bucket[title] += 1
            if bucket[title] <= 3:
                out["samples"].append(f"{'known' if known else 'HARD'} {where}: {title}: {str(failure)[:300]}")

    def fuzz(operation: Any) -> None:
        @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=operation.as_strategy())
        def run(case: Any) -> None:
            out["cases"] += 1
            response = case.call(base_url=stack.api_url, headers=headers)
            if response.status_code >= 500:
                out["server_errors"] += 1
            try:
                case.validate_response(response, checks=checks, headers=headers)
            except BaseException as exc:  # a FailureGroup: counted per check
                if isinstance(exc, KeyboardInterrupt):
                    raise
                count(operation.path, exc, f"{case.method} {case.formatted_path} -> {response.status_code}")

        try:
            run()
        except BaseException as exc:  # hypothesis re-raises what schemathesis recorded
            if isinstance(exc, KeyboardInterrupt):
                raise
            count(operation.path, exc, f"{operation.method.upper()} {operation.path}")

    for result in schema.get_all_operations():
        out["operations"] += 1
        fuzz(result.ok())  # type: ignore[union-attr]
    return out


def _run_schemathesis(stack: LocalStack, record: Record, examples: int) -> None:
    out = _schemathesis(stack, examples)
    hard, known = out["hard"], out["known"]
    record("bad_input_schemathesis", "all", operations=out["operations"], cases=out["cases"],
           server_errors=out["server_errors"], schema_failures=sum(hard.values()),
           known_doc_findings=sum(known.values()), known_kinds=dict(known))  # fmt: skip
    assert out["server_errors"] == 0 and sum(hard.values()) == 0, "\n".join(out["samples"])


def test_schemathesis_finds_no_server_error_and_no_schema_break(stack: LocalStack, record: Record) -> None:
    _run_schemathesis(stack, record, examples=8)


@pytest.mark.soak
@pytest.mark.timeout(3600)
def test_schemathesis_soak(stack: LocalStack, record: Record) -> None:
    _run_schemathesis(stack, record, examples=100)


def test_schemathesis_every_answered_status_is_documented(stack: LocalStack) -> None:
    from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

    out = _schemathesis(stack, examples=3, checks=[status_code_conformance, content_type_conformance])
    assert sum(out["known"].values()) + sum(out["hard"].values()) == 0, "\n".join(out["samples"])


# ---- 6. isolation ------------------------------------------------------------------------------------------------
BODIES: dict[str, Any] = {
    "/customers/{customer_id}": {"name": "Stolen"},
    "/items/{item_id}": {"price": "1.00"},
    "/invoices/{invoice_id}": {"status": "VOID"},
    "/invoices/{invoice_id}/payments": {"amount": "1.00", "method": "cash"},
    "/integrations/{provider}/settings": {"syncInvoices": True, "syncCustomers": True, "syncItems": False},
    "/account-mappings": {"quickbooks": {"defaultAccountId": "1", "items": {}}},
    "/customers": {"name": "B's customer"},
    "/items": {"name": "B's item", "price": "1.00"},
}
OWNED = ("{customer_id}", "{item_id}", "{invoice_id}", "{notification_id}")


def test_second_company_gets_404_and_nothing_of_the_first(stack: LocalStack, record: Record) -> None:
    a, b = _client(stack, "co_iso_a"), _client(stack, "co_iso_b")
    callback = _consent(stack, a)
    assert httpx.get(callback, follow_redirects=False).headers["location"].endswith("?connected=quickbooks")
    accounts = a.get("/integrations/quickbooks/accounts").json()["data"]
    assert a.put("/account-mappings", json={"quickbooks": {"defaultAccountId": accounts[0]["id"]}}).status_code == 200
    cust = a.post("/customers", json={"name": "Alice Secretname", "email": "alice@secret.example"}).json()
    item = a.post("/items", json={"name": "Secret service", "price": "99.00"}).json()
    line = {"itemId": item["id"], "quantity": "1", "unitPrice": "99.00"}
    inv = a.post("/invoices", json={"number": "SECRET-77", "customerId": cust["id"], "lines": [line]}).json()
    assert a.post(f"/invoices/{inv['id']}/send").status_code == 200
    pay = a.post(f"/invoices/{inv['id']}/payments", json={"amount": "10.00", "method": "cash"}).json()
    assert stack.drain_queues(timeout=60)
    from booksync.wiring import notification_service

    note = notification_service().notify("co_iso_a", code="item_unmapped", message="A's secret problem",
                                         entity_type="invoice", entity_id=inv["id"])  # fmt: skip
    realm = parse_qs(urlparse(callback).query)["realmId"][0]
    ids = {"customer_id": cust["id"], "item_id": item["id"], "invoice_id": inv["id"], "notification_id": note.id,
           "provider": "quickbooks"}  # fmt: skip
    leaks = [cust["id"], item["id"], inv["id"], note.id, pay["id"], "A's secret problem", "Alice Secretname",
             "alice@secret.example", "Secret service", "SECRET-77", realm]  # fmt: skip
    spec = json.loads((ROOT / "openapi.json").read_text())
    checked = not_found = 0
    for path, ops in spec["paths"].items():
        for method in ops:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            concrete = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
            body = BODIES.get(path) if method in ("post", "put", "patch") else None
            r = b.request(method.upper(), concrete, json=body, follow_redirects=False)
            text = r.text + json.dumps(dict(r.headers))
            for s in leaks:
                if s not in concrete:
                    assert s not in text, f"{method.upper()} {path} leaked {s!r}: {text[:300]}"
            if any(k in path for k in OWNED):
                assert r.status_code == 404, f"{method.upper()} {path} -> {r.status_code} {r.text[:300]}"
                not_found += 1
            checked += 1
    assert checked >= 24
    # and A's data is as it was
    detail = a.get(f"/invoices/{inv['id']}").json()
    assert detail["status"] in ("SENT", "PAID") and len(detail["payments"]) == 1
    assert a.get(f"/customers/{cust['id']}").json()["name"] == "Alice Secretname"
    record("isolation", "quickbooks", routes_called=checked, owned_routes_404=not_found, leaks=0)
