"""Deterministic customer classification: Homeowner, Business or Builder, with the rule and evidence that decided it.

Pure code: no I/O, no clock, no randomness. The rule table is data in :mod:`booksync.classification.rules`; this
module walks ``rules.PRECEDENCE`` in order and stops at the first rule that fires.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol

from booksync.classification import rules as R


class AddressLike(Protocol):
    line1: str | None
    line2: str | None


@dataclass(frozen=True)
class CustomerFacts:
    """What the classifier looks at. Every provider's importer fills these from its own record."""

    name: str
    company_name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    billing_address: AddressLike | None = None
    shipping_address: AddressLike | None = None
    customer_type: str | None = None  # the books' own customer type / industry, when they have one
    is_job: bool = False  # a sub-customer / job site (QuickBooks ParentRef, Job = true)
    parent_name: str | None = None
    parent_class: str | None = None  # the parent's effective class, when known
    locations: int = 0  # distinct service locations of this customer and its sub-customers (0/1: one or unknown)
    override: str | None = None  # a user's manual choice


@dataclass(frozen=True)
class Classification:
    kind: str  # Homeowner | Business | Builder
    rule: str  # a rule id of rules.PRECEDENCE
    evidence: str  # what the rule fired on
    reason: str  # one sentence for people, ending with the rule id

    def __str__(self) -> str:
        return self.reason


MANUAL_REASON = "Set manually by a user (kept across imports)."

_APOSTROPHE = "'’`´ʼ"  # the typographic apostrophes people type


def normalise(text: str | None) -> str:
    """Accents dropped, case-folded, '&' read as 'and', dotted abbreviations joined, punctuation as spaces."""
    if not text:
        return ""
    t = unicodedata.normalize("NFKD", text)
    t = "".join(ch for ch in t if not unicodedata.combining(ch)).casefold()
    t = t.replace("&", " and ").replace("+", " and ")
    t = re.sub(r"\b(?:\w\.){2,}", _dotted, t)  # "L.L.C." -> "llc", "D.R." -> "d r"
    t = re.sub(rf"[{_APOSTROPHE}]s\b", " s", t)  # possessive: "bob's" -> "bob s"
    t = re.sub(rf"[{_APOSTROPHE}]", "", t)  # "o'brien" -> "obrien"
    t = re.sub(r"[\W_]+", " ", t)
    return " ".join(t.split())


def _dotted(m: re.Match[str]) -> str:
    letters = m.group().replace(".", "")
    return letters if letters in _sets()["company"] else " ".join(letters)


def _has_phrase(text: str, phrase: str) -> bool:
    return f" {phrase} " in f" {text} "


@lru_cache(maxsize=64)
def _longest_first(phrases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted(phrases, key=lambda p: -len(p.split())))  # stable: list order among equals


def _first_phrase(text: str, phrases: tuple[str, ...]) -> str | None:
    """The most specific phrase of ``phrases`` in ``text`` (more words first, then list order)."""
    return next((p for p in _longest_first(phrases) if _has_phrase(text, p)), None)


@lru_cache(maxsize=1)
def _sets() -> dict[str, frozenset[str]]:
    return {
        "titles": frozenset(R.TITLES),
        "suffixes": frozenset(R.NAME_SUFFIXES),
        "connectors": frozenset(R.NAME_CONNECTORS),
        "surnames": frozenset(R.SURNAME_KEYWORDS),
        "company": frozenset(R.COMPANY_SUFFIXES),
        "company_end": frozenset(R.SUFFIXES_ONLY_AT_END),
        "roles": frozenset(R.ROLE_EMAIL_LOCAL_PARTS),
    }


@lru_cache(maxsize=1)
def _markers() -> tuple[tuple[re.Pattern[str], ...], tuple[re.Pattern[str], ...]]:
    return (
        tuple(re.compile(p) for p in R.RESIDENTIAL_ADDRESS_MARKERS),
        tuple(re.compile(p) for p in R.COMMERCIAL_ADDRESS_MARKERS),
    )


# ---- evidence extractors ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Person:
    is_person: bool
    structured: bool  # decided from the books' GivenName/FamilyName fields
    excluded: frozenset[str]  # tokens that are the person's (sur)name, not keywords


def _person(f: CustomerFacts, name: str) -> _Person:
    s = _sets()
    tokens = [t for t in name.split() if not t.isdigit()]  # "John Smith (2)": QuickBooks' duplicate-name habit
    core = [t for t in tokens if t not in s["titles"] | s["suffixes"] | s["connectors"] and len(t) > 1]
    given, family = normalise(f.given_name), normalise(f.family_name)
    structured = set(given.split()) | set(family.split())
    if structured:
        compact = "".join(tokens)
        own = {t for t in core if t in structured or t in R.FIRST_NAMES}
        joined = {given.replace(" ", "") + family.replace(" ", ""), family.replace(" ", "") + given.replace(" ", "")}
        if (core and len(own) == len(core)) or compact in joined:
            return _Person(True, True, frozenset(core) | frozenset(structured))
        return _Person(False, True, frozenset(t for t in structured if t in s["surnames"]))
    if not core or not all(t.isalpha() for t in core) or any(t in s["company"] for t in tokens):
        return _Person(False, False, frozenset())
    raw_first = f.name.strip().split()[0].strip(".") if f.name.strip() else ""
    titled = bool(tokens) and tokens[0] in s["titles"] and not (len(raw_first) > 1 and raw_first.isupper())  # DR ≠ Dr
    comma = "," in f.name and len(core) == 2 and core[1] in R.FIRST_NAMES  # "Smith, John"
    shaped = core[0] in R.FIRST_NAMES and (len(core) == 2 or (len(core) == 3 and core[1] in R.FIRST_NAMES))
    if shaped or comma or (titled and len(core) <= 2):
        last = core[0] if comma else core[-1]
        return _Person(True, False, frozenset({last}) & s["surnames"])
    return _Person(False, False, frozenset())


