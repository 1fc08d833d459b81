"""The customer-classification rule table, as DATA. ``classifier.py`` only interprets it; support staff read it in
``docs/CLASSIFICATION.md`` (keep the two in step: ``tests/unit/test_classification.py`` checks the doc lists every
rule id below, in this order).

Matching is on *normalised* text: Unicode NFKD, accents dropped, case-folded, punctuation turned into spaces
(``"José's Café, L.L.C."`` → ``jose s cafe l l c``; dotted suffixes are joined first, so ``L.L.C.`` → ``llc``).
Single words match whole words; phrases match whole-word sequences.

PRECEDENCE: the first rule that fires decides the class; its evidence goes into the reason.
"""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


HOMEOWNER = "Homeowner"
BUSINESS = "Business"
BUILDER = "Builder"
CLASSES = (HOMEOWNER, BUSINESS, BUILDER)

# (rule id, class it assigns — None when it depends on the evidence, one-line description for the docs)
PRECEDENCE: tuple[tuple[str, str | None, str], ...] = (
    ("manual_override", None, "A user set the class by hand (PATCH /customers/{id}); kept across imports."),
    ("job_of_parent", None, "A job / sub-customer (QuickBooks ParentRef, Job = true) takes its parent's class."),
    ("known_business", BUSINESS, "The name contains a curated retailer/supplier name (KNOWN_BUSINESSES)."),
    ("known_builder", BUILDER, "The name contains a curated homebuilder name (KNOWN_BUILDERS)."),
    ("customer_type", None, "The books' own customer type / industry field names a class (CUSTOMER_TYPE_WORDS)."),
    ("supplier_keyword", BUSINESS, "Supplier words (SUPPLIER_WORDS) beat builder words: suppliers do not build."),
    ("builder_keyword", BUILDER, "Construction / homebuilding words (BUILDER_WORDS), surnames excluded."),
    ("company_suffix", BUSINESS, "A company-type suffix (COMPANY_SUFFIXES)."),
    ("business_keyword", BUSINESS, "An organisation or trade word (BUSINESS_WORDS)."),
    ("multiple_locations", BUSINESS, "Two or more service locations (sub-customers at different addresses)."),
    ("household", HOMEOWNER, "A household name (The Johnsons, Smith Family Trust), address not commercial."),
    ("company_name_field", BUSINESS, "The books hold a company name that is not the person's own name."),
    ("individual_commercial_address", BUSINESS, "An individual's name at a commercial address (Suite, Floor)."),
    ("individual_name", HOMEOWNER, "An individual's name with a residential address or none."),
    ("store_number", BUSINESS, "A store / branch number in the name (Walgreens #1234)."),
    ("role_email", BUSINESS, "A role mailbox (ap@, billing@, office@...) and no individual's name."),
    ("commercial_address", BUSINESS, "A commercial address marker (COMMERCIAL_ADDRESS_MARKERS)."),
    ("residential_address", HOMEOWNER, "A residential address marker (RESIDENTIAL_ADDRESS_MARKERS)."),
    ("default", HOMEOWNER, "No evidence at all: Homeowner, BlueClerk's most common customer."),
)

# Curated names, matched as phrases anywhere in the name. Businesses are checked first, so a retailer whose name
# holds a builder word ("Builders FirstSource", "Home Depot", "Habitat for Humanity ReStore") stays a Business.
KNOWN_BUSINESSES: tuple[str, ...] = (
    "home depot",
    "lowes",
    "lowe s",
    "menards",
    "ace hardware",
    "true value",
    "builders firstsource",
    "84 lumber",
    "ferguson",
    "sherwin williams",
    "habitat for humanity restore",
    "habitat restore",
    "walmart",
    "costco",
    "target store",
    "abc supply",
    "fastenal",
    "grainger",
)
KNOWN_BUILDERS: tuple[str, ...] = (
    "lennar",
    "d r horton",
    "dr horton",  # "DR Horton"; "Dr. Horton" is an individual's name and never reaches this list
    "pulte",
    "pultegroup",
    "toll brothers",
    "kb home",
    "taylor morrison",
    "meritage",
    "david weekley",
    "ryan homes",
    "nvr",
    "shea homes",
    "tri pointe",
    "century communities",
    "lgi homes",
    "dream finders",
    "ashton woods",
    "habitat for humanity",
)

