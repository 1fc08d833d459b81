"""A small reader for Intuit's QuickBooks v3 XSD (enough for field names, field kinds and enumerations).

Used by the conformance tests (tests/sandbox) and to (re)generate ``local/sandbox/quickbooks_schema.py``:

    .venv/bin/python -m local.sandbox.quickbooks_xsd ../shared/specs/quickbooks_xsd \
        > local/sandbox/quickbooks_schema.py
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

XS = "{http://www.w3.org/2001/XMLSchema}"

PRIMITIVES = {
    "string": "string",
    "token": "string",
    "normalizedString": "string",
    "anyURI": "string",
    "time": "string",
    "boolean": "boolean",
    "decimal": "decimal",
    "double": "decimal",
    "float": "decimal",
    "int": "int",
    "integer": "int",
    "long": "int",
    "short": "int",
    "positiveInteger": "int",
    "nonNegativeInteger": "int",
    "date": "date",
    "dateTime": "dateTime",
    "base64Binary": "string",
}

# The entities the sandbox serves, plus the nested types whose keys it validates.
SCHEMA_TYPES = (
    "Customer",
    "Item",
    "Invoice",
    "Payment",
    "PaymentMethod",
    "Account",
    "CompanyInfo",
    "Line",
    "SalesItemLineDetail",
    "LinkedTxn",
)
EXTRA_ENUMS = ("FaultTypeEnum", "EntityStatusEnum", "LineDetailTypeEnum", "PaymentMethodEnum")


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str  # "xs:string", "ReferenceType", ...
    many: bool
    attribute: bool = False


def _local(name: str | None) -> str:
    return (name or "").split(":")[-1]


class XsdSchema:
    def __init__(self, xsd_dir: Path) -> None:
        self.complex: dict[str, ET.Element] = {}
        self.simple: dict[str, ET.Element] = {}
        self.groups: dict[str, ET.Element] = {}
        files = sorted(Path(xsd_dir).glob("*.xsd"))
        if not files:
            raise FileNotFoundError(f"no .xsd files in {xsd_dir}")
        for path in files:
            root = ET.parse(path).getroot()
            for node in root:
                name = node.get("name")
                if node.tag == XS + "complexType" and name:
                    self.complex[name] = node
                elif node.tag == XS + "simpleType" and name:
                    self.simple[name] = node
                elif node.tag == XS + "group" and name:
                    self.groups[name] = node

    # -- simple types -------------------------------------------------------------------------------------------
    def enum(self, name: str) -> tuple[str, ...] | None:
        node = self.simple.get(_local(name))
        if node is None:
            return None
        values = tuple(e.get("value", "") for e in node.iter(XS + "enumeration"))
        return values or None

    def kind(self, type_name: str) -> str:
        """Map an XSD type to a sandbox kind: string/boolean/decimal/int/date/dateTime, enum:<Name> or a type."""
        local = _local(type_name)
        if type_name.startswith("xs:") or (local in PRIMITIVES and local not in self.complex):
            return PRIMITIVES.get(local, "string")
        if local in self.simple:
            if self.enum(local):
                return f"enum:{local}"
            restriction = self.simple[local].find(XS + "restriction")
            return self.kind(restriction.get("base", "xs:string")) if restriction is not None else "string"
        return local

    # -- complex types ------------------------------------------------------------------------------------------
    def fields(self, type_name: str) -> dict[str, FieldDef]:
        node = self.complex[_local(type_name)]
        out: dict[str, FieldDef] = {}
        self._collect(node, out)
        return out

    def _collect(self, node: ET.Element, out: dict[str, FieldDef]) -> None:
        for child in node:
            tag = child.tag
            if tag in (XS + "complexContent", XS + "simpleContent"):
                self._collect(child, out)
            elif tag in (XS + "extension", XS + "restriction"):
                base = _local(child.get("base"))
                if node.tag == XS + "simpleContent":
                    out["value"] = FieldDef("value", child.get("base", "xs:string"), False)
                elif base in self.complex:
                    self._collect(self.complex[base], out)
                self._collect(child, out)
            elif tag in (XS + "sequence", XS + "choice", XS + "all"):
                self._collect(child, out)
            elif tag == XS + "group" and child.get("ref"):
                self._collect(self.groups[_local(child.get("ref"))], out)
            elif tag == XS + "element" and child.get("name"):
                many = child.get("maxOccurs", "1") not in ("1", "0")
                parent_many = node.get("maxOccurs", "1") not in ("1", "0")
                out[child.get("name", "")] = FieldDef(
                    child.get("name", ""), child.get("type", "xs:anyType"), many or parent_many
                )
            elif tag == XS + "attribute" and child.get("name"):
                out[child.get("name", "")] = FieldDef(
                    child.get("name", ""), child.get("type", "xs:string"), False, attribute=True
                )

    # -- JSON conformance -----------------------------------------------------------------------------------------
    def validate_json(self, type_name: str, data: Any, path: str = "") -> list[str]:
        """Problems found when reading the JSON object ``data`` as an instance of XSD type ``type_name``."""
        path = path or type_name
        if not isinstance(data, dict):
            return [f"{path}: expected an object for {type_name}, got {type(data).__name__}"]
        fields = self.fields(type_name)
        problems: list[str] = []
        for key, value in data.items():
            definition = fields.get(key)
            if definition is None:
                problems.append(f"{path}.{key}: no such element or attribute in XSD type {type_name}")
                continue
            if definition.many and not isinstance(value, list):
                problems.append(f"{path}.{key}: repeated element must be a JSON array")
                continue
            if not definition.many and isinstance(value, list):
                problems.append(f"{path}.{key}: single element must not be a JSON array")
                continue
            for index, item in enumerate(value if isinstance(value, list) else [value]):
                where = f"{path}.{key}[{index}]" if definition.many else f"{path}.{key}"
                problems.extend(self._validate_value(definition.type, item, where))
        return problems

    def _validate_value(self, type_name: str, value: Any, path: str) -> list[str]:
        kind = self.kind(type_name)
        if value is None:
            return [f"{path}: null"]
        if kind == "string":
            return [] if isinstance(value, str) else [f"{path}: expected a string, got {value!r}"]
        if kind == "boolean":
            return [] if isinstance(value, bool) else [f"{path}: expected a boolean, got {value!r}"]
        if kind == "decimal":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return [] if ok else [f"{path}: expected a number, got {value!r}"]
        if kind == "int":
            ok = isinstance(value, int) and not isinstance(value, bool)
            return [] if ok else [f"{path}: expected an integer, got {value!r}"]
        if kind == "date":
            ok = isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None
            return [] if ok else [f"{path}: expected yyyy-MM-dd, got {value!r}"]
        if kind == "dateTime":
            try:
                parsed = datetime.fromisoformat(str(value))
            except ValueError:
                return [f"{path}: expected an ISO date-time, got {value!r}"]
            return [] if parsed.tzinfo is not None else [f"{path}: date-time without an offset: {value!r}"]
        if kind.startswith("enum:"):
            values = self.enum(kind[5:]) or ()
            return [] if value in values else [f"{path}: {value!r} is not in {kind[5:]} {list(values)}"]
        if kind in ("IntuitAnyType", "anyType"):
            return []
        if kind in self.complex:
            return self.validate_json(kind, value, path)
        return [f"{path}: unknown XSD type {type_name}"]


def generate_module(xsd_dir: Path) -> str:
    schema = XsdSchema(xsd_dir)
    enums: set[str] = set(EXTRA_ENUMS)
    lines = [
        '"""DERIVED from Intuit\'s QuickBooks v3 XSD (shared/specs/quickbooks_xsd) by local/sandbox/quickbooks_xsd.py.',
        "",
        "Do not edit by hand: regenerate with",
        "    python -m local.sandbox.quickbooks_xsd <specs>/quickbooks_xsd > local/sandbox/quickbooks_schema.py",
        "The conformance test fails when this file and the XSD disagree.",
        "",
        'FIELDS[type][field] is a kind: "string", "boolean", "decimal", "int", "date", "dateTime", "enum:<Name>" or',
        'the name of a complex type; a "[]" suffix marks a repeated element (a JSON array).',
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "FIELDS: dict[str, dict[str, str]] = {",
    ]
    for type_name in SCHEMA_TYPES:
        lines.append(f'    "{type_name}": {{')
        for name, field in sorted(schema.fields(type_name).items()):
            kind = schema.kind(field.type)
            if kind.startswith("enum:"):
                enums.add(kind[5:])
            lines.append(f'        "{name}": "{kind}{"[]" if field.many else ""}",')
        lines.append("    },")
    lines.append("}")
    lines.append("")
    lines.append("ENUMS: dict[str, tuple[str, ...]] = {")
    for name in sorted(enums):
        values = schema.enum(name) or ()
        if len(values) == 1:  # the layout ruff format gives a one-element tuple
            lines.append(f'    "{name}": ("{values[0]}",),')
            continue
        lines.append(f'    "{name}": (')
        lines.extend(f'        "{v}",' for v in values)
        lines.append("    ),")
    lines.append("}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(generate_module(Path(sys.argv[1])))
