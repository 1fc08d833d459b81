"""One Xero organisation's books for the Xero sandbox: accounts, contacts, items, invoices, payments and their rules.

Sources: ``shared/providers/xero.md`` (cited as X.md §n) and the official OpenAPI file ``xero_accounting.yaml``
(spec). Messages quoted by either are used verbatim; the others are marked "sandbox" in ``local/sandbox/xero.py``'s
docstring. Everything here runs under the sandbox lock; ``Invalid`` carries an element's ValidationErrors.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from local.sandbox.xero_query import day_string, ms_date, ms_day, parse_day

CENT = Decimal("0.01")
BASE_CURRENCY = "USD"
CONTACT_NAME_MAX = 255
CONTACT_NUMBER_MAX = 50
ITEM_CODE_MAX = 30
ITEM_NAME_MAX = 50
DESCRIPTION_MAX = 4000
INVOICE_NUMBER_MAX = 255
ACCOUNT_CODE_MAX = 10
TAX_TYPES = ("NONE", "OUTPUT", "OUTPUT2", "EXEMPTOUTPUT", "TAX001", "TAX002")  # every rate is 0 % here (sandbox)
ADDRESS_TYPES = ("POBOX", "STREET")
PHONE_TYPES = ("DEFAULT", "DDI", "MOBILE", "FAX", "OFFICE")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

ACCOUNT_CLASS = {
    "BANK": "ASSET",
    "CURRENT": "ASSET",
    "FIXED": "ASSET",
    "INVENTORY": "ASSET",
    "NONCURRENT": "ASSET",
    "PREPAYMENT": "ASSET",
    "CURRLIAB": "LIABILITY",
    "LIABILITY": "LIABILITY",
    "TERMLIAB": "LIABILITY",
    "PAYG": "LIABILITY",
    "EQUITY": "EQUITY",
    "DEPRECIATN": "EXPENSE",
    "DIRECTCOSTS": "EXPENSE",
    "EXPENSE": "EXPENSE",
    "OVERHEADS": "EXPENSE",
    "OTHERINCOME": "REVENUE",
    "REVENUE": "REVENUE",
    "SALES": "REVENUE",
}
# A subset of Xero's default (US) chart of accounts: code, name, type, system account, status.
SEED_ACCOUNTS: tuple[tuple[str, str, str, str, str], ...] = (
    ("090", "Business Bank Account", "BANK", "", "ACTIVE"),
    ("091", "Business Savings Account", "BANK", "", "ACTIVE"),
    ("200", "Sales", "REVENUE", "", "ACTIVE"),
    ("205", "Old Sales (archived)", "REVENUE", "", "ARCHIVED"),
    ("260", "Other Revenue", "REVENUE", "", "ACTIVE"),
    ("270", "Interest Income", "OTHERINCOME", "", "ACTIVE"),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "", "ACTIVE"),
    ("400", "Advertising", "EXPENSE", "", "ACTIVE"),
    ("429", "General Expenses", "EXPENSE", "", "ACTIVE"),
    ("610", "Accounts Receivable", "CURRENT", "DEBTORS", "ACTIVE"),
    ("800", "Accounts Payable", "CURRLIAB", "CREDITORS", "ACTIVE"),
    ("960", "Retained Earnings", "EQUITY", "RETAINEDEARNINGS", "ACTIVE"),
)

# Invoice status rules (X.md §3 "Update"; sandbox where X.md is silent): which status may follow which, and what a
# document with money allocated to it still lets you change.
STATUS_CHANGES = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
    "PAID": {"PAID"},
    "VOIDED": {"VOIDED"},
    "DELETED": {"DELETED"},
}
EDITABLE_WHEN_PAID = {"DueDate", "SentToContact", "ExpectedPaymentDate", "PlannedPaymentDate"}
MSG_NOT_MODIFIABLE = "Invoice not of valid status for modification"
MSG_ALLOCATED = "This document cannot be edited as it has a payment or credit note allocated to it."
MSG_DUPLICATE_NUMBER = "Invoice # must be unique."
MSG_NO_CONTACT = (
    "The Contact must contain at least 1 of the following elements to identify the contact: Name, ContactID, "
    "ContactNumber"
)
# Contact fields that, sent inside an invoice's Contact next to its ContactID, update the contact (X.md section 3).
CONTACT_WRITABLE = ("Name", "FirstName", "LastName", "EmailAddress", "ContactNumber", "AccountNumber", "TaxNumber",
                    "Addresses", "Phones", "DefaultCurrency")  # fmt: skip
MSG_OVERPAID = "Payment amount exceeds the amount outstanding on this document"
MSG_NOT_FOUND = "The document with the supplied id was not found for this endpoint."


class Invalid(Exception):
    """Validation errors of one element (HTTP 400 ValidationException, or per element with summarizeErrors=false)."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class NotFoundError(Exception):
    """An id in the URL names nothing (HTTP 404)."""


def new_id() -> str:
    return str(uuid.uuid4())


