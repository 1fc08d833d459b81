"""The Wave sandbox schema against Wave's own (partial) introspection, and every document the adapter sends.

The specs directory comes from one setting: env BOOKSYNC_SPECS_DIR, default ``../shared/specs`` from the repo root.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from graphql import get_introspection_query, graphql_sync, parse, validate

from local.sandbox import wave_schema
from local.sandbox.wave_schema import generate_inputs_module, schema

REPO_ROOT = Path(__file__).resolve().parents[2]


def specs_dir() -> Path:
    configured = os.environ.get("BOOKSYNC_SPECS_DIR")
    return Path(configured) if configured else (REPO_ROOT / ".." / "shared" / "specs").resolve()


@pytest.fixture(scope="module")
def dump_path() -> Path:
    path = specs_dir() / "wave_schema_partial.json"
    if not path.is_file():
        pytest.skip(f"{path} not found: set BOOKSYNC_SPECS_DIR to the shared specs directory to run the check")
    return path


@pytest.fixture(scope="module")
def introspected() -> dict[str, dict[str, Any]]:
    result = graphql_sync(schema(), get_introspection_query(descriptions=True))
    assert result.errors is None and result.data is not None
    return {t["name"]: t for t in result.data["__schema"]["types"]}


def _ref(t: dict[str, Any] | None) -> dict[str, Any] | None:
    """An introspection type reference reduced to what the dump records: name, kind, ofType."""
    if t is None:
        return None
    return {"name": t["name"], "kind": t["kind"], "ofType": _ref(t.get("ofType"))}


def test_inputs_module_is_generated_from_the_shared_dump(dump_path: Path) -> None:
    committed = Path(wave_schema.__file__).with_name("wave_schema_inputs.py").read_text(encoding="utf-8")
    assert committed == generate_inputs_module(dump_path), "regenerate local/sandbox/wave_schema_inputs.py"


def test_every_input_type_of_the_dump_is_in_the_schema_unchanged(
    dump_path: Path, introspected: dict[str, dict[str, Any]]
) -> None:
    dump = json.loads(dump_path.read_text())
    assert len(dump["input_types"]) == 48
    for name, spec in dump["input_types"].items():
        got = introspected[name]
        assert got["kind"] == spec["kind"] == "INPUT_OBJECT", name
        assert got["description"] == spec["description"], name
        fields = [
            {
                "name": f["name"],
                "description": f["description"],
                "defaultValue": f["defaultValue"],
                "type": _ref(f["type"]),
            }
            for f in got["inputFields"]
        ]
        expected = [{**f, "type": _ref(f["type"])} for f in spec["inputFields"]]
        assert fields == expected, name


def test_every_enum_of_the_dump_is_in_the_schema_unchanged(
    dump_path: Path, introspected: dict[str, dict[str, Any]]
) -> None:
    dump = json.loads(dump_path.read_text())
    assert len(dump["enums"]) == 11
    for name, spec in dump["enums"].items():
        got = introspected[name]
        assert got["kind"] == "ENUM"
        values = [{"name": v["name"], "description": v["description"]} for v in got["enumValues"]]
        assert values == [{"name": v["name"], "description": v.get("description")} for v in spec["enumValues"]], name


def test_types_the_dump_only_references_exist(dump_path: Path, introspected: dict[str, dict[str, Any]]) -> None:
    dump = json.loads(dump_path.read_text())

    def leaf(t: dict[str, Any]) -> str:
        return str(t["name"]) if t.get("ofType") is None else leaf(t["ofType"])

    referenced = {leaf(f["type"]) for spec in dump["input_types"].values() for f in spec["inputFields"]}
    assert referenced - set(introspected) == set()


def test_payment_mutation_takes_the_dumps_input_type() -> None:
    mutation = schema().mutation_type
    assert mutation is not None
    field = mutation.fields["invoicePaymentCreateManual"]
    assert str(field.args["input"].type) == "InvoicePaymentCreateManualInput!"


def test_every_adapter_document_validates_against_the_schema() -> None:
    from booksync.providers.wave.accounting import DOCUMENTS
    from booksync.providers.wave.oauth import BUSINESSES

    for name, text in {**DOCUMENTS, "businesses": BUSINESSES}.items():
        assert validate(schema(), parse(text)) == [], name


def test_validation_catches_a_wrong_document() -> None:
    """The check above can fail: a misspelt input field and an unknown root field are refused."""
    wrong = "mutation($i: InvoiceCreateInput!) { invoiceCreate(input: $i) { didSucceed invoce { id } } }"
    assert validate(schema(), parse(wrong))
    assert validate(schema(), parse("mutation { invoiceManualPaymentCreate(input: {}) { didSucceed } }"))
