"""Customer classification: a table of realistic, tricky customers, each with the class AND the rule + evidence.

Every row is one customer as the books hold it. ``bill``/``ship`` are address line 1 (``bill2``/``ship2`` line 2).
The expected rule id names the reason; ``evidence`` is what the rule fired on (normalised text, or the display name).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from booksync.catalog.models import Address
from booksync.classification import CustomerFacts, classify, location_key, normalise
from booksync.classification import rules as R

H, B, BLD = "Homeowner", "Business", "Builder"


def C(name: str, cls: str, rule: str, evidence: str, **kw: Any) -> Any:
    facts: dict[str, Any] = {"name": name}
    for key, (line1_key, line2_key) in {
        "billing_address": ("bill", "bill2"),
        "shipping_address": ("ship", "ship2"),
    }.items():
        if line1_key in kw or line2_key in kw:
            facts[key] = Address(line1=kw.pop(line1_key, None), line2=kw.pop(line2_key, None), city="Springfield")
    facts.update(kw)
    return pytest.param(CustomerFacts(**facts), cls, rule, evidence, id=f"{name or '<empty>'}->{cls}/{rule}")


CASES = [
    # ---- individuals (Homeowner) -----------------------------------------------------------------------------
    C("Jane Doe", H, "individual_name", "Jane Doe", given_name="Jane", family_name="Doe", bill="12 Oak Lane"),
    C("Jane Doe", H, "individual_name", "Jane Doe", given_name="Jane", family_name="Doe", bill="1 Main St Apt 4B"),
    C("Doe, John", H, "individual_name", "Doe, John", bill="44 Elm Street"),
    C("José García", H, "individual_name", "José García"),
    C("Zoë Ångström", H, "individual_name", "Zoë Ångström", given_name="Zoë", family_name="Ångström"),
    C("李伟", H, "individual_name", "李伟", given_name="伟", family_name="李", bill="8 Jade Court"),
    C("Sean O'Brien", H, "individual_name", "Sean O'Brien", ship="3 Harbor View Condo", ship2="Unit 5"),
    C("Mary-Kate Olsen", H, "individual_name", "Mary-Kate Olsen"),
    C("John Smith (2)", H, "individual_name", "John Smith (2)", bill="19 Cedar Rd"),
    C("John Smith #2", H, "individual_name", "John Smith #2"),
    C("Dr. Emily Chen", H, "individual_name", "Dr. Emily Chen", bill="22 Lakeview Dr"),
    C("Mrs. Alvarez", H, "individual_name", "Mrs. Alvarez"),
    C("John and Mary Smith", H, "individual_name", "John and Mary Smith", bill="7 Orchard Way"),
    C("Carlos y Ana Ruiz", H, "individual_name", "Carlos y Ana Ruiz"),
    C("Maria de la Cruz", H, "individual_name", "Maria de la Cruz"),
    C("Wei Zhang", H, "individual_name", "Wei Zhang", email="wei.zhang@gmail.com"),
    C("Priya Raj", H, "individual_name", "Priya Raj", bill="Apt 12", bill2="400 Park Ave"),
    C("Ahmed Ali", H, "individual_name", "Ahmed Ali", bill="PO Box 55", ship="10 Cedar Rd"),
    C("Tom Jones", H, "individual_name", "Tom Jones", ship="Bldg 4, Apt 12", ship2="Riverside Commons"),
    C(
        "Sophie Martin",
        H,
        "individual_name",
        "Sophie Martin",
        given_name="Sophie",
        family_name="Martin",
        bill="18 rue de la Paix, appartement 3",
    ),
    C("Müller", H, "individual_name", "Müller", given_name="Jürgen", family_name="Müller"),
    C("Jane Doe", H, "individual_name", "Jane Doe", given_name="Jane", family_name="Doe", ship="Unit 4B, 12 Harbor Rd"),
    # the person's billing office is a suite, but the service address (shipping) is the house
    C("Linda Park", H, "individual_name", "Linda Park", bill="500 Main St", bill2="Suite 300", ship="14 Maple Dr"),
    # a role mailbox does not outrank an individual's name
    C("Jane Doe", H, "individual_name", "Jane Doe", given_name="Jane", family_name="Doe", email="office@doe.example"),
    # an unknown customer type is no evidence
    C("Jane Doe", H, "individual_name", "Jane Doe", given_name="Jane", family_name="Doe", customer_type="VIP"),
    # the company field repeats the person's own name
    C("Jane Doe", H, "individual_name", "Jane Doe", given_name="Jane", family_name="Doe", company_name="Jane Doe"),
    # ---- surnames that are also keywords ---------------------------------------------------------------------
    C("Bob Builder", H, "individual_name", "Bob Builder", given_name="Bob", family_name="Builder", bill="7 Birch Rd"),
    C("Bob Builder", H, "individual_name", "Bob Builder"),
    C("Jennifer Builder", H, "individual_name", "Jennifer Builder", ship="88 Willow Ct"),
    C("Cheryl Church", H, "individual_name", "Cheryl Church", bill="2 Chapel Hill Rd"),
    C("Grace Church", H, "individual_name", "Grace Church", given_name="Grace", family_name="Church"),
    C("Jude Law", H, "individual_name", "Jude Law"),
    C("Sarah Ferguson", H, "individual_name", "Sarah Ferguson", bill="31 Kensington Ave"),
    C("Dr. Horton", H, "individual_name", "Dr. Horton", bill="9 Elm St"),
    C("Sarah Mason", H, "individual_name", "Sarah Mason"),
    # ---- households (Homeowner) ------------------------------------------------------------------------------
    C("The Johnsons", H, "household", "the johnsons"),
    C("The Garcias", H, "household", "the garcias", bill="9 Pine St"),
    C("Smith Family Trust", H, "household", "family trust", bill="12 Oak Ln"),
    C("Anderson Living Trust", H, "household", "living trust"),
    C("Estate of Margaret Olsen", H, "household", "estate of"),
    C("Mr & Mrs Patel", H, "household", "mr and mrs"),
    C("Smith Residence", H, "household", "residence"),
    C("Nguyen Household", H, "household", "household", bill="5 Lotus Ln Apt 2"),
    C("The Smith Family", H, "household", "family"),
    # ---- addresses / defaults (Homeowner) --------------------------------------------------------------------
    C("Kowalski", H, "residential_address", "apt 2", bill="15 Birch Ave Apt 2"),
    C("Miller", H, "residential_address", "lot 7", bill="12 Oak Lane Lot 7"),
    C("Horizon", H, "residential_address", "apt 4b", bill="20 Bay St", bill2="Apt 4B"),
    C("Kowalski", H, "default", ""),
    C("Maple Ridge", H, "default", ""),
    C("李伟", H, "default", ""),
    C("Seaside", H, "default", "", bill="Harbor Rd Unit 4B"),
    C("", H, "default", ""),
    C("12345", H, "default", ""),
    C("Harbor Point", H, "customer_type", "Residential", customer_type="Residential"),
    # ---- jobs / sub-customers --------------------------------------------------------------------------------
    C("Kitchen remodel", H, "job_of_parent", "Linda Park", is_job=True, parent_name="Linda Park", parent_class=H),
    C("Bathroom Remodel", H, "job_of_parent", "Tom Jones", is_job=True, parent_name="Tom Jones"),
    C(
        "Lot 14 Maple Ridge",
        BLD,
        "job_of_parent",
        "Smith Builders",
        is_job=True,
        parent_name="Smith Builders",
        parent_class=BLD,
    ),
    C("Lot 22 - The Hendersons", BLD, "job_of_parent", "Smith Builders", is_job=True, parent_name="Smith Builders"),
    C("Store 12 - Main St", B, "job_of_parent", "Acme Foods", is_job=True, parent_name="Acme Foods", parent_class=B),
    C("Rental at 5 Elm", B, "job_of_parent", "Linda Park", is_job=True, parent_name="Linda Park", parent_class=B),
    # ---- manual override -------------------------------------------------------------------------------------
    C("Jane Doe", BLD, "manual_override", BLD, given_name="Jane", family_name="Doe", override=BLD),
    C("Home Depot", H, "manual_override", H, override=H),
    C("Kitchen remodel", B, "manual_override", B, is_job=True, parent_name="Linda Park", parent_class=H, override=B),
    # ---- curated names ---------------------------------------------------------------------------------------
    C("Home Depot #4521", B, "known_business", "home depot", bill="1200 Commerce Park Dr"),
    C("The Home Depot", B, "known_business", "home depot"),
    C("Lowe's Home Improvement", B, "known_business", "lowe s"),
    C("Builders FirstSource", B, "known_business", "builders firstsource", bill="8000 Industrial Blvd"),
    C("Builders FirstSource - Austin Yard", B, "known_business", "builders firstsource"),
    C("84 Lumber", B, "known_business", "84 lumber"),
    C("Ferguson", B, "known_business", "ferguson"),
    C("Habitat for Humanity ReStore", B, "known_business", "habitat for humanity restore"),
    C("ACE Hardware of Springfield", B, "known_business", "ace hardware"),
    C("Habitat for Humanity of Dane County", BLD, "known_builder", "habitat for humanity"),
    C("Toll Brothers", BLD, "known_builder", "toll brothers"),
    C("D.R. Horton", BLD, "known_builder", "d r horton"),
    C("DR Horton", BLD, "known_builder", "dr horton"),
    C("Lennar Homes of Texas", BLD, "known_builder", "lennar"),
    C("PulteGroup", BLD, "known_builder", "pultegroup"),
    # ---- customer type from the books ------------------------------------------------------------------------
    C("Jane Doe", BLD, "customer_type", "General Contractor", customer_type="General Contractor"),
    C("Linda Park", B, "customer_type", "Commercial", customer_type="Commercial"),
    C("Apex", BLD, "customer_type", "Residential Construction", customer_type="Residential Construction"),
    # ---- suppliers beat builder words ------------------------------------------------------------------------
    C("ABC Building Supply", B, "supplier_keyword", "supply"),
    C("Builders Lumber Co", B, "supplier_keyword", "lumber"),
    C("Acme Plumbing Supply", B, "supplier_keyword", "supply"),
    C("Contractors Wholesale Inc", B, "supplier_keyword", "wholesale"),
    # ---- builders --------------------------------------------------------------------------------------------
    C("Smith Builders", BLD, "builder_keyword", "builders", bill="400 Commerce Way", bill2="Suite 10"),
    C("Smith Builders LLC", BLD, "builder_keyword", "builders"),
    C("Bob's Builders", BLD, "builder_keyword", "builders"),
    C("Precision Construction Inc", BLD, "builder_keyword", "construction"),
    C("ABC Concrete Construction", BLD, "builder_keyword", "construction"),
    C("Apex General Contractors", BLD, "builder_keyword", "general contractors"),
    C("Smith Contracting", BLD, "builder_keyword", "contracting"),
    C("Sunrise Homes LLC", BLD, "builder_keyword", "homes"),
    C("Custom Homes by Rick", BLD, "builder_keyword", "custom homes"),
    C("Heritage Remodeling", BLD, "builder_keyword", "remodeling"),
    C("Kitchen & Bath Renovations Inc", BLD, "builder_keyword", "renovations"),
    C("Design-Build Partners", BLD, "builder_keyword", "design build"),
    C("Build-Rite Framing", BLD, "builder_keyword", "build"),
    C("Müller Bau GmbH", BLD, "builder_keyword", "bau"),
    C("Construcciones Ramírez SA de CV", BLD, "builder_keyword", "construcciones"),
    C("Costruzioni Rossi S.r.l.", BLD, "builder_keyword", "costruzioni"),
    C("Bob Builder Construction", BLD, "builder_keyword", "construction", given_name="Bob", family_name="Builder"),
    C(
        "John Smith",
        BLD,
        "builder_keyword",
        "construction",
        given_name="John",
        family_name="Smith",
        company_name="Smith Construction",
    ),
    C("Riverside Land Development", BLD, "builder_keyword", "land development"),
    # ---- company suffixes ------------------------------------------------------------------------------------
    C("Acme Inc.", B, "company_suffix", "inc"),
    C("Acme, L.L.C.", B, "company_suffix", "llc"),
    C("Smith & Co", B, "company_suffix", "co"),
    C("Johnson Law Group PLLC", B, "company_suffix", "pllc"),
    C("Baker Tilly LLP", B, "company_suffix", "llp"),
    C("Northwind Traders Ltd", B, "company_suffix", "ltd", bill="12 Oak Lane"),
    C("Contoso Corp", B, "company_suffix", "corp"),
    C("Café Olé LLC", B, "company_suffix", "llc"),
    C("Jane Doe", B, "company_suffix", "pc", given_name="Jane", family_name="Doe", company_name="Jane Doe, P.C."),
    # ---- organisations and trades ----------------------------------------------------------------------------
    C("Sunrise Dental", B, "business_keyword", "dental"),
    C("First Baptist Church", B, "business_keyword", "church"),
    C("Grace Community Church", B, "business_keyword", "church"),
    C("Oak Park Apartments", B, "business_keyword", "apartments", bill="100 Oak Park Dr"),
    C("Harbor View Condominium Association", B, "business_keyword", "condominium association"),
    C("Oakwood Homeowners Association", B, "business_keyword", "association"),
    C("Maple Ridge HOA", B, "business_keyword", "hoa"),
    C("Lincoln Elementary School", B, "business_keyword", "school"),
    C("City of Springfield", B, "business_keyword", "city of"),
    C("Joe's Diner", B, "business_keyword", "diner"),
    C("Pat's Pizza", B, "business_keyword", "pizza"),
    C("Smith & Sons", B, "business_keyword", "and sons"),
    C("Riverside Partners", B, "business_keyword", "partners"),
    C("Evergreen Property Management", B, "business_keyword", "property management"),
    C("Homestead Realty", B, "business_keyword", "realty"),
    C("Home Sweet Home Cleaning", B, "business_keyword", "cleaning"),
    C("Apt Solutions", B, "business_keyword", "solutions"),
    C("Peak Roofing", B, "business_keyword", "roofing"),
    C("ABC Electrical Contractors", B, "business_keyword", "electrical"),
    C("Acme Plumbing & Heating", B, "business_keyword", "plumbing"),
    C(
        "Jane Doe",
        B,
        "business_keyword",
        "consulting",
        given_name="Jane",
        family_name="Doe",
        company_name="Doe Consulting",
    ),
    C("Walgreens Store 881", B, "business_keyword", "store"),
    # ---- other business evidence -----------------------------------------------------------------------------
    C("Sandoval", B, "multiple_locations", "3", locations=3),
    C("Linda Park", B, "multiple_locations", "2", locations=2),
    C(
        "Jane Doe",
        B,
        "company_name_field",
        "Blue Heron",
        given_name="Jane",
        family_name="Doe",
        company_name="Blue Heron",
    ),
    C(
        "Jane Doe",
        B,
        "individual_commercial_address",
        "suite 200",
        given_name="Jane",
        family_name="Doe",
        bill="100 Main St",
        bill2="Suite 200",
    ),
    C("Dr. Emily Chen", B, "individual_commercial_address", "3rd floor", bill="77 Market St, 3rd Floor"),
    C("The Johnsons", B, "commercial_address", "ste 5", bill="9 Commerce Dr Ste 5"),
    C("Starbucks #1234", B, "store_number", "#1234"),
    C("Blue Sky", B, "role_email", "ap@bluesky.example", email="AP@bluesky.example"),
    C("Blue Sky", B, "role_email", "billing@bluesky.example", email="billing@bluesky.example"),
    C("Blue Sky", B, "commercial_address", "suite 10", bill="400 Industrial Pkwy Suite 10"),
    C("Northgate", B, "commercial_address", "bldg c", bill="1200 Commerce Park Dr, Bldg C"),
    C("Zenith", B, "commercial_address", "3rd floor", bill="77 Market St, 3rd Floor"),
    C("Horizon", B, "commercial_address", "suite 200", bill="20 Bay St", bill2="Suite 200"),
    C("Meridian", B, "commercial_address", "warehouse", ship="Warehouse 3, 50 Port Rd"),
]


@pytest.mark.parametrize(("facts", "expected_class", "expected_rule", "expected_evidence"), CASES)
def test_classification_table(
    facts: CustomerFacts, expected_class: str, expected_rule: str, expected_evidence: str
) -> None:
    result = classify(facts)
    assert (result.kind, result.rule, result.evidence) == (expected_class, expected_rule, expected_evidence), (
        result.reason
    )
    assert result.reason.endswith(f"[{expected_rule}]")
    if expected_evidence and expected_rule not in ("manual_override", "multiple_locations"):
        assert expected_evidence in result.reason or expected_evidence in normalise(result.reason)


def test_the_table_is_big_and_reaches_every_rule_and_class() -> None:
    assert len(CASES) >= 100
    rules_hit = {p.values[2] for p in CASES}
    assert rules_hit == {r for r, _, _ in R.PRECEDENCE}
    assert {p.values[1] for p in CASES} == set(R.CLASSES)


def test_classification_is_deterministic_and_pure() -> None:
    for p in CASES:
        facts = p.values[0]
        assert classify(facts) == classify(facts)


def test_rules_with_a_fixed_class_always_assign_it() -> None:
    fixed = {rule: cls for rule, cls, _ in R.PRECEDENCE if cls is not None}
    for p in CASES:
        _facts, cls, rule, _evidence = p.values
        if rule in fixed:
            assert cls == fixed[rule], rule


def test_normalisation_handles_accents_dots_apostrophes_and_ampersands() -> None:
    assert normalise("José's Café, L.L.C.") == "jose s cafe llc"
    assert normalise("D.R. Horton") == "d r horton"
    assert normalise("Smith & Sons") == "smith and sons"
    assert normalise("O’Brien") == "obrien"
    assert normalise(None) == ""


def test_location_key_ignores_case_and_punctuation() -> None:
    assert location_key(Address(line1="12 Oak Ln.", line2="Apt 4")) == location_key(Address(line1="12 OAK LN apt 4"))
    assert location_key(Address(line1="12 Oak Ln")) != location_key(Address(line1="14 Oak Ln"))
    assert location_key(None) is None
    assert location_key(Address(city="Springfield")) is None


def test_support_doc_lists_every_rule_in_precedence_order() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "CLASSIFICATION.md").read_text()
    ids = re.findall(r"^\|\s*\d+\s*\|\s*`([a-z_]+)`", doc, flags=re.M)
    assert ids == [r for r, _, _ in R.PRECEDENCE]