def dec(value: Any, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise Invalid(f"{name} must be a number")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise Invalid(f"{name} must be a number") from None
    if not result.is_finite():
        raise Invalid(f"{name} must be a number")
    return result


def q(value: Decimal, places: int = 2) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _text(el: dict[str, Any], key: str, maximum: int | None = None, label: str | None = None) -> str | None:
    value = el.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise Invalid(f"{label or key} must be text")
    if maximum is not None and len(value) > maximum:
        raise Invalid(f"{label or key} must be {maximum} characters or fewer (supplied {len(value)})")
    return value


@dataclass
class Org:
    tenant_id: str
    name: str
    created_at: float
    short_code: str = "!sandbox"
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_invoice_number: int = 1
    idempotency: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {
            "Accounts": len(self.accounts),
            "Contacts": len(self.contacts),
            "Items": len(self.items),
            "Invoices": len(self.invoices),
            "Payments": len(self.payments),
        }


class Books:
    """The rules. ``clock`` gives the sandbox time (epoch seconds)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock

    # ---- organisation -------------------------------------------------------------------------------------------
    def new_org(self, tenant_id: str, name: str) -> Org:
        now = self.clock()
        org = Org(tenant_id=tenant_id, name=name, created_at=now)
        for code, account_name, account_type, system, status in SEED_ACCOUNTS:
            account_id = new_id()
            org.accounts[account_id] = self._account_record(
                account_id, code, account_name, account_type, status, system, now
            )
        return org

    def _account_record(
        self, account_id: str, code: str, name: str, account_type: str, status: str, system: str, now: float
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "AccountID": account_id,
            "Code": code,
            "Name": name,
            "Status": status,
            "Type": account_type,
            "TaxType": "NONE",
            "Class": ACCOUNT_CLASS[account_type],
            "EnablePaymentsToAccount": False,
            "ShowInExpenseClaims": False,
            "BankAccountType": "BANK" if account_type == "BANK" else "",
            "ReportingCode": ACCOUNT_CLASS[account_type][:3],
            "ReportingCodeName": ACCOUNT_CLASS[account_type].title(),
            "HasAttachments": False,
            "AddToWatchlist": False,
            "_updated": now,
        }
        if system:
            record["SystemAccount"] = system
        if account_type == "BANK":
            record["BankAccountNumber"] = "0209087654321050"
            record["CurrencyCode"] = BASE_CURRENCY
        return record

    # ---- accounts -------------------------------------------------------------------------------------------------
    def account_by_code(self, org: Org, code: str) -> dict[str, Any] | None:
        folded = code.strip().casefold()
        return next((a for a in org.accounts.values() if str(a.get("Code", "")).casefold() == folded), None)

    def create_account(self, org: Org, el: dict[str, Any]) -> dict[str, Any]:
        code = _text(el, "Code", ACCOUNT_CODE_MAX) or ""
        name = _text(el, "Name", 150) or ""
        account_type = el.get("Type")
        errors = []
        if account_type not in ACCOUNT_CLASS:
            errors.append("A valid account Type must be supplied")
        if not name.strip():
            errors.append("Please enter a Name.")
        elif any(a["Name"].casefold() == name.strip().casefold() for a in org.accounts.values()):
            errors.append("Please enter a unique Name.")
        if account_type != "BANK" and not code.strip():
            errors.append("Please enter a Code.")
        elif code.strip() and self.account_by_code(org, code) is not None:
            errors.append("Please enter a unique Code.")
        if account_type == "BANK" and not el.get("BankAccountNumber"):
            errors.append("Bank account number is required for bank accounts")
        if errors:
            raise Invalid(*errors)
        now = self.clock()
        record = self._account_record(new_id(), code.strip(), name.strip(), str(account_type), "ACTIVE", "", now)
        if account_type == "BANK":
            record["BankAccountNumber"] = str(el["BankAccountNumber"])
            record["BankAccountType"] = el.get("BankAccountType") or "BANK"
        if isinstance(el.get("Description"), str):
            record["Description"] = el["Description"]
        if isinstance(el.get("EnablePaymentsToAccount"), bool):
            record["EnablePaymentsToAccount"] = el["EnablePaymentsToAccount"]
        org.accounts[record["AccountID"]] = record
        return record

    def render_account(self, a: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in a.items() if not k.startswith("_")}
        out["UpdatedDateUTC"] = ms_date(a["_updated"])
        return out

    def _line_account(self, org: Org, code: str) -> dict[str, Any]:
        account = self.account_by_code(org, code)
        if account is None:
            raise Invalid(f"Account code '{code}' has been removed as it does not match a recognised account.")
        if account["Status"] != "ACTIVE" or account["Type"] == "BANK" or account.get("SystemAccount"):
            raise Invalid(f"Account code '{code}' is not a valid code for this document.")
        return account

    # ---- contacts -------------------------------------------------------------------------------------------------
    def _name_taken(self, org: Org, name: str, own_id: str | None) -> bool:
        folded = name.strip().casefold()
        return any(
            c["Name"].strip().casefold() == folded and c["ContactStatus"] == "ACTIVE" and c["ContactID"] != own_id
            for c in org.contacts.values()
        )

    def write_contact(self, org: Org, el: dict[str, Any], mode: str, path_id: str | None = None) -> dict[str, Any]:
        """mode: ``create`` (PUT), ``upsert`` (POST /Contacts), ``update`` (POST /Contacts/{id})."""
        if not isinstance(el, dict):
            raise Invalid("Each contact must be an object")
        target_id = path_id or el.get("ContactID")
        current: dict[str, Any] | None = None
        if target_id:
            if mode == "create":
                raise Invalid("A ContactID cannot be supplied when creating a contact")
            current = org.contacts.get(str(target_id).lower())
            if current is None:
                raise Invalid(MSG_NOT_FOUND)
        errors: list[str] = []
        try:
            name = _text(el, "Name", CONTACT_NAME_MAX)
            _text(el, "ContactNumber", CONTACT_NUMBER_MAX)
            email = _text(el, "EmailAddress", 255)
            for key in ("FirstName", "LastName"):
                _text(el, key, 255)
        except Invalid as exc:
            raise Invalid(*exc.messages) from None
        status = el.get("ContactStatus")
        if status is not None and status not in ("ACTIVE", "ARCHIVED"):
            errors.append("ContactStatus must be ACTIVE or ARCHIVED")
        effective_name = name if name is not None else (current or {}).get("Name")
        if not effective_name or not str(effective_name).strip():
            errors.append("A contact name must be specified.")
        elif (
            (name is not None or status == "ACTIVE")
            and (status or (current or {}).get("ContactStatus")) != "ARCHIVED"
            and self._name_taken(org, str(effective_name), current["ContactID"] if current else None)
        ):
            errors.append(
                f"The contact name {str(effective_name).strip()} is already assigned to another contact. The "
                "contact name must be unique across all active contacts."
            )
        if email and not EMAIL_RE.match(email):
            errors.append("Email address must be valid.")
        for key, allowed in (("Addresses", ADDRESS_TYPES), ("Phones", PHONE_TYPES)):
            entries = el.get(key)
            kind = "AddressType" if key == "Addresses" else "PhoneType"
            if entries is not None and (
                not isinstance(entries, list)
                or any(not isinstance(e, dict) or e.get(kind) not in allowed for e in entries)
            ):
                errors.append(f"{kind} must be one of {', '.join(allowed)}")
        if el.get("DefaultCurrency") not in (None, BASE_CURRENCY):
            errors.append(f"Organisation is not subscribed to currency {el.get('DefaultCurrency')}")
        if errors:
            raise Invalid(*errors)
        now = self.clock()
        record = (
            current
            if current is not None
            else {
                "ContactID": new_id(),
                "ContactStatus": "ACTIVE",
                "Name": "",
                "IsSupplier": False,
                "IsCustomer": False,
                "Addresses": [_blank_address("STREET"), _blank_address("POBOX")],
                "Phones": [_blank_phone(t) for t in ("DEFAULT", "DDI", "FAX", "MOBILE")],
                "_created": now,
            }
        )
        for key in ("Name", "FirstName", "LastName", "EmailAddress", "ContactNumber", "AccountNumber", "TaxNumber"):
            if isinstance(el.get(key), str):
                record[key] = el[key].strip() if key == "Name" else el[key]
        if status:
            record["ContactStatus"] = status
        if isinstance(el.get("Addresses"), list):
            record["Addresses"] = _merge_typed(record["Addresses"], el["Addresses"], "AddressType", _blank_address)
        if isinstance(el.get("Phones"), list):
            record["Phones"] = _merge_typed(record["Phones"], el["Phones"], "PhoneType", _blank_phone)
        record["_updated"] = now
        org.contacts[record["ContactID"]] = record
        return record

    def render_contact(self, c: dict[str, Any], summary: bool = False) -> dict[str, Any]:
        out = {k: v for k, v in c.items() if not k.startswith("_")}
        out["UpdatedDateUTC"] = ms_date(c["_updated"])
        out.setdefault("BankAccountDetails", "")
        if summary:
            out.pop("Addresses", None)
            out.pop("Phones", None)
        else:
            out["ContactGroups"] = []
            out["ContactPersons"] = []
            out["HasAttachments"] = False
        out["HasValidationErrors"] = False
        return out

    # ---- items ----------------------------------------------------------------------------------------------------
    def item_by_code(self, org: Org, code: str) -> dict[str, Any] | None:
        folded = code.strip().casefold()
        return next((i for i in org.items.values() if i["Code"].casefold() == folded), None)

    def write_item(
        self, org: Org, el: dict[str, Any], mode: str, path_id: str | None = None, unitdp: int = 2
    ) -> dict[str, Any]:
        """mode: ``create`` (PUT), ``upsert`` (POST /Items: by ItemID, else by Code), ``update`` (POST /Items/{id})."""
        if not isinstance(el, dict):
            raise Invalid("Each item must be an object")
        code = _text(el, "Code", ITEM_CODE_MAX)
        if not code or not code.strip():
            raise Invalid("Item Code must be specified.")
        code = code.strip()
        current: dict[str, Any] | None = None
        target = path_id or el.get("ItemID")
        if target:
            if mode == "create":
                raise Invalid("An ItemID cannot be supplied when creating an item")
            current = org.items.get(str(target).lower())
            if current is None:
                raise Invalid(MSG_NOT_FOUND)
        elif mode == "upsert":
            current = self.item_by_code(org, code)  # POST matches an existing item by Code (X.md §3; UNCONFIRMED)
        errors: list[str] = []
        other = self.item_by_code(org, code)
        if other is not None and other is not current:
            errors.append(f"Price List Item with Code ''{code}'' already exists")  # verbatim spec example
        for key, maximum in (("Name", ITEM_NAME_MAX), ("Description", DESCRIPTION_MAX)):
            try:
                _text(el, key, maximum)
            except Invalid as exc:
                errors += exc.messages
        sales = el.get("SalesDetails")
        if sales is not None and not isinstance(sales, dict):
            errors.append("SalesDetails must be an object")
            sales = None
        if sales:
            if sales.get("AccountCode") not in (None, ""):
                try:
                    self._line_account(org, str(sales["AccountCode"]))
                except Invalid as exc:
                    errors += exc.messages
            if sales.get("TaxType") not in (None, "") and sales.get("TaxType") not in TAX_TYPES:
                errors.append(f"TaxType code '{sales.get('TaxType')}' does not exist or cannot be used.")
            if sales.get("UnitPrice") is not None:
                try:
                    dec(sales["UnitPrice"], "UnitPrice")
                except Invalid as exc:
                    errors += exc.messages
        if errors:
            raise Invalid(*errors)
        now = self.clock()
        record = (
            current
            if current is not None
            else {
                "ItemID": new_id(),
                "Code": code,
                "Name": "",
                "IsSold": True,
                "IsPurchased": True,
                "IsTrackedAsInventory": False,
                "SalesDetails": {},
                "PurchaseDetails": {},
            }
        )
        record["Code"] = code
        for key in ("Name", "Description", "PurchaseDescription"):
            if isinstance(el.get(key), str):
                record[key] = el[key]
        for key in ("IsSold", "IsPurchased"):
            if isinstance(el.get(key), bool):
                record[key] = el[key]
        if sales:
            merged = dict(record.get("SalesDetails") or {})
            for key in ("AccountCode", "TaxType"):
                if sales.get(key) not in (None, ""):
                    merged[key] = str(sales[key])
            if sales.get("UnitPrice") is not None:
                merged["UnitPrice"] = q(dec(sales["UnitPrice"], "UnitPrice"), 4 if unitdp == 4 else 2)
            record["SalesDetails"] = merged
        if record.get("IsSold") is False:
            record["SalesDetails"] = {}
            record.pop("Description", None)
        record["_updated"] = now
        org.items[record["ItemID"]] = record
        return record

    def render_item(self, i: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in i.items() if not k.startswith("_")}
        out["SalesDetails"] = dict(i.get("SalesDetails") or {})
        out["PurchaseDetails"] = dict(i.get("PurchaseDetails") or {})
        out["UpdatedDateUTC"] = ms_date(i["_updated"], offset=False)
        return out

    # ---- invoices -------------------------------------------------------------------------------------------------
    def invoice_number_taken(self, org: Org, number: str, own_id: str | None) -> bool:
        folded = number.strip().casefold()
        return any(
            i["Type"] == "ACCREC" and i.get("InvoiceNumber", "").casefold() == folded and i["InvoiceID"] != own_id
            for i in org.invoices.values()
        )

    def _next_number(self, org: Org) -> str:
        while True:
            candidate = f"INV-{org.next_invoice_number:04d}"
            org.next_invoice_number += 1
            if not self.invoice_number_taken(org, candidate, None):
                return candidate

    def find_invoice(self, org: Org, ref: str) -> dict[str, Any] | None:
        """By InvoiceID, or by InvoiceNumber (Xero accepts either in ``/Invoices/{InvoiceID}``)."""
        found = org.invoices.get(ref.lower())
        if found is None:
            folded = ref.casefold()
            found = next((i for i in org.invoices.values() if i.get("InvoiceNumber", "").casefold() == folded), None)
        return found

    def _contact_for(self, org: Org, spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict) or not any(spec.get(k) for k in ("ContactID", "Name", "ContactNumber")):
            raise Invalid(MSG_NO_CONTACT)
        if spec.get("ContactID"):
            contact = org.contacts.get(str(spec["ContactID"]).lower())
            if contact is None:
                raise Invalid(f"Contact with ContactID '{spec['ContactID']}' could not be found.")
        elif spec.get("ContactNumber"):
            contact = next((c for c in org.contacts.values() if c.get("ContactNumber") == spec["ContactNumber"]), None)
            if contact is None:
                raise Invalid(f"Contact with ContactNumber '{spec['ContactNumber']}' could not be found.")
        else:
            folded = str(spec["Name"]).strip().casefold()
            contact = next(
                (c for c in org.contacts.values() if c["Name"].casefold() == folded and c["ContactStatus"] == "ACTIVE"),
                None,
            )
            if contact is None:  # Xero creates a contact from a name it does not know (X.md §3 "Send only ContactID")
                contact = self.write_contact(org, {"Name": spec["Name"]}, "create")
        if contact["ContactStatus"] != "ACTIVE":
            raise Invalid(f"The contact {contact['Name']} is archived and cannot be used on a transaction.")
        if spec.get("ContactID") or spec.get("ContactNumber"):
            # X.md section 3: "Send only ContactID inside Contact - other fields update the contact" [secondary]. The
            # sandbox applies them as a contact update (with the contact rules: a duplicate name is refused), so an
            # adapter that sends more than the id renames or edits the customer visibly. Applied before the document's
            # own checks (ordering UNCONFIRMED).
            changes = {k: spec[k] for k in CONTACT_WRITABLE if spec.get(k) is not None}
            if changes:
                self.write_contact(org, changes, "update", contact["ContactID"])
        return contact

    def _lines(self, org: Org, given: Any, current: list[dict[str, Any]], unitdp: int) -> list[dict[str, Any]]:
        if not isinstance(given, list):
            raise Invalid("LineItems must be a list")
        by_id = {line["LineItemID"]: line for line in current}
        lines: list[dict[str, Any]] = []
        errors: list[str] = []
        for raw in given:
            if not isinstance(raw, dict):
                errors.append("Each line item must be an object")
                continue
            base = dict(by_id.get(str(raw.get("LineItemID", "")).lower(), {}))
            line = {"LineItemID": base.get("LineItemID") or new_id(), "Tracking": [], **base}
            try:
                for key in ("Description", "ItemCode", "AccountCode", "TaxType"):
                    if raw.get(key) is not None:
                        line[key] = _text(raw, key, DESCRIPTION_MAX if key == "Description" else None)
                item = None
                if line.get("ItemCode"):
                    item = self.item_by_code(org, line["ItemCode"])
                    if item is None:
                        raise Invalid(f"Item code '{line['ItemCode']}' is not valid.")
                    line["Item"] = {"ItemID": item["ItemID"], "Code": item["Code"], "Name": item.get("Name", "")}
                if line.get("AccountCode"):
                    self._line_account(org, line["AccountCode"])
                if line.get("TaxType") and line["TaxType"] not in TAX_TYPES:
                    raise Invalid(f"TaxType code '{line['TaxType']}' does not exist or cannot be used.")
                if not line.get("Description") and item is not None:
                    line["Description"] = item.get("Description") or item.get("Name") or ""
                if not line.get("Description"):
                    raise Invalid("Description needs to be at least 1 char long")
                if raw.get("Quantity") is not None:
                    line["Quantity"] = q(dec(raw["Quantity"], "Quantity"), 4)
                if raw.get("UnitAmount") is not None:
                    line["UnitAmount"] = q(dec(raw["UnitAmount"], "UnitAmount"), 4 if unitdp == 4 else 2)
                line.setdefault("Quantity", Decimal("1.0000"))
                line.setdefault("UnitAmount", Decimal("0.00"))
                computed = q(line["Quantity"] * line["UnitAmount"])
                if raw.get("LineAmount") is not None and abs(dec(raw["LineAmount"], "LineAmount") - computed) > CENT:
                    raise Invalid(
                        f"The line total {dec(raw['LineAmount'], 'LineAmount')} does not match the expected line "
                        f"total {computed}"
                    )
                line["LineAmount"] = computed
                line["TaxAmount"] = Decimal("0.00")
                line.setdefault("TaxType", "NONE")
            except Invalid as exc:
                errors += exc.messages
                continue
            lines.append(line)
        if errors:
            raise Invalid(*errors)
        return lines

    def write_invoice(
        self, org: Org, el: dict[str, Any], mode: str, path_id: str | None = None, unitdp: int = 2
    ) -> dict[str, Any]:
        """mode: ``create`` (PUT /Invoices), ``upsert`` (POST /Invoices), ``update`` (POST /Invoices/{id})."""
        if not isinstance(el, dict):
            raise Invalid("Each invoice must be an object")
        target = path_id or el.get("InvoiceID")
        current: dict[str, Any] | None = None
        if target:
            if mode == "create":
                raise Invalid("An InvoiceID cannot be supplied when creating an invoice")
            current = self.find_invoice(org, str(target))
            if current is None:
                raise Invalid(MSG_NOT_FOUND)
        return self._update_invoice(org, current, el, unitdp) if current else self._create_invoice(org, el, unitdp)

    def _create_invoice(self, org: Org, el: dict[str, Any], unitdp: int) -> dict[str, Any]:
        errors: list[str] = []
        inv_type = el.get("Type")
        if inv_type not in ("ACCREC", "ACCPAY"):
            errors.append("Invoice Type must be ACCREC or ACCPAY")
        status = el.get("Status") or "DRAFT"
        if status not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
            errors.append("Invoice Status must be DRAFT, SUBMITTED or AUTHORISED when it is created")
        contact = None
        try:
            contact = self._contact_for(org, el.get("Contact"))
        except Invalid as exc:
            errors += exc.messages
        number = el.get("InvoiceNumber")
        if number is not None and (not isinstance(number, str) or len(number) > INVOICE_NUMBER_MAX):
            errors.append(f"InvoiceNumber must be text of at most {INVOICE_NUMBER_MAX} characters")
        elif inv_type == "ACCREC" and number and self.invoice_number_taken(org, number, None):
            errors.append(MSG_DUPLICATE_NUMBER)
        errors += self._check_common(el)
        lines: list[dict[str, Any]] = []
        try:
            lines = self._lines(org, el.get("LineItems") or [], [], unitdp)
        except Invalid as exc:
            errors += exc.messages
        issued = parse_day(el.get("Date")) or datetime.fromtimestamp(self.clock(), UTC).date()
        due = parse_day(el.get("DueDate"))
        if status != "DRAFT":
            errors += self._approval_errors(lines, due)
        if errors:
            raise Invalid(*errors)
        assert contact is not None
        now = self.clock()
        record: dict[str, Any] = {
            "InvoiceID": new_id(),
            "Type": inv_type,
            "InvoiceNumber": number or (self._next_number(org) if inv_type == "ACCREC" else ""),
            "Reference": el.get("Reference") if isinstance(el.get("Reference"), str) else "",
            "_contact": contact["ContactID"],
            "Date": issued,
            "DueDate": due,
            "Status": status,
            "LineAmountTypes": el.get("LineAmountTypes") or "Exclusive",
            "LineItems": lines,
            "CurrencyCode": BASE_CURRENCY,
            "CurrencyRate": Decimal("1.000000"),
            "SentToContact": bool(el.get("SentToContact", False)),
            "AmountCredited": Decimal("0.00"),
            "_payments": [],
            "_created": now,
            "_updated": now,
        }
        org.invoices[record["InvoiceID"]] = record
        if inv_type == "ACCREC":
            contact["IsCustomer"] = True
        else:
            contact["IsSupplier"] = True
        return record

    @staticmethod
    def _check_common(el: dict[str, Any]) -> list[str]:
        errors: list[str] = []
        if el.get("LineAmountTypes") not in (None, "Exclusive", "Inclusive", "NoTax"):
            errors.append("LineAmountTypes must be Exclusive, Inclusive or NoTax")
        if el.get("CurrencyCode") not in (None, BASE_CURRENCY):
            errors.append(f"Organisation is not subscribed to currency {el.get('CurrencyCode')}")
        for key in ("Date", "DueDate"):
            if el.get(key) not in (None, "") and parse_day(el.get(key)) is None:
                errors.append(f"{key} is not a valid date")
        if el.get("Reference") is not None and not isinstance(el.get("Reference"), str):
            errors.append("Reference must be text")
        return errors

    @staticmethod
    def _approval_errors(lines: list[dict[str, Any]], due: date | None) -> list[str]:
        errors = []
        if due is None:
            errors.append("Due Date is required.")  # the sandbox org has no default payment terms
        if any(not line.get("AccountCode") for line in lines):
            errors.append("Account code must be specified.")
        return errors

    def _update_invoice(self, org: Org, current: dict[str, Any], el: dict[str, Any], unitdp: int) -> dict[str, Any]:
        status = current["Status"]
        wanted_status = el.get("Status") or status
        allocated = bool(current["_payments"]) or current["AmountCredited"] > 0
        changes = self._changed_fields(org, current, el, unitdp)
        content = changes - EDITABLE_WHEN_PAID - {"Status"}
        if status in ("VOIDED", "DELETED") and (changes - {"Status"} or wanted_status != status):
            raise Invalid(MSG_NOT_MODIFIABLE)
        if (status == "PAID" or allocated) and content:
            raise Invalid(MSG_ALLOCATED)
        if wanted_status not in STATUS_CHANGES.get(status, set()):
            raise Invalid(f"Invoice status cannot be changed from {status} to {wanted_status}")
        if wanted_status == "VOIDED" and allocated:
            raise Invalid("Invoice could not be voided as it has payments allocated to it; remove them first.")
        errors = self._check_common(el)
        number = el.get("InvoiceNumber")
        if "InvoiceNumber" in changes:
            if not isinstance(number, str) or len(number) > INVOICE_NUMBER_MAX:
                errors.append(f"InvoiceNumber must be text of at most {INVOICE_NUMBER_MAX} characters")
            elif current["Type"] == "ACCREC" and self.invoice_number_taken(org, number, current["InvoiceID"]):
                errors.append(MSG_DUPLICATE_NUMBER)
        contact = None
        if "Contact" in changes:
            try:
                contact = self._contact_for(org, el.get("Contact"))
            except Invalid as exc:
                errors += exc.messages
        lines = current["LineItems"]
        if "LineItems" in changes:
            try:
                lines = self._lines(org, el["LineItems"], current["LineItems"], unitdp)
            except Invalid as exc:
                errors += exc.messages
        due = parse_day(el.get("DueDate")) if el.get("DueDate") else current["DueDate"]
        if wanted_status in ("SUBMITTED", "AUTHORISED"):
            errors += self._approval_errors(lines, due)
        if errors:
            raise Invalid(*errors)
        if contact is not None:
            current["_contact"] = contact["ContactID"]
        if "LineItems" in changes:
            current["LineItems"] = lines
        for key in ("Date", "DueDate", "ExpectedPaymentDate", "PlannedPaymentDate"):
            if key in changes:
                current[key] = parse_day(el.get(key))
        for key in ("InvoiceNumber", "Reference", "LineAmountTypes", "SentToContact"):
            if key in changes:
                current[key] = el[key]
        current["Status"] = wanted_status
        current["_updated"] = self.clock()
        return current

    def _changed_fields(self, org: Org, current: dict[str, Any], el: dict[str, Any], unitdp: int) -> set[str]:
        """Fields of ``el`` whose value differs from the stored invoice (an unchanged value is no edit)."""
        changed: set[str] = set()
        for key in ("InvoiceNumber", "Reference", "LineAmountTypes", "SentToContact", "Status"):
            if key in el and el[key] != current.get(key, "" if key == "Reference" else None):
                changed.add(key)
        for key in ("Date", "DueDate", "ExpectedPaymentDate", "PlannedPaymentDate"):
            if key in el and parse_day(el.get(key)) != current.get(key):
                changed.add(key)
        contact = el.get("Contact")
        if ("Contact" in el and not isinstance(contact, dict)) or (
            isinstance(contact, dict)
            and (
                (contact.get("ContactID") and str(contact["ContactID"]).lower() != current["_contact"])
                or (not contact.get("ContactID") and contact.get("Name"))
                or any(
                    contact.get(k) is not None and contact[k] != org.contacts[current["_contact"]].get(k)
                    for k in CONTACT_WRITABLE
                )
            )
        ):
            changed.add("Contact")
        if "LineItems" in el:
            if not isinstance(el["LineItems"], list):
                changed.add("LineItems")
            else:
                changed |= self._line_changes(current["LineItems"], el["LineItems"], unitdp)
        return changed

    @staticmethod
    def _line_changes(stored: list[dict[str, Any]], given: list[Any], unitdp: int) -> set[str]:
        if len(stored) != len(given):
            return {"LineItems"}
        for old, new in zip(stored, given, strict=True):
            if not isinstance(new, dict):
                return {"LineItems"}
            if new.get("LineItemID") and str(new["LineItemID"]).lower() != old["LineItemID"]:
                return {"LineItems"}
            for key in ("Description", "ItemCode", "AccountCode", "TaxType"):
                if key in new and new[key] != old.get(key):
                    return {"LineItems"}
            try:
                if "Quantity" in new and q(dec(new["Quantity"], "Quantity"), 4) != old["Quantity"]:
                    return {"LineItems"}
                if (
                    "UnitAmount" in new
                    and q(dec(new["UnitAmount"], "UnitAmount"), 4 if unitdp == 4 else 2) != (old["UnitAmount"])
                ):
                    return {"LineItems"}
            except Invalid:
                return {"LineItems"}
        return set()

    def totals(self, org: Org, inv: dict[str, Any]) -> dict[str, Decimal]:
        sub = sum((line["LineAmount"] for line in inv["LineItems"]), Decimal("0.00"))
        paid = sum((org.payments[p]["Amount"] for p in inv["_payments"]), Decimal("0.00"))
        total = q(sub)
        return {
            "SubTotal": total,
            "TotalTax": Decimal("0.00"),
            "Total": total,
            "AmountPaid": q(paid),
            "AmountDue": q(total - paid - inv["AmountCredited"]),
        }

    def render_invoice(self, org: Org, inv: dict[str, Any], lines: bool = True) -> dict[str, Any]:
        contact = org.contacts[inv["_contact"]]
        out: dict[str, Any] = {
            "Type": inv["Type"],
            "InvoiceID": inv["InvoiceID"],
            "InvoiceNumber": inv["InvoiceNumber"],
            "Reference": inv["Reference"],
            "Payments": [self.render_payment_summary(org.payments[p]) for p in inv["_payments"]],
            "CreditNotes": [],
            "Prepayments": [],
            "Overpayments": [],
            "AmountCredited": inv["AmountCredited"],
            "CurrencyRate": inv["CurrencyRate"],
            "IsDiscounted": False,
            "HasAttachments": False,
            "HasErrors": False,
            "SentToContact": inv["SentToContact"],
            "Contact": {
                "ContactID": contact["ContactID"],
                "ContactStatus": contact["ContactStatus"],
                "Name": contact["Name"],
                "HasValidationErrors": False,
            },
            "DateString": day_string(inv["Date"]),
            "Date": ms_day(inv["Date"]),
            "Status": inv["Status"],
            "LineAmountTypes": inv["LineAmountTypes"],
            "CurrencyCode": inv["CurrencyCode"],
            "UpdatedDateUTC": ms_date(inv["_updated"]),
            "UpdatedDateUTCString": datetime.fromtimestamp(inv["_updated"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if inv["DueDate"] is not None:
            out["DueDateString"] = day_string(inv["DueDate"])
            out["DueDate"] = ms_day(inv["DueDate"])
        for key in ("ExpectedPaymentDate", "PlannedPaymentDate"):
            if inv.get(key) is not None:
                out[key] = ms_day(inv[key])
        out.update(self.totals(org, inv))
        if inv["Status"] == "PAID" and inv["_payments"]:
            last = max(org.payments[p]["Date"] for p in inv["_payments"])
            out["FullyPaidOnDate"] = ms_day(last)
        if lines:
            out["LineItems"] = [
                {k: v for k, v in line.items() if v is not None} | {"ValidationErrors": []} for line in inv["LineItems"]
            ]
        return out

    # ---- payments -------------------------------------------------------------------------------------------------
    def create_payment(self, org: Org, el: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(el, dict):
            raise Invalid("Each payment must be an object")
        errors: list[str] = []
        invoice = None
        spec = el.get("Invoice")
        if isinstance(spec, dict) and (spec.get("InvoiceID") or spec.get("InvoiceNumber")):
            invoice = self.find_invoice(org, str(spec.get("InvoiceID") or spec.get("InvoiceNumber")))
        elif el.get("InvoiceNumber"):
            invoice = self.find_invoice(org, str(el["InvoiceNumber"]))
        else:
            errors.append("You must specify an Invoice, CreditNote, Prepayment or Overpayment to pay")
        if invoice is None and not errors:
            errors.append(MSG_NOT_FOUND)
        account = None
        acc = el.get("Account")
        if isinstance(acc, dict) and acc.get("AccountID"):
            account = org.accounts.get(str(acc["AccountID"]).lower())
        elif isinstance(acc, dict) and acc.get("Code"):
            account = self.account_by_code(org, str(acc["Code"]))
        if account is None:
            errors.append("A valid Account must be specified (by AccountID or Code)")
        elif account["Status"] != "ACTIVE" or not (account["Type"] == "BANK" or account["EnablePaymentsToAccount"]):
            errors.append(f"Account '{account.get('Code') or account['Name']}' does not accept payments.")
        day = parse_day(el.get("Date"))
        if day is None:
            errors.append("A valid payment Date must be specified")
        amount = None
        try:
            amount = q(dec(el.get("Amount"), "Amount"))
            if amount <= 0:
                errors.append("Payment amount must be greater than zero")
        except Invalid as exc:
            errors += exc.messages
        if invoice is not None:
            if invoice["Status"] != "AUTHORISED":
                errors.append("Payments can only be made against Authorised documents.")
            elif amount is not None and amount > self.totals(org, invoice)["AmountDue"]:
                errors.append(MSG_OVERPAID)
        if el.get("Reference") is not None and not isinstance(el.get("Reference"), str):
            errors.append("Reference must be text")
        if errors:
            raise Invalid(*errors)
        assert invoice is not None and account is not None and amount is not None and day is not None
        now = self.clock()
        payment = {
            "PaymentID": new_id(),
            "_invoice": invoice["InvoiceID"],
            "_account": account["AccountID"],
            "Date": day,
            "Amount": amount,
            "Reference": el.get("Reference") or "",
            "IsReconciled": bool(el.get("IsReconciled", False)),
            "Status": "AUTHORISED",
            "PaymentType": "ACCRECPAYMENT" if invoice["Type"] == "ACCREC" else "ACCPAYPAYMENT",
            "CurrencyRate": Decimal("1.000000"),
            "_updated": now,
        }
        org.payments[payment["PaymentID"]] = payment
        invoice["_payments"].append(payment["PaymentID"])
        if self.totals(org, invoice)["AmountDue"] == 0:
            invoice["Status"] = "PAID"
        invoice["_updated"] = now
        return payment

    def delete_payment(self, org: Org, payment_id: str, el: Any) -> dict[str, Any]:
        payment = org.payments.get(payment_id.lower())
        if payment is None:
            raise NotFoundError(payment_id)
        if not isinstance(el, dict) or el.get("Status") != "DELETED":
            raise Invalid("Only Status DELETED can be set on an existing payment")
        if payment["Status"] == "DELETED":
            raise Invalid("The payment has already been deleted")
        invoice = org.invoices[payment["_invoice"]]
        payment["Status"] = "DELETED"
        payment["_updated"] = self.clock()
        invoice["_payments"].remove(payment["PaymentID"])
        if invoice["Status"] == "PAID":
            invoice["Status"] = "AUTHORISED"
        invoice["_updated"] = self.clock()
        return payment

    def render_payment_summary(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "PaymentID": p["PaymentID"],
            "Date": ms_day(p["Date"]),
            "Amount": p["Amount"],
            "Reference": p["Reference"],
            "CurrencyRate": p["CurrencyRate"],
            "HasAccount": True,
            "HasValidationErrors": False,
        }

    def render_payment(self, org: Org, p: dict[str, Any]) -> dict[str, Any]:
        invoice = org.invoices[p["_invoice"]]
        account = org.accounts[p["_account"]]
        contact = org.contacts[invoice["_contact"]]
        return {
            "PaymentID": p["PaymentID"],
            "Date": ms_day(p["Date"]),
            "BankAmount": p["Amount"],
            "Amount": p["Amount"],
            "Reference": p["Reference"],
            "CurrencyRate": p["CurrencyRate"],
            "PaymentType": p["PaymentType"],
            "Status": p["Status"],
            "UpdatedDateUTC": ms_date(p["_updated"]),
            "HasAccount": True,
            "IsReconciled": p["IsReconciled"],
            "HasValidationErrors": False,
            "Account": {"AccountID": account["AccountID"], "Code": account.get("Code", "")},
            "Invoice": {
                "Type": invoice["Type"],
                "InvoiceID": invoice["InvoiceID"],
                "InvoiceNumber": invoice["InvoiceNumber"],
                "Payments": [],
                "CreditNotes": [],
                "Prepayments": [],
                "Overpayments": [],
                "IsDiscounted": False,
                "HasErrors": False,
                "Contact": {"ContactID": contact["ContactID"], "Name": contact["Name"], "HasValidationErrors": False},
                "LineItems": [],
                "CurrencyCode": invoice["CurrencyCode"],
            },
        }


def _blank_address(kind: str) -> dict[str, Any]:
    return {"AddressType": kind, "City": "", "Region": "", "PostalCode": "", "Country": ""}


def _blank_phone(kind: str) -> dict[str, Any]:
    return {"PhoneType": kind, "PhoneNumber": "", "PhoneAreaCode": "", "PhoneCountryCode": ""}


def _merge_typed(
    existing: list[dict[str, Any]], given: list[Any], key: str, blank: Callable[[str], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Xero keeps one address per AddressType and one phone per PhoneType; a sent one replaces its slot."""
    by_type = {entry[key]: dict(entry) for entry in existing}
    allowed = ADDRESS_TYPES if key == "AddressType" else PHONE_TYPES
    bad = [e.get(key) for e in given if not isinstance(e, dict) or e.get(key) not in allowed]
    if bad:
        raise Invalid(f"{key} must be one of {', '.join(allowed)}")
    for entry in given:
        if isinstance(entry, dict) and isinstance(entry.get(key), str):
            slot = by_type.get(entry[key]) or blank(entry[key])
            slot.update({k: v for k, v in entry.items() if isinstance(v, str)})
            by_type[entry[key]] = slot
    return list(by_type.values())