# Words that say "sells building material", which wins over builder words ("ABC Building Supply", "Builders Lumber").
SUPPLIER_WORDS: tuple[str, ...] = (
    "supply",
    "supplies",
    "supplier",
    "suppliers",
    "lumber",
    "lumberyard",
    "depot",
    "hardware",
    "wholesale",
    "wholesalers",
    "distributor",
    "distributors",
    "distribution",
    "materials",
)

# Construction and homebuilding. Single words match whole words; STEMS match word beginnings (any language).
BUILDER_WORDS: tuple[str, ...] = (
    "builder",
    "builders",
    "build",
    "builds",
    "homebuilder",
    "homebuilders",
    "homebuilding",
    "homes",
    "remodel",
    "remodeling",
    "remodelling",
    "remodelers",
    "renovation",
    "renovations",
    "design build",
    "custom homes",
    "general contractor",
    "general contractors",
    "land development",
    "property development",
    "real estate development",
    "residential development",
    "bau",
    "bauunternehmen",
    "edilizia",
    "batiment",
)
BUILDER_STEMS: tuple[str, ...] = ("constru", "costru")  # construction(s), constructors, construcciones, costruzioni
# "Contractor" alone is ambiguous: a builder ("Smith Contracting"), unless a specialty trade is named too
# ("ABC Electrical Contractors" is a Business, via BUSINESS_WORDS).
CONTRACTOR_WORDS: tuple[str, ...] = ("contractor", "contractors", "contracting")
TRADE_WORDS: tuple[str, ...] = (
    "plumbing",
    "plumbers",
    "heating",
    "cooling",
    "hvac",
    "air conditioning",
    "electric",
    "electrical",
    "electricians",
    "mechanical",
    "roofing",
    "painting",
    "flooring",
    "masonry",
    "concrete",
    "excavating",
    "excavation",
    "framing",
    "drywall",
    "insulation",
    "paving",
    "fencing",
    "glazing",
    "landscaping",
    "irrigation",
    "septic",
)

# Keyword tokens that are also common surnames: ignored when they are part of an individual's name
# ("Bob Builder" is a person; "Bob's Builders" is not).
SURNAME_KEYWORDS: tuple[str, ...] = ("builder", "church", "law")

COMPANY_SUFFIXES: tuple[str, ...] = (
    "llc",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "ltd",
    "limited",
    "co",
    "company",
    "pllc",
    "llp",
    "lllp",
    "lp",
    "plc",
    "pc",
    "pa",
    "gmbh",
    "ag",
    "sa",
    "sarl",
    "srl",
    "bv",
    "nv",
    "pty",
    "oy",
    "ab",
    "kk",
)
# Ambiguous as ordinary words: they count only as the LAST word of the name ("Smith & Co", not "Co-op Street").
SUFFIXES_ONLY_AT_END: tuple[str, ...] = ("co", "pc", "pa", "ag", "sa", "ab", "kk", "oy", "nv", "bv", "lp")

