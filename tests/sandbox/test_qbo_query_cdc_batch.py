"""QuickBooks sandbox: the query language subset, change data capture and batch."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Connection, Qbo


def names(rows: dict[str, Any], entity: str = "Customer", key: str = "DisplayName") -> list[str]:
    return [row[key] for row in rows.get(entity, [])]


def batch(qbo: Qbo, conn: Connection, items: list[dict[str, Any]], **params: Any) -> Any:
    return qbo.api(conn, "POST", "batch", json={"BatchItemRequest": items}, params=params)


def create_customers(qbo: Qbo, conn: Connection, count: int, prefix: str = "C") -> None:
    """Create customers through /batch, 30 at a time (one HTTP request per 30)."""
    for start in range(0, count, 30):
        items = [
            {"bId": f"b{i}", "operation": "create", "Customer": {"DisplayName": f"{prefix}{i:04d}"}}
            for i in range(start, min(start + 30, count))
        ]
        response = batch(qbo, conn, items)
        assert response.status_code == 200
        assert all("Customer" in r for r in response.json()["BatchItemResponse"])


@pytest.fixture
def people(qbo: Qbo, conn: Connection) -> dict[str, str]:
    ids = {}
    for name, balance_note, email in (
        ("Alpha Plumbing", "a", "alpha@example.com"),
        ("Beta Heating", "b", "beta@example.com"),
        ("Gamma Electric", "c", "gamma@example.com"),
    ):
        ids[name] = qbo.customer(conn, name, Notes=balance_note, PrimaryEmailAddr={"Address": email})["Id"]
    return ids


def test_query_get_and_post_application_text_agree(qbo: Qbo, conn: Connection, people: dict[str, str]) -> None:
    statement = "select * from Customer where DisplayName = 'Beta Heating'"
    by_get = qbo.query(conn, statement)
    by_post = qbo.api(conn, "POST", "query", content=statement, headers={"Content-Type": "application/text"})
    assert by_post.status_code == 200
    assert by_post.json()["QueryResponse"] == by_get
    assert names(by_get) == ["Beta Heating"]
    assert by_get["startPosition"] == 1
    assert by_get["maxResults"] == 1


def test_post_query_needs_application_text(qbo: Qbo, conn: Connection) -> None:
    response = qbo.api(conn, "POST", "query", content="select * from Customer", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415


def test_keywords_are_case_insensitive(qbo: Qbo, conn: Connection, people: dict[str, str]) -> None:
    rows = qbo.query(conn, "SeLeCt * FrOm customer WhErE DisplayName LIKE '%a%' OrDeR bY DisplayName DeSc MAXRESULTS 2")
    assert names(rows) == ["Gamma Electric", "Beta Heating"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("DisplayName = 'Alpha Plumbing'", ["Alpha Plumbing"]),
        ("DisplayName in ('Alpha Plumbing', 'Gamma Electric')", ["Alpha Plumbing", "Gamma Electric"]),
        ("DisplayName like 'Be%'", ["Beta Heating"]),
        ("DisplayName like '%ing'", ["Alpha Plumbing", "Beta Heating"]),
        ("DisplayName > 'Beta Heating'", ["Gamma Electric"]),
        ("DisplayName >= 'Beta Heating'", ["Beta Heating", "Gamma Electric"]),
        ("DisplayName < 'Beta Heating'", ["Alpha Plumbing"]),
        ("DisplayName <= 'Beta Heating' and DisplayName > 'Alpha Plumbing'", ["Beta Heating"]),
        ("PrimaryEmailAddr = 'gamma@example.com'", ["Gamma Electric"]),
        ("Active = true", ["Alpha Plumbing", "Beta Heating", "Gamma Electric"]),
    ],
)
def test_where_operators(qbo: Qbo, conn: Connection, people: dict[str, str], where: str, expected: list[str]) -> None:
    assert names(qbo.query(conn, f"select * from Customer where {where} orderby DisplayName")) == expected


def test_id_comparisons_are_numeric(qbo: Qbo, conn: Connection, people: dict[str, str]) -> None:
    ids = sorted(people.values(), key=int)
    rows = qbo.query(conn, f"select * from Customer where Id > '{ids[0]}'")
    assert [r["Id"] for r in rows["Customer"]] == ids[1:]
    assert [r["Id"] for r in qbo.query(conn, f"select * from Customer where Id in ('{ids[2]}')")["Customer"]] == [
        ids[2]
    ]


def test_numeric_and_ref_filters_on_invoices(qbo: Qbo, conn: Connection, people: dict[str, str]) -> None:
    item = qbo.item(conn)
    small = qbo.invoice(conn, people["Alpha Plumbing"], [qbo.line(item["Id"], "1", "12.50")], TxnDate="2024-01-05")
    large = qbo.invoice(conn, people["Beta Heating"], [qbo.line(item["Id"], "10", "12.50")], TxnDate="2024-02-05")
    assert [i["Id"] for i in qbo.query(conn, "select * from Invoice where TotalAmt > '100'")["Invoice"]] == [
        large["Id"]
    ]
    by_customer = qbo.query(conn, f"select * from Invoice where CustomerRef = '{people['Alpha Plumbing']}'")
    assert [i["Id"] for i in by_customer["Invoice"]] == [small["Id"]]
    by_date = qbo.query(conn, "select * from Invoice where TxnDate >= '2024-02-01'")
    assert [i["Id"] for i in by_date["Invoice"]] == [large["Id"]]
    by_doc = qbo.query(conn, f"select * from Invoice where DocNumber = '{small['DocNumber']}'")
    assert [i["Id"] for i in by_doc["Invoice"]] == [small["Id"]]


def test_item_type_filter_from_the_provider_notes(qbo: Qbo, conn: Connection) -> None:
    qbo.item(conn, "Svc")
    rows = qbo.query(conn, "select * from Item where Type in ('Service','NonInventory','Inventory')")
    assert [r["Name"] for r in rows["Item"]] == ["Svc"]


def test_count_star_answers_total_count(qbo: Qbo, conn: Connection, people: dict[str, str]) -> None:
    assert qbo.query(conn, "select count(*) from Customer") == {"totalCount": 3}
    assert qbo.query(conn, "select count(*) from Customer where DisplayName like 'A%'") == {"totalCount": 1}


def test_projection_returns_selected_fields(qbo: Qbo, conn: Connection, people: dict[str, str]) -> None:
    rows = qbo.query(conn, "select DisplayName from Customer where DisplayName = 'Alpha Plumbing'")["Customer"]
    assert rows == [{"Id": people["Alpha Plumbing"], "DisplayName": "Alpha Plumbing"}]


def test_empty_result_has_no_entity_key(qbo: Qbo, conn: Connection) -> None:
    assert qbo.query(conn, "select * from Customer where DisplayName = 'nobody'") == {}


def test_paging_with_startposition_and_maxresults(qbo: Qbo, conn: Connection) -> None:
    create_customers(qbo, conn, 25)
    first = qbo.query(conn, "select * from Customer orderby DisplayName startposition 1 maxresults 10")
    second = qbo.query(conn, "select * from Customer orderby DisplayName startposition 11 maxresults 10")
    third = qbo.query(conn, "select * from Customer orderby DisplayName startposition 21 maxresults 10")
    assert names(first) == [f"C{i:04d}" for i in range(10)]
    assert names(second) == [f"C{i:04d}" for i in range(10, 20)]
    assert names(third) == [f"C{i:04d}" for i in range(20, 25)]
    assert third["maxResults"] == 5
    assert third["startPosition"] == 21
    assert qbo.query(conn, "select * from Customer startposition 26") == {}
    assert len(qbo.query(conn, "select * from Customer")["Customer"]) == 25  # default MAXRESULTS is 100


def test_default_page_is_100_and_maxresults_is_capped_at_1000(qbo: Qbo, conn: Connection) -> None:
    create_customers(qbo, conn, 120)
    assert len(qbo.query(conn, "select * from Customer")["Customer"]) == 100
    assert len(qbo.query(conn, "select * from Customer maxresults 1000")["Customer"]) == 120
    error = qbo.error(qbo.api(conn, "GET", "query", params={"query": "select * from Customer maxresults 1001"}))
    assert error["code"] == "4001"


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ("select * from Customer where DisplayName = 'a' or DisplayName = 'b'", "4000"),
        ("select * from Customer where DisplayName != 'a'", "4000"),
        ("select * form Customer", "4000"),
        ("select * from Customer where DisplayName = 'unterminated", "4000"),
        ("select * from Customer where Shoe = 'a'", "4001"),
        ("select * from Customer orderby Shoe", "4001"),
        ("select * from Vendorz", "4001"),
        ("select * from Customer startposition 0", "4001"),
        ("select * from Invoice where TotalAmt > 'lots'", "4001"),
    ],
)
def test_query_errors(qbo: Qbo, conn: Connection, statement: str, code: str) -> None:
    assert qbo.error(qbo.api(conn, "GET", "query", params={"query": statement}))["code"] == code


def test_last_updated_time_filter_uses_the_sandbox_clock(qbo: Qbo, conn: Connection) -> None:
    old = qbo.customer(conn, "Old")
    qbo.customer(conn, "Untouched")
    qbo.advance(1800)
    since = iso(sandbox_now(qbo) - timedelta(seconds=1))
    new = qbo.customer(conn, "New")
    qbo.create(conn, "Customer", {"Id": old["Id"], "SyncToken": "0", "sparse": True, "Notes": "touched"})
    rows = qbo.query(
        conn, f"select * from Customer where Metadata.LastUpdatedTime > '{since}' orderby MetaData.LastUpdatedTime"
    )
    assert sorted(r["Id"] for r in rows["Customer"]) == sorted([old["Id"], new["Id"]])
    created = qbo.query(conn, f"select * from Customer where MetaData.CreateTime > '{since}'")
    assert [r["Id"] for r in created["Customer"]] == [new["Id"]]


def test_string_literals_support_escaped_quotes(qbo: Qbo, conn: Connection) -> None:
    qbo.customer(conn, "O'Brien Heating")
    assert names(qbo.query(conn, "select * from Customer where DisplayName = 'O\\'Brien Heating'")) == [
        "O'Brien Heating"
    ]


# -- CDC ---------------------------------------------------------------------------------------------------------
def cdc(qbo: Qbo, conn: Connection, entities: str, since: str) -> Any:
    return qbo.api(conn, "GET", "cdc", params={"entities": entities, "changedSince": since})


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def sandbox_now(qbo: Qbo) -> datetime:
    return datetime.fromisoformat(qbo.http.get("/_sandbox/clock").json()["now"])


def test_cdc_returns_changes_and_deletions_since(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn, "Before")
    item = qbo.item(conn)
    invoice = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "1", "12.50")])
    qbo.advance(1800)
    since = sandbox_now(qbo) - timedelta(seconds=1)
    changed = qbo.create(conn, "Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Notes": "n"})
    qbo.api(conn, "POST", "invoice", params={"operation": "delete"}, json={"Id": invoice["Id"], "SyncToken": "0"})
    response = cdc(qbo, conn, "Customer,Invoice,Item", iso(since))
    assert response.status_code == 200, response.text
    customers, invoices, items = response.json()["CDCResponse"][0]["QueryResponse"]
    assert [c["Id"] for c in customers["Customer"]] == [changed["Id"]]
    assert invoices["Invoice"] == [
        {"domain": "QBO", "status": "Deleted", "Id": invoice["Id"], "MetaData": invoices["Invoice"][0]["MetaData"]}
    ]
    assert items == {}


def test_cdc_look_back_is_limited_to_30_days(qbo: Qbo, conn: Connection) -> None:
    now = sandbox_now(qbo)
    assert cdc(qbo, conn, "Customer", iso(now - timedelta(days=29))).status_code == 200
    assert qbo.error(cdc(qbo, conn, "Customer", iso(now - timedelta(days=31))))["code"] == "6000"


def test_cdc_validates_parameters(qbo: Qbo, conn: Connection) -> None:
    now = iso(sandbox_now(qbo))
    assert qbo.error(cdc(qbo, conn, "Customer,Vendorz", now))["code"] == "2010"
    assert qbo.error(qbo.api(conn, "GET", "cdc", params={"entities": "Customer"}))["code"] == "2020"
    assert qbo.error(cdc(qbo, conn, "Customer", "yesterday"))["code"] == "2010"


def test_cdc_caps_the_answer_at_1000_objects(qbo: Qbo, conn: Connection) -> None:
    since = sandbox_now(qbo) - timedelta(seconds=1)
    create_customers(qbo, conn, 1005)
    rows = cdc(qbo, conn, "Customer", iso(since)).json()["CDCResponse"][0]["QueryResponse"][0]["Customer"]
    assert len(rows) == 1000


# -- batch -------------------------------------------------------------------------------------------------------
def test_batch_runs_items_in_order_with_per_item_faults(qbo: Qbo, conn: Connection) -> None:
    existing = qbo.customer(conn, "Existing")
    response = batch(
        qbo,
        conn,
        [
            {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch One"}},
            {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Existing"}},
            {
                "bId": "3",
                "operation": "update",
                "Customer": {"Id": existing["Id"], "SyncToken": "0", "sparse": True, "Notes": "batched"},
            },
            {"bId": "4", "Query": "select * from Customer where DisplayName = 'Batch One'"},
            {"bId": "5", "operation": "update", "Customer": {"Id": existing["Id"], "SyncToken": "0", "sparse": True}},
        ],
    )
    assert response.status_code == 200
    results = {r["bId"]: r for r in response.json()["BatchItemResponse"]}
    assert list(results) == ["1", "2", "3", "4", "5"]
    assert results["1"]["Customer"]["DisplayName"] == "Batch One"
    assert results["2"]["Fault"]["Error"][0]["code"] == "6240"
    assert results["2"]["Fault"]["type"] == "ValidationFault"
    assert results["3"]["Customer"]["SyncToken"] == "1"
    assert results["4"]["QueryResponse"]["Customer"][0]["Id"] == results["1"]["Customer"]["Id"]  # ran after item 1
    assert results["5"]["Fault"]["Error"][0]["code"] == "5010"  # item 3 already bumped the SyncToken


def test_batch_delete_and_void_operations(qbo: Qbo, conn: Connection) -> None:
    customer = qbo.customer(conn)
    item = qbo.item(conn)
    first = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "1", "12.50")])
    second = qbo.invoice(conn, customer["Id"], [qbo.line(item["Id"], "1", "12.50")])
    response = batch(
        qbo,
        conn,
        [
            {"bId": "d", "operation": "delete", "Invoice": {"Id": first["Id"], "SyncToken": "0"}},
            {
                "bId": "v",
                "operation": "update",
                "optionsData": "void",
                "Invoice": {"Id": second["Id"], "SyncToken": "0"},
            },
        ],
    )
    deleted, voided = response.json()["BatchItemResponse"]
    assert deleted["Invoice"]["status"] == "Deleted"
    assert voided["Invoice"]["TotalAmt"] == 0.0


def test_batch_is_limited_to_30_items(qbo: Qbo, conn: Connection) -> None:
    items = [{"bId": str(i), "Query": "select * from Customer"} for i in range(31)]
    assert qbo.error(batch(qbo, conn, items))["code"] == "6000"
    assert batch(qbo, conn, items[:30]).status_code == 200


def test_batch_items_need_unique_bids_and_known_shapes(qbo: Qbo, conn: Connection) -> None:
    assert qbo.error(batch(qbo, conn, [{"Query": "select * from Customer"}]))["code"] == "6000"
    dup = [{"bId": "a", "Query": "select * from Customer"}, {"bId": "a", "Query": "select * from Item"}]
    assert qbo.error(batch(qbo, conn, dup))["code"] == "6000"
    odd = batch(qbo, conn, [{"bId": "x", "operation": "create", "Vendor": {"DisplayName": "V"}}])
    assert odd.json()["BatchItemResponse"][0]["Fault"]["Error"][0]["code"] == "2010"