def _without(text: str, excluded: frozenset[str]) -> str:
    return " ".join(t for t in text.split() if t not in excluded)


def _keyword(text: str, words: tuple[str, ...], stems: Iterable[str] = ()) -> str | None:
    hit = _first_phrase(text, words)
    if hit:
        return hit
    for token in text.split():
        if any(token.startswith(stem) for stem in stems):
            return token
    return None


def _suffix(text: str) -> str | None:
    s = _sets()
    tokens = text.split()
    for i, token in enumerate(tokens):
        if token in s["company"] and (token not in s["company_end"] or i == len(tokens) - 1):
            return token
    return None


def _address(f: CustomerFacts) -> tuple[str, str]:
    """("none" | "plain" | "residential" | "commercial", the marker found) for the service address."""
    for addr in (f.shipping_address, f.billing_address):
        lines = [x for x in ((addr.line1, addr.line2) if addr is not None else ()) if x and x.strip()]
        if not lines:
            continue
        text = normalise(" ".join(lines))
        residential, commercial = _markers()
        for pattern in residential:
            m = pattern.search(text)
            if m:
                return "residential", m.group().strip()
        for pattern in commercial:
            m = pattern.search(text)
            if m:
                return "commercial", m.group().strip()
        return "plain", ""
    return "none", ""


def _household(name: str) -> str | None:
    tokens = name.split()
    if len(tokens) == 2 and tokens[0] == "the" and tokens[1].endswith("s") and len(tokens[1]) > 3:
        return " ".join(tokens)  # "The Johnsons"
    return _first_phrase(name, R.HOUSEHOLD_WORDS)


# ---- the walk -----------------------------------------------------------------------------------------------------
def classify(f: CustomerFacts) -> Classification:
    """Walk ``rules.PRECEDENCE``; the first rule that fires decides."""
    ctx = _Context(f)
    for rule_id, _cls, _doc in R.PRECEDENCE:
        found = _RULES[rule_id](ctx)
        if found is not None:
            kind, evidence, reason = found
            return Classification(kind=kind, rule=rule_id, evidence=evidence, reason=f"{reason} [{rule_id}]")
    raise AssertionError("the default rule always fires")  # pragma: no cover


class _Context:
    def __init__(self, f: CustomerFacts) -> None:
        self.f = f
        self.name = normalise(f.name)
        self.company = normalise(f.company_name)
        self.person = _person(f, self.name)
        own = _without(self.name, self.person.excluded)  # a person's own (sur)name is never a keyword
        # the text keywords are looked for in: the name (minus a person's own name) and the company name
        self.text = " ".join(x for x in (own, self.company) if x)
        # curated names never match an individual's own name ("Sarah Ferguson", "Dr. Horton")
        self.known = " ".join(x for x in ("" if self.person.is_person else self.name, self.company) if x)
        self.address, self.marker = _address(f)


Found = tuple[str, str, str] | None


def _manual(c: _Context) -> Found:
    if c.f.override in R.CLASSES:
        return c.f.override, c.f.override, MANUAL_REASON.removesuffix(".")  # type: ignore[return-value]
    return None


def _job(c: _Context) -> Found:
    if not c.f.is_job:
        return None
    if c.f.parent_class in R.CLASSES and c.f.parent_name:
        kind = str(c.f.parent_class)
        return kind, c.f.parent_name, f"Job / sub-customer of '{c.f.parent_name}' ({kind}), so it takes its class"
    if c.f.parent_name:
        parent = classify(CustomerFacts(name=c.f.parent_name))
        return (
            parent.kind,
            c.f.parent_name,
            f"Job / sub-customer of '{c.f.parent_name}', whose name reads as {parent.kind} ({parent.rule})",
        )
    return None


def _known_business(c: _Context) -> Found:
    hit = _first_phrase(c.known, R.KNOWN_BUSINESSES)
    return (R.BUSINESS, hit, f"'{hit}' is a known retailer/supplier, not a builder") if hit else None


def _known_builder(c: _Context) -> Found:
    hit = _first_phrase(c.known, R.KNOWN_BUILDERS)
    return (R.BUILDER, hit, f"'{hit}' is a known homebuilder") if hit else None