# Organisations and trades (the customer is an organisation, whatever its address).
BUSINESS_WORDS: tuple[str, ...] = (
    "church",
    "temple",
    "mosque",
    "synagogue",
    "parish",
    "ministries",
    "ministry",
    "school",
    "academy",
    "university",
    "college",
    "district",
    "hospital",
    "clinic",
    "medical",
    "dental",
    "dentistry",
    "pharmacy",
    "veterinary",
    "hotel",
    "motel",
    "resort",
    "restaurant",
    "cafe",
    "diner",
    "bakery",
    "grill",
    "pizza",
    "pizzeria",
    "salon",
    "spa",
    "studio",
    "gym",
    "fitness",
    "store",
    "shop",
    "market",
    "mart",
    "grocery",
    "foods",
    "bank",
    "credit union",
    "insurance",
    "law",
    "attorneys",
    "lawyers",
    "cpa",
    "accounting",
    "consulting",
    "services",
    "solutions",
    "systems",
    "technologies",
    "software",
    "labs",
    "industries",
    "manufacturing",
    "logistics",
    "trucking",
    "motors",
    "automotive",
    "properties",
    "property management",
    "realty",
    "real estate",
    "rentals",
    "apartments",
    "condominiums",
    "condominium association",
    "association",
    "hoa",
    "club",
    "foundation",
    "society",
    "center",
    "centre",
    "management",
    "group",
    "holdings",
    "partners",
    "associates",
    "enterprises",
    "ventures",
    "capital",
    "investments",
    "agency",
    "office",
    "offices",
    "county",
    "city of",
    "town of",
    "village of",
    "state of",
    "department",
    "library",
    "museum",
    "theater",
    "theatre",
    "daycare",
    "preschool",
    "nursing home",
    "senior living",
    "assisted living",
    *TRADE_WORDS,
    "lawn care",
    "cleaning",
    "janitorial",
    "restoration",
    "pest control",
    "farm",
    "farms",
    "ranch",
    "winery",
    "brewery",
    "cooperative",
    "co op",
    "and sons",
    "sons",
    "bros",
    "brothers",
    "trust company",
)

# Household names (checked after every business rule, and only when the address is not commercial).
HOUSEHOLD_WORDS: tuple[str, ...] = (
    "living trust",
    "revocable trust",
    "family trust",
    "estate of",
    "mr and mrs",
    "mr mrs",
    "family",
    "household",
    "residence",
    "trust",
)

# The books' customer-type / industry field (e.g. a QuickBooks customer type), matched as words.
CUSTOMER_TYPE_WORDS: dict[str, tuple[str, ...]] = {
    BUILDER: (
        "builder",
        "builders",
        "homebuilder",
        "construction",
        "general contractor",
        "general contractors",
        "contractor",
        "developer",
        "new construction",
    ),
    HOMEOWNER: ("homeowner", "residential", "individual", "consumer", "private"),
    BUSINESS: ("commercial", "business", "property management", "wholesale", "retail", "government", "nonprofit"),
}

# Address markers (regular expressions on the normalised service address: shipping address, else billing).
# A residential marker wins when both appear ("Bldg 4 Apt 12" is a flat).
COMMERCIAL_ADDRESS_MARKERS: tuple[str, ...] = (
    r"\bsuite\b\s*\w*",
    r"\bste\b\s*\w*",
    r"\b\d+(?:st|nd|rd|th) floor\b",
    r"\bfloor \d+\b",
    r"\bfl \d+\b",
    r"\bbldg\b\s*\w*",
    r"\bloading dock\b",
    r"\bdock \w+\b",
    r"\bwarehouse\b",
    r"\bindustrial\b",
    r"\b(?:business|office|industrial|corporate|commerce|technology|research) (?:park|center|centre|plaza)\b",
    r"\bshopping (?:center|centre|plaza|mall)\b",
    r"\bmall\b",
    r"\bhangar \w+\b",
    r"\bstore \d+\b",
)
RESIDENTIAL_ADDRESS_MARKERS: tuple[str, ...] = (
    r"\bapt\b\s*\w*",
    r"\bapartment\b\s*\w*",
    r"\bapts\b",
    r"\bcondo\b",
    r"\bcondominium\b",
    r"\btownhouse\b",
    r"\btownhome\b",
    r"\btrlr\b\s*\w*",
    r"\bmobile home\b",
    r"\blot \d+\w*\b",
    r"\bresidence\b",
)

# Role mailboxes: the customer is billed through an office, not a person.
ROLE_EMAIL_LOCAL_PARTS: tuple[str, ...] = (
    "ap",
    "accounts",
    "accountspayable",
    "accounts.payable",
    "accounts-payable",
    "payables",
    "billing",
    "invoices",
    "invoice",
    "office",
    "admin",
    "info",
    "sales",
    "contact",
    "finance",
    "purchasing",
    "bookkeeping",
    "orders",
    "frontdesk",
    "reception",
    "facilities",
    "maintenance",
)

