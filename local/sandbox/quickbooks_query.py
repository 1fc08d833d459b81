"""Parser for the subset of the QuickBooks Online query language the sandbox supports.

    SELECT * | COUNT(*) | *, <field>... | <field>, ... FROM <Entity>
      [WHERE <field> (= | < | > | <= | >=) <literal> | <field> IN (<literal>, ...) | <field> LIKE '<pattern>'
             [AND ...]]
      [ORDERBY | ORDER BY <field> [ASC | DESC] [, ...]]
      [STARTPOSITION <n>] [MAXRESULTS <n>]

Keywords are case-insensitive; strings are single-quoted with backslash escapes (``'O\\'Brien'``). OR, NOT, != and
joins are rejected (Intuit's query guidance lists none of them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

MAX_RESULTS_LIMIT = 1000
DEFAULT_MAX_RESULTS = 100

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<number>-?\d+(?:\.\d+)?(?![A-Za-z_]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),*])
  """,
    re.VERBOSE,
)
_OPS = {"=", "<", ">", "<=", ">="}


class QueryError(Exception):
    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind  # "parse" | "validation"
        self.detail = detail


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


@dataclass(frozen=True)
class Literal:
    kind: str  # "string" | "number" | "bool"
    value: str | Decimal | bool


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # "=", "<", ">", "<=", ">=", "in", "like"
    values: tuple[Literal, ...]


@dataclass
class Query:
    entity: str
    count: bool = False
    projection: list[str] | None = None
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    start_position: int = 1
    max_results: int = DEFAULT_MAX_RESULTS


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise QueryError("parse", f'QueryParserError: Encountered "{text[pos]}" at line 1, column {pos + 1}.')
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def error(self, token: Token | None, expected: str) -> QueryError:
        if token is None:
            return QueryError("parse", f"QueryParserError: Encountered <EOF>; expected {expected}.")
        return QueryError(
            "parse",
            f'QueryParserError: Encountered "{token.text}" at line 1, column {token.pos + 1}; expected {expected}.',
        )

    def next(self, expected: str) -> Token:
        token = self.peek()
        if token is None:
            raise self.error(None, expected)
        self.i += 1
        return token

    def keyword(self, *words: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "ident" and token.upper in words:
            self.i += 1
            return True
        return False

    def expect_keyword(self, word: str) -> None:
        token = self.peek()
        if not self.keyword(word):
            raise self.error(token, word)

    def punct(self, char: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "punct" and token.text == char:
            self.i += 1
            return True
        return False

    def expect_punct(self, char: str) -> None:
        token = self.peek()
        if not self.punct(char):
            raise self.error(token, f'"{char}"')

    def ident(self, what: str) -> str:
        token = self.next(what)
        if token.kind != "ident" or token.upper in _RESERVED:
            raise self.error(token, what)
        return token.text

    def integer(self, what: str) -> int:
        token = self.next(what)
        if token.kind != "number" or not token.text.lstrip("-").isdigit():
            raise self.error(token, what)
        return int(token.text)

    def literal(self) -> Literal:
        token = self.next("a literal")
        if token.kind == "string":
            return Literal("string", re.sub(r"\\(.)", r"\1", token.text[1:-1]))
        if token.kind == "number":
            return Literal("number", Decimal(token.text))
        if token.kind == "ident" and token.upper in ("TRUE", "FALSE"):
            return Literal("bool", token.upper == "TRUE")
        raise self.error(token, "a literal")

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        count = False
        projection: list[str] | None = None
        if self.keyword("COUNT"):
            self.expect_punct("(")
            self.expect_punct("*")
            self.expect_punct(")")
            count = True
        elif self.punct("*"):
            while self.punct(","):  # "SELECT *, Sku FROM Item" (python-quickbooks sends this)
                self.ident("a field name")
        else:
            projection = [self.ident("a field name")]
            while self.punct(","):
                projection.append(self.ident("a field name"))
        self.expect_keyword("FROM")
        query = Query(entity=self.ident("an entity name"), count=count, projection=projection)
        if self.keyword("WHERE"):
            query.where.append(self.condition())
            while True:
                token = self.peek()
                if self.keyword("AND"):
                    query.where.append(self.condition())
                elif token is not None and token.kind == "ident" and token.upper in ("OR", "NOT"):
                    raise QueryError(
                        "parse",
                        f'QueryParserError: Encountered "{token.text}" at line 1, column {token.pos + 1}; '
                        "only AND is supported between conditions.",
                    )
                else:
                    break
        if self.keyword("ORDERBY") or (self.keyword("ORDER") and self._expect_by()):
            query.order.append(self.order_item())
            while self.punct(","):
                query.order.append(self.order_item())
        seen: set[str] = set()
        while True:
            token = self.peek()
            if token is None:
                break
            if token.kind == "ident" and token.upper in ("STARTPOSITION", "MAXRESULTS") and token.upper not in seen:
                self.i += 1
                seen.add(token.upper)
                value = self.integer("an integer")
                if token.upper == "STARTPOSITION":
                    query.start_position = value
                else:
                    query.max_results = value
                continue
            raise self.error(token, "<EOF>")
        return query

    def _expect_by(self) -> bool:
        self.expect_keyword("BY")
        return True

    def order_item(self) -> tuple[str, bool]:
        name = self.ident("a field name")
        if self.keyword("DESC"):
            return name, True
        self.keyword("ASC")
        return name, False

    def condition(self) -> Condition:
        name = self.ident("a field name")
        token = self.next("an operator")
        if token.kind == "op":
            if token.text not in _OPS:
                raise QueryError(
                    "parse",
                    f'QueryParserError: Encountered "{token.text}" at line 1, column {token.pos + 1}; '
                    "operator not supported.",
                )
            return Condition(name, token.text, (self.literal(),))
        if token.kind == "ident" and token.upper == "IN":
            self.expect_punct("(")
            values = [self.literal()]
            while self.punct(","):
                values.append(self.literal())
            self.expect_punct(")")
            return Condition(name, "in", tuple(values))
        if token.kind == "ident" and token.upper == "LIKE":
            value = self.literal()
            if value.kind != "string":
                raise QueryError("parse", "QueryParserError: LIKE needs a quoted pattern.")
            return Condition(name, "like", (value,))
        raise self.error(token, "an operator")


_RESERVED = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ORDERBY",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "STARTPOSITION",
    "MAXRESULTS",
    "COUNT",
}


def parse_query(text: str) -> Query:
    query = _Parser(text.strip()).parse()
    if query.max_results < 1:
        raise QueryError("validation", "QueryValidationError: MAXRESULTS must be at least 1.")
    if query.max_results > MAX_RESULTS_LIMIT:
        raise QueryError(
            "validation",
            f"QueryValidationError: MAXRESULTS value {query.max_results} exceeds the maximum of {MAX_RESULTS_LIMIT}.",
        )
    if query.start_position < 1:
        raise QueryError("validation", "QueryValidationError: STARTPOSITION must be at least 1.")
    return query


def like_to_regex(pattern: str) -> re.Pattern[str]:
    parts = [".*" if ch == "%" else re.escape(ch) for ch in pattern]
    return re.compile("^" + "".join(parts) + "$", re.IGNORECASE | re.DOTALL)
