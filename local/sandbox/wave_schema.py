"""The Wave sandbox's GraphQL schema: Wave's own input types and enums, unchanged, plus hand-built output types.

Two parts, kept apart on purpose:

1. **From Wave** - the 48 input types and 11 enums of ``shared/specs/wave_schema_partial.json`` (a partial
   introspection of ``gql.waveapps.com/graphql/public``). ``wave_schema_inputs.py`` holds that file's data verbatim
   (generated, never edited: ``python -m local.sandbox.wave_schema <specs>/wave_schema_partial.json >
   local/sandbox/wave_schema_inputs.py``); :func:`inputs_sdl` renders it to SDL mechanically. The conformance test
   compares the generated module with the shared file and the built schema's introspection with every type in it.
2. **Sandbox-built** (:data:`SANDBOX_SDL`) - what the dump lacks: the scalars, the types the dump references but does
   not contain, the object types, ``Query`` and ``Mutation``. Field names follow clients whose CI validates their
   documents against the live schema (docs/providers/wave.md lists the sources); they are UNCONFIRMED.
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema, build_schema

# ISO 3166-1 alpha-2: Wave's CountryCode enum is not in the dump (sandbox definition).
COUNTRY_CODES = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
    "CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO "
    "FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE "
    "JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO "
    "MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW "
    "PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM "
    "TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
)

SANDBOX_SDL = (
    '''
"""ISO 8601 date, YYYY-MM-DD."""
scalar Date
"""ISO 8601 date-time with offset."""
scalar DateTime
"""A decimal number sent as a string, e.g. "12.50"."""
scalar Decimal

# ---- referenced by the dump, absent from it (sandbox definitions) ---------------------------------------------
"""Country code (ISO 3166-1 alpha-2)."""
enum CountryCode { '''
    + COUNTRY_CODES
    + ''' }
"""Invoice payment method (values from schema-validated clients; absent from the dump)."""
enum InvoicePaymentMethod { BANK_TRANSFER CASH CHEQUE CREDIT_CARD OTHER PAYPAL UNSPECIFIED }
enum InvoiceDiscountType { FIXED PERCENTAGE }
enum EstimateDiscountType { FIXED PERCENTAGE }
"""Placeholder values: the real list is not known."""
enum InvoiceSendMethod { EMAIL MARKED_SENT SHARED_LINK }
"""Placeholder values: the real list is not known."""
enum EstimateSendMethod { EMAIL MARKED_SENT SHARED_LINK }
input InvoiceCreateItemTaxInput { salesTaxId: ID! amount: Decimal }
input EstimateCreateItemTaxInput { salesTaxId: ID! amount: Decimal }
input MoneyTransactionCreateSalesTaxInput { salesTaxId: ID! amount: Decimal }
input SalesTaxRateInput { effective: Date! rate: Decimal! }
input CustomerPatchShippingDetailsInput { name: String address: AddressInput phone: String instructions: String }

# ---- output types ------------------------------------------------------------------------------------------------
"""Account subtype (the create-input values; the dump has no output enum)."""
enum AccountSubtypeValue {
  CASH_AND_BANK COST_OF_GOODS_SOLD CREDIT_CARD CUSTOMER_PREPAYMENTS_AND_CREDITS DEPRECIATION_AND_AMORTIZATION
  DISCOUNTS DUE_FOR_PAYROLL DUE_TO_YOU_AND_OTHER_OWNERS EXPENSE INCOME INVENTORY LOANS MONEY_IN_TRANSIT
  NON_RETAINED_EARNINGS OTHER_CURRENT_ASSETS OTHER_CURRENT_LIABILITY OTHER_INCOME OTHER_LONG_TERM_ASSETS
  OTHER_LONG_TERM_LIABILITY PAYABLE PAYMENT_PROCESSING_FEES PAYROLL_EXPENSES PROPERTY_PLANT_EQUIPMENT RECEIVABLE
  RETAINED_EARNINGS VENDOR_PREPAYMENTS_AND_CREDITS
}
enum CustomerSort { CREATED_AT_ASC CREATED_AT_DESC MODIFIED_AT_ASC MODIFIED_AT_DESC NAME_ASC NAME_DESC }
enum ProductSort { CREATED_AT_ASC CREATED_AT_DESC MODIFIED_AT_ASC MODIFIED_AT_DESC NAME_ASC NAME_DESC }
enum InvoiceSort {
  AMOUNT_DUE_ASC AMOUNT_DUE_DESC CREATED_AT_ASC CREATED_AT_DESC INVOICE_DATE_ASC INVOICE_DATE_DESC
  INVOICE_NUMBER_ASC INVOICE_NUMBER_DESC MODIFIED_AT_ASC MODIFIED_AT_DESC
}

type Query {
  user: User
  businesses(page: Int = 1, pageSize: Int = 10, isArchived: Boolean): BusinessConnection
  business(id: ID): Business
}

type User { id: ID! firstName: String lastName: String defaultEmail: String createdAt: DateTime modifiedAt: DateTime }
type OffsetPageInfo { currentPage: Int! totalPages: Int totalCount: Int }
type Currency { code: CurrencyCode! symbol: String! name: String! }
type Money { raw: Int! minorUnitValue: Int! value: String! currency: Currency! }
type Country { code: CountryCode! name: String! }
type Province { code: String! name: String! }
type Address {
  addressLine1: String addressLine2: String city: String postalCode: String province: Province country: Country
}

type BusinessConnection { pageInfo: OffsetPageInfo! edges: [BusinessEdge!]! }
type BusinessEdge { node: Business! }
type Business {
  id: ID!
  name: String!
  isPersonal: Boolean!
  isArchived: Boolean!
  currency: Currency!
  createdAt: DateTime!
  modifiedAt: DateTime!
  customers(
    page: Int = 1, pageSize: Int = 10, sort: [CustomerSort!]! = [NAME_ASC], email: String,
    modifiedAtAfter: DateTime, modifiedAtBefore: DateTime
  ): CustomerConnection
  customer(id: ID!): Customer
  products(
    page: Int = 1, pageSize: Int = 10, sort: [ProductSort!]! = [NAME_ASC], isSold: Boolean, isBought: Boolean,
    isArchived: Boolean, modifiedAtAfter: DateTime, modifiedAtBefore: DateTime
  ): ProductConnection
  product(id: ID!): Product
  invoices(
    page: Int = 1, pageSize: Int = 10, sort: [InvoiceSort!]! = [CREATED_AT_DESC], status: InvoiceStatus,
    customerId: ID, currency: CurrencyCode, invoiceDateStart: Date, invoiceDateEnd: Date,
    modifiedAtAfter: DateTime, modifiedAtBefore: DateTime, invoiceNumber: String, amountDue: Decimal
  ): InvoiceConnection
  invoice(id: ID!): Invoice
  invoicePayment(id: ID!): InvoicePayment
  accounts(
    page: Int = 1, pageSize: Int = 10, types: [AccountTypeValue!], subtypes: [AccountSubtypeValue!],
    excludedSubtypes: [AccountSubtypeValue!], isArchived: Boolean
  ): AccountConnection
  account(id: ID!): Account
}

type Customer {
  id: ID!
  business: Business!
  name: String!
  firstName: String
  lastName: String
  displayId: String
  email: String
  mobile: String
  phone: String
  internalNotes: String
  address: Address
  currency: Currency
  isArchived: Boolean
  createdAt: DateTime!
  modifiedAt: DateTime!
  outstandingAmount: Money!
}
type CustomerConnection { pageInfo: OffsetPageInfo! edges: [CustomerEdge!]! }
type CustomerEdge { node: Customer! }

type AccountType { name: String! value: AccountTypeValue! normalBalanceType: BalanceType! }
type AccountSubtype { name: String! value: AccountSubtypeValue! type: AccountType! }
type Account {
  id: ID!
  business: Business!
  name: String!
  description: String
  displayId: String
  currency: Currency!
  type: AccountType!
  subtype: AccountSubtype!
  normalBalanceType: BalanceType!
  isArchived: Boolean!
  sequence: Int!
}
type AccountConnection { pageInfo: OffsetPageInfo! edges: [AccountEdge!]! }
type AccountEdge { node: Account! }

type Product {
  id: ID!
  business: Business!
  name: String!
  description: String
  unitPrice: Decimal!
  incomeAccount: Account
  expenseAccount: Account
  isSold: Boolean!
  isBought: Boolean!
  isArchived: Boolean!
  createdAt: DateTime!
  modifiedAt: DateTime!
}
type ProductConnection { pageInfo: OffsetPageInfo! edges: [ProductEdge!]! }
type ProductEdge { node: Product! }

type InvoiceItem {
  product: Product!
  description: String
  quantity: Decimal!
  unitPrice: Decimal!
  subtotal: Money!
  total: Money!
  account: Account!
}
type InvoicePayment {
  id: ID!
  amount: Decimal!
  paymentDate: Date!
  paymentMethod: InvoicePaymentMethod!
  memo: String
  exchangeRate: Decimal!
  account: Account!
  createdAt: DateTime!
  modifiedAt: DateTime!
}
type Invoice {
  id: ID!
  business: Business!
  createdAt: DateTime!
  modifiedAt: DateTime!
  status: InvoiceStatus!
  title: String
  subhead: String
  invoiceNumber: String!
  poNumber: String
  invoiceDate: Date!
  dueDate: Date!
  memo: String
  footer: String
  currency: Currency!
  exchangeRate: Decimal!
  customer: Customer!
  items: [InvoiceItem!]!
  subtotal: Money!
  taxTotal: Money!
  total: Money!
  amountDue: Money!
  amountPaid: Money!
  payments: [InvoicePayment!]!
}
type InvoiceConnection { pageInfo: OffsetPageInfo! edges: [InvoiceEdge!]! }
type InvoiceEdge { node: Invoice! }

type InputError { code: String message: String! path: [String!] }
type CustomerCreateOutput { didSucceed: Boolean! inputErrors: [InputError!] customer: Customer }
type CustomerPatchOutput { didSucceed: Boolean! inputErrors: [InputError!] customer: Customer }
type ProductCreateOutput { didSucceed: Boolean! inputErrors: [InputError!] product: Product }
type ProductPatchOutput { didSucceed: Boolean! inputErrors: [InputError!] product: Product }
type InvoiceCreateOutput { didSucceed: Boolean! inputErrors: [InputError!] invoice: Invoice }
type InvoicePatchOutput { didSucceed: Boolean! inputErrors: [InputError!] invoice: Invoice }
type InvoiceApproveOutput { didSucceed: Boolean! inputErrors: [InputError!] invoice: Invoice }
type InvoiceDeleteOutput { didSucceed: Boolean! inputErrors: [InputError!] }
type InvoicePaymentCreateManualOutput {
  didSucceed: Boolean! inputErrors: [InputError!] invoicePayment: InvoicePayment
}

type Mutation {
  customerCreate(input: CustomerCreateInput!): CustomerCreateOutput
  customerPatch(input: CustomerPatchInput!): CustomerPatchOutput
  productCreate(input: ProductCreateInput!): ProductCreateOutput
  productPatch(input: ProductPatchInput!): ProductPatchOutput
  invoiceCreate(input: InvoiceCreateInput!): InvoiceCreateOutput
  invoicePatch(input: InvoicePatchInput!): InvoicePatchOutput
  invoiceApprove(input: InvoiceApproveInput!): InvoiceApproveOutput
  invoiceDelete(input: InvoiceDeleteInput!): InvoiceDeleteOutput
  invoicePaymentCreateManual(input: InvoicePaymentCreateManualInput!): InvoicePaymentCreateManualOutput
}
'''
)


# ---------------------------------------------------------------------------------------------------------------
# Rendering the dump (mechanical; no type or description is changed)
# ---------------------------------------------------------------------------------------------------------------
def _type_ref(t: dict[str, Any]) -> str:
    if t["kind"] == "NON_NULL":
        return _type_ref(t["ofType"]) + "!"
    if t["kind"] == "LIST":
        return "[" + _type_ref(t["ofType"]) + "]"
    return str(t["name"])


def _description(text: str | None, indent: str) -> list[str]:
    if not text:
        return []
    if '"""' in text:
        raise ValueError("a description contains a block-string delimiter")
    return [f'{indent}"""{text}"""']