# Individual-name shape: titles, generational suffixes and connectors that may surround a person's name.
TITLES: tuple[str, ...] = ("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sr", "sra", "srta")
NAME_SUFFIXES: tuple[str, ...] = ("jr", "sr", "ii", "iii", "iv", "phd", "md")
NAME_CONNECTORS: tuple[str, ...] = (
    # couples: "John & Mary Smith", "Carlos y Ana Ruiz"
    "and",
    "y",
    "et",
    "und",
    # particles: "Maria de la Cruz", "Ludwig van Beethoven", "Nguyen Thi Minh"
    "de",
    "del",
    "della",
    "la",
    "le",
    "van",
    "von",
    "der",
    "den",
    "da",
    "di",
    "du",
    "dos",
    "bin",
    "binti",
    "al",
    "thi",
)

# Common given names (normalised: accents dropped). An unstructured display name is an individual's name when it is
# 2-4 words, its first word (or the word after "Last,") is one of these, and no other rule fired. Structured
# GivenName/FamilyName fields from the books are the stronger signal; this list is the fallback.
FIRST_NAMES: frozenset[str] = frozenset(
    _words(
        """
        aaron abigail adam adrian ahmad ahmed aiden aisha alan albert alejandro alex alexander alexandra alexis ali
        alice alicia allison amanda amber amy ana andrea andrew angela angelica anil anita ann anna anne anthony
        antonio april arthur ashley astrid ava barbara ben benjamin beth betty beverly bill billy bjorn bob bobby
        bonnie brandon brenda brian brittany bruce bryan camille carl carla carlos carmen carol caroline carolyn
        catherine charles charlotte cheryl chloe chris christina christine christopher cindy claire colleen connie
        craig crystal cynthia dale daniel danielle david dawn dean debbie deborah debra denise dennis derek diana
        diane diego dmitri donald donna doris dorothy douglas dylan earl edward elaine elena elizabeth ellen emily
        emma eric erica erin ethan eugene evelyn fatima frances francesca francisco francois frank gabriel gary
        george gerald gina giulia giuseppe gloria grace greg gregory hannah hans harold harry heather helen henry
        hiroshi holly howard hui ian ines ingrid isabel isabella ivan jack jacob jacqueline jacques james jamie jane
        janet janice jason javier jean jeff jeffrey jennifer jeremy jerry jesse jessica jesus jill jim jimmy joan
        joao joe joel john johnny jon jonathan jordan jorge jose joseph joshua joyce juan jude judith judy julia julie
        jun jurgen justin karen kate katherine kathleen kathryn kathy katie keith kelly ken kenji kenneth kevin kim
        kimberly klaus kyle lan larry lars laura lauren lawrence leah leo li liam linda lisa liz lori louis luca
        lucas lucia luis lynn marco margaret maria mariana marie marilyn mario mark martha martin mary mason mateo
        matthew max megan mei melissa mia michael michelle miguel mike ming minh mohammed monica muhammad nancy
        natalie natasha nathan nicholas nicole noah olga olivia omar pablo pamela patricia patrick paul paula peggy
        peter philip pierre priya rachel rahul raj ralph randy raymond rebecca richard rick rita robert roberto
        robin roger ronald rosa rose russell ruth ryan sakura sam samantha samuel sandra sara sarah scott sean
        sergei sharon shirley sofia sophia sophie stephanie stephen steve steven sunita susan sven svetlana tammy
        teresa terry thanh theresa thomas tiffany timothy tina todd tom tony tracy tyler valentina valerie vanessa
        victor victoria vincent virginia walter wayne wei wendy william willie yan yuki zachary zoe
        """
    )
)

# Sub-customers: how many distinct service locations make "multiple locations".
MULTIPLE_LOCATIONS_AT_LEAST = 2