def _customer_type(c: _Context) -> Found:
    text = normalise(c.f.customer_type)
    if not text:
        return None
    for kind in (R.BUILDER, R.BUSINESS, R.HOMEOWNER):
        hit = _first_phrase(text, R.CUSTOMER_TYPE_WORDS[kind])
        if hit:
            return kind, c.f.customer_type or hit, f"The books give the customer type '{c.f.customer_type}'"
    return None


def _supplier(c: _Context) -> Found:
    hit = _keyword(c.text, R.SUPPLIER_WORDS)
    return (R.BUSINESS, hit, f"Name has the supplier word '{hit}' (suppliers sell to builders)") if hit else None


def _builder(c: _Context) -> Found:
    hit = _keyword(c.text, R.BUILDER_WORDS, R.BUILDER_STEMS)
    if hit is None and _keyword(c.text, R.TRADE_WORDS) is None:
        hit = _keyword(c.text, R.CONTRACTOR_WORDS)  # a contractor without a named trade is a builder
    return (R.BUILDER, hit, f"Name has the construction word '{hit}'") if hit else None


def _company_suffix(c: _Context) -> Found:
    hit = _suffix(c.name) or _suffix(c.company)
    return (R.BUSINESS, hit, f"Name has the company suffix '{hit}'") if hit else None


def _business_word(c: _Context) -> Found:
    hit = _keyword(c.text, R.BUSINESS_WORDS)
    return (R.BUSINESS, hit, f"Name has the business word '{hit}'") if hit else None


def _multiple_locations(c: _Context) -> Found:
    n = c.f.locations
    if n >= R.MULTIPLE_LOCATIONS_AT_LEAST:
        # the count is the evidence; the reason stays the same while jobs are added (nothing to rewrite)
        return R.BUSINESS, str(n), "Service locations at several addresses (its sub-customers / jobs)"
    return None


def _household_rule(c: _Context) -> Found:
    hit = _household(" ".join(x for x in (c.name, c.company) if x))
    if hit and c.address != "commercial":
        return R.HOMEOWNER, hit, f"Household name ('{hit}')"
    return None


def _company_name_field(c: _Context) -> Found:
    if not c.company:
        return None
    if c.company == c.name or set(c.company.split()) <= set(c.name.split()) | c.person.excluded:
        return None  # the company field repeats the person's own name
    return R.BUSINESS, c.f.company_name or c.company, f"The books hold the company name '{c.f.company_name}'"


def _individual_commercial(c: _Context) -> Found:
    if c.person.is_person and c.address == "commercial":
        return R.BUSINESS, c.marker, f"An individual's name, but the address is commercial ('{c.marker}')"
    return None


def _individual(c: _Context) -> Found:
    if not c.person.is_person:
        return None
    where = {
        "none": "no address on file",
        "plain": "a street address with no commercial marker",
        "residential": f"a residential address ('{c.marker}')",
    }[c.address]
    return R.HOMEOWNER, c.f.name, f"An individual's name ('{c.f.name}') with {where}"


def _store_number(c: _Context) -> Found:
    m = re.search(r"#\s*\d+", c.f.name) or re.search(r"\b(?:store|branch|location)\s+\d+\b", c.name)
    return (R.BUSINESS, m.group(), f"Store / branch number in the name ('{m.group()}')") if m else None


def _role_email(c: _Context) -> Found:
    email = (c.f.email or "").strip().casefold()
    local = email.split("@", 1)[0] if "@" in email else ""
    if local in _sets()["roles"]:
        return R.BUSINESS, email, f"Billed through a role mailbox ('{email}')"
    return None


def _commercial_address(c: _Context) -> Found:
    if c.address == "commercial":
        return R.BUSINESS, c.marker, f"Commercial address ('{c.marker}')"
    return None


def _residential_address(c: _Context) -> Found:
    if c.address == "residential":
        return R.HOMEOWNER, c.marker, f"Residential address ('{c.marker}')"
    return None


def _default(c: _Context) -> Found:
    return R.HOMEOWNER, "", "No business or builder evidence in the name, address or email; Homeowner by default"


_RULES: dict[str, Callable[[_Context], Found]] = {
    "manual_override": _manual,
    "job_of_parent": _job,
    "known_business": _known_business,
    "known_builder": _known_builder,
    "customer_type": _customer_type,
    "supplier_keyword": _supplier,
    "builder_keyword": _builder,
    "company_suffix": _company_suffix,
    "business_keyword": _business_word,
    "multiple_locations": _multiple_locations,
    "household": _household_rule,
    "company_name_field": _company_name_field,
    "individual_commercial_address": _individual_commercial,
    "individual_name": _individual,
    "store_number": _store_number,
    "role_email": _role_email,
    "commercial_address": _commercial_address,
    "residential_address": _residential_address,
    "default": _default,
}
assert [r for r, _, _ in R.PRECEDENCE] == list(_RULES), "rules.PRECEDENCE and the interpreter disagree"


def location_key(address: AddressLike | None) -> str | None:
    """A stable key of a service address (line1 + line2, normalised), or None when there is none."""
    if address is None:
        return None
    text = normalise(" ".join(x for x in (address.line1, address.line2) if x))
    return text or None


def with_override(f: CustomerFacts, override: str | None) -> CustomerFacts:
    return replace(f, override=override)