def inputs_sdl(dump: dict[str, Any]) -> str:
    """SDL of every enum and input type in the dump, in the dump's own order, fields and values untouched."""
    lines: list[str] = []
    for name, enum in dump["enums"].items():
        lines += _description(enum.get("description"), "")
        lines.append(f"enum {name} {{")
        for value in enum["enumValues"]:
            lines += _description(value.get("description"), "  ")
            lines.append(f"  {value['name']}")
        lines += ["}", ""]
    for name, spec in dump["input_types"].items():
        lines += _description(spec.get("description"), "")
        lines.append(f"input {name} {{")
        for f in spec["inputFields"]:
            lines += _description(f.get("description"), "  ")
            default = f" = {f['defaultValue']}" if f.get("defaultValue") is not None else ""
            lines.append(f"  {f['name']}: {_type_ref(f['type'])}{default}")
        lines += ["}", ""]
    return "\n".join(lines)


@lru_cache(maxsize=1)
def schema() -> GraphQLSchema:
    from local.sandbox.wave_schema_inputs import DUMP

    return build_schema(inputs_sdl(DUMP) + SANDBOX_SDL)


def sdl() -> str:
    from local.sandbox.wave_schema_inputs import DUMP

    return inputs_sdl(DUMP) + SANDBOX_SDL


def generate_inputs_module(json_path: Path) -> str:
    """The text of ``wave_schema_inputs.py``: the shared dump's data, verbatim, as JSON inside a Python module."""
    dump = json.loads(json_path.read_text(encoding="utf-8"))
    text = json.dumps(dump, indent=1, ensure_ascii=False)
    if '"""' in text or "\\" in text:
        raise ValueError("the dump cannot be embedded in a raw block string")
    return (
        '"""DERIVED from shared/specs/wave_schema_partial.json (Wave\'s partial introspection) by\n'
        "local/sandbox/wave_schema.py. Do not edit by hand: regenerate with\n"
        "    python -m local.sandbox.wave_schema <specs>/wave_schema_partial.json \\\n"
        "        > local/sandbox/wave_schema_inputs.py\n"
        'The conformance test fails when this file and the shared dump disagree.\n"""\n'
        "\n"
        "# ruff: noqa: E501\n"
        "from __future__ import annotations\n"
        "\n"
        "import json\n"
        "from typing import Any\n"
        "\n"
        f'DUMP: dict[str, Any] = json.loads(\n    r"""{text}"""\n)\n'
    )


if __name__ == "__main__":
    sys.stdout.write(generate_inputs_module(Path(sys.argv[1])))
