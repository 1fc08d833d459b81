"""Xero's ``where`` / ``order`` query parameters and date formats, for the Xero sandbox.

``where`` is Xero's LINQ-like filter (providers/xero.md §3: ``==`` and double quotes, URL-encoded). Supported here:
``Field==value`` (also ``!=``, ``>``, ``>=``, ``<``, ``<=``), dotted paths (``Contact.ContactID``), ``AND``/``&&``,
``OR``/``||``, ``NOT``/``!``, parentheses, ``.Contains("x")``, ``.StartsWith("x")``, ``.EndsWith("x")``,
``.ToLower()``/``.ToUpper()``, literals ``"text"``, numbers, ``true``/``false``/``null``, ``Guid("...")`` and
``DateTime(y, m, d[, h, mi, s])``. String comparisons ignore case (sandbox choice: Xero's are said to; UNCONFIRMED).
Anything else is a ``QueryError`` (the sandbox answers 400 ``QueryParseException``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

Getter = Callable[[dict[str, Any], str], Any]


class QueryError(ValueError):
    """The where/order expression cannot be parsed or names an unknown field."""


# ---- dates ------------------------------------------------------------------------------------------------------
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def ms_date(ts: float, offset: bool = True) -> str:
    """Xero's MS-JSON date: ``/Date(1552327126117+0000)/`` (``offset=False``: ``/Date(1552327126117)/``)."""
    return f"/Date({round(ts * 1000)}{'+0000' if offset else ''})/"


def ms_day(day: date) -> str:
    return ms_date(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def day_string(day: date) -> str:
    return f"{day.isoformat()}T00:00:00"


def parse_day(value: Any) -> date | None:
    """A request date: ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SS`` or MS-JSON ``/Date(ms[+zzzz])/`` (xero-python)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def parse_if_modified_since(value: str) -> float | None:
    """``If-Modified-Since``: ISO 8601 (UTC when no offset, as Xero documents) or an RFC 1123 HTTP date."""
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


# ---- where ------------------------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|>=|<=|&&|\|\||[><!().,])
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Tok:
    kind: str
    value: str


def _tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise QueryError(f"unexpected character at position {pos}: {text[pos : pos + 10]!r}")
        kind = match.lastgroup or ""
        out.append(_Tok(kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


Node = Callable[[dict[str, Any]], Any]


class _Parser:
    def __init__(self, text: str, getter: Getter) -> None:
        self.toks = _tokenize(text)
        self.i = 0
        self.getter = getter

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> _Tok:
        tok = self.peek()
        if tok is None or (value is not None and tok.value.upper() != value.upper()):
            raise QueryError(f"expected {value or 'more input'}")
        self.i += 1
        return tok

    def at(self, *values: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.value.upper() in values

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise QueryError(f"unexpected {self.peek().value!r}")  # type: ignore[union-attr]
        return node

    def or_(self) -> Node:
        left = self.and_()
        while self.at("||", "OR"):
            self.take()
            right = self.and_()
            left = (lambda a, b: lambda row: bool(a(row)) or bool(b(row)))(left, right)
        return left

    def and_(self) -> Node:
        left = self.unary()
        while self.at("&&", "AND"):
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda row: bool(a(row)) and bool(b(row)))(left, right)
        return left

    def unary(self) -> Node:
        if self.at("!", "NOT"):
            self.take()
            inner = self.unary()
            return lambda row: not inner(row)
        if self.at("("):
            self.take("(")
            inner = self.or_()
            self.take(")")
            return inner
        return self.comparison()

    def literal(self) -> Any:
        tok = self.take()
        if tok.kind == "string":
            return bytes(tok.value[1:-1], "utf-8").decode("unicode_escape")
        if tok.kind == "number":
            return Decimal(tok.value)
        word = tok.value.lower()
        if word in ("true", "false"):
            return word == "true"
        if word == "null":
            return None
        if word == "guid":
            self.take("(")
            value = self.literal()
            self.take(")")
            return str(value).lower()
        if word == "datetime":
            self.take("(")
            parts = [int(self.literal())]
            while self.at(","):
                self.take(",")
                parts.append(int(self.literal()))
            self.take(")")
            if len(parts) not in (3, 6):
                raise QueryError("DateTime takes (year, month, day[, hour, minute, second])")
            return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]
        raise QueryError(f"unexpected {tok.value!r}")

    def comparison(self) -> Node:
        tok = self.take()
        if tok.kind != "name":
            raise QueryError(f"expected a field name, got {tok.value!r}")
        path = [tok.value]
        transforms: list[str] = []
        predicate: tuple[str, Any] | None = None
        while self.at("."):
            self.take(".")
            name = self.take().value
            if self.at("("):
                self.take("(")
                method = name.lower()
                if method in ("tolower", "toupper"):
                    self.take(")")
                    transforms.append(method)
                elif method in ("contains", "startswith", "endswith"):
                    arg = self.literal()
                    self.take(")")
                    predicate = (method, arg)
                else:
                    raise QueryError(f"unsupported method {name}()")
            else:
                if transforms or predicate:
                    raise QueryError("a property cannot follow a method call")
                path.append(name)
        field_path = ".".join(path)

        def value_of(row: dict[str, Any]) -> Any:
            value = self.getter(row, field_path)
            for t in transforms:
                value = value.lower() if t == "tolower" and isinstance(value, str) else value
                value = value.upper() if t == "toupper" and isinstance(value, str) else value
            return value

        if predicate is not None:
            method, arg = predicate
            needle = str(arg).casefold()

            def test(row: dict[str, Any]) -> bool:
                value = value_of(row)
                if not isinstance(value, str):
                    return False
                hay = value.casefold()
                return {
                    "contains": needle in hay,
                    "startswith": hay.startswith(needle),
                    "endswith": hay.endswith(needle),
                }[method]

            return test
        if self.at("==", "!=", ">", ">=", "<", "<="):
            op = self.take().value
            expected = self.literal()
            return lambda row: _compare(value_of(row), op, expected)
        return lambda row: bool(value_of(row))


def _norm(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float | Decimal):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def _compare(actual: Any, op: str, expected: Any) -> bool:
    a, b = _norm(actual), _norm(expected)
    if op == "==":
        return bool(a == b)
    if op == "!=":
        return bool(a != b)
    if a is None or b is None:
        return False
    try:
        return bool({">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op])
    except TypeError:
        return False


def compile_where(text: str, getter: Getter) -> Node:
    return _Parser(text, getter).parse()


def sort_rows(rows: list[dict[str, Any]], order: str, getter: Getter) -> list[dict[str, Any]]:
    """``order=Name ASC`` / ``Date DESC`` (comma-separated for several keys)."""
    keys: list[tuple[str, bool]] = []
    for part in order.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise QueryError(f"cannot order by {part.strip()!r}")
        keys.append((words[0], len(words) == 2 and words[1].upper() == "DESC"))
    out = list(rows)
    for name, desc in reversed(keys):

        def key(row: dict[str, Any], name: str = name) -> tuple[int, Any]:
            value = _norm(getter(row, name))
            return (0, "") if value is None else (1, value)

        out.sort(key=key, reverse=desc)
    return out
