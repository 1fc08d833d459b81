"""Wave public GraphQL API adapter of the sync engine's port.

Wire rules followed (../shared/providers/wave.md): one endpoint, ``POST {WAVE_API_URL}/graphql/public`` with
``{"query", "variables"}``; errors either as GraphQL ``errors[].extensions.code`` (HTTP 200 or 4xx) or as a mutation's
``didSucceed: false`` + ``inputErrors``; ``Decimal`` sent as strings; offset paging (``page``/``pageSize`` ≤ 200).
Every document is in :data:`DOCUMENTS`, and the tests validate each against the sandbox schema (which contains
Wave's own input types and enums unchanged).

Wave has **no idempotency keys** (``capabilities.idempotency_keys = False``): exactly once rests on the engine's claims
and on finding what an unanswered create left: invoices by ``invoiceNumber`` (+ our marker in ``memo``), payments by
the marker in their ``memo`` (read from ``invoice.payments``), customers and products by name.

Invoice lines on Wave need a product, and a line posts to its product's income account. Wave has no item sync setting,
so the adapter keeps the products its lines need: one per BlueClerk item (``create_item`` via the engine), each line
priced on the line (``unitPrice``), and before every invoice write it makes each product post to the account the item
is mapped to (``productPatch`` when the mapping changed). See docs/providers/wave.md.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from booksync.catalog.models import Address, Customer, Item
from booksync.config import provider_url
from booksync.invoicing.models import Invoice, Payment, PaymentMethod
from booksync.providers.http import retry_after_or_none
from booksync.providers.send import authorized_request
from booksync.sync.ports import (
    Account,
    Capabilities,
    DuplicateNumber,
    LineRef,
    NotFoundUpstream,
    RateLimited,
    Ref,
    Rejected,
    Session,
    Unauthorized,
    Unavailable,
    invoice_marker,
    payment_account_refused,
    payment_marker,
)

PAGE_SIZE = 200  # Wave's cap (secondary)
MAX_PAGES = 100
CENT = Decimal("0.01")
NAME_LIMIT = 255
CACHE_SECONDS = 300.0
PAYMENT_METHODS = {  # BlueClerk -> InvoicePaymentMethod
    PaymentMethod.CASH: "CASH",
    PaymentMethod.CHECK: "CHEQUE",
    PaymentMethod.CARD: "CREDIT_CARD",
    PaymentMethod.ACH: "BANK_TRANSFER",
    PaymentMethod.OTHER: "OTHER",
}
PREFERRED_PAYMENT_ACCOUNT = "Cash on Hand"  # every Wave business starts with it; else the first Cash & Bank account

INPUT_ERRORS = "inputErrors { code message path }"
DOCUMENTS: dict[str, str] = {
    "accounts": """
query Accounts($businessId: ID!, $page: Int!, $subtypes: [AccountSubtypeValue!]) {
  business(id: $businessId) {
    id
    accounts(page: $page, pageSize: 200, subtypes: $subtypes, isArchived: false) {
      pageInfo { currentPage totalPages }
      edges { node { id name isArchived subtype { value } } }
    }
  }
}""",
    "customers": """
query Customers($businessId: ID!, $page: Int!) {
  business(id: $businessId) {
    id
    customers(page: $page, pageSize: 200, sort: [NAME_ASC]) {
      pageInfo { currentPage totalPages }
      edges { node { id name isArchived } }
    }
  }
}""",
    "customerCreate": f"""
mutation CustomerCreate($input: CustomerCreateInput!) {{
  customerCreate(input: $input) {{ didSucceed {INPUT_ERRORS} customer {{ id name }} }}
}}""",
    "customerPatch": f"""
mutation CustomerPatch($input: CustomerPatchInput!) {{
  customerPatch(input: $input) {{ didSucceed {INPUT_ERRORS} customer {{ id name }} }}
}}""",
    "products": """
query Products($businessId: ID!, $page: Int!) {
  business(id: $businessId) {
    id
    products(page: $page, pageSize: 200, sort: [NAME_ASC], isArchived: false) {
      pageInfo { currentPage totalPages }
      edges { node { id name isArchived incomeAccount { id } } }
    }
  }
}""",
    "product": """
query Product($businessId: ID!, $id: ID!) {
  business(id: $businessId) { id product(id: $id) { id name isArchived incomeAccount { id } } }
}""",
    "productCreate": f"""
mutation ProductCreate($input: ProductCreateInput!) {{
  productCreate(input: $input) {{ didSucceed {INPUT_ERRORS} product {{ id name incomeAccount {{ id }} }} }}
}}""",
    "productPatch": f"""
mutation ProductPatch($input: ProductPatchInput!) {{
  productPatch(input: $input) {{ didSucceed {INPUT_ERRORS} product {{ id name incomeAccount {{ id }} }} }}
}}""",
    "invoicesByNumber": """
query InvoicesByNumber($businessId: ID!, $invoiceNumber: String!, $page: Int!) {
  business(id: $businessId) {
    id
    invoices(page: $page, pageSize: 50, invoiceNumber: $invoiceNumber) {
      pageInfo { currentPage totalPages }
      edges { node { id invoiceNumber memo status } }
    }
  }
}""",
    "invoice": """
query Invoice($businessId: ID!, $id: ID!) {
  business(id: $businessId) { id invoice(id: $id) { id invoiceNumber memo status } }
}""",
    "invoiceDetail": """
query InvoiceDetail($businessId: ID!, $id: ID!) {
  business(id: $businessId) {
    id
    invoice(id: $id) {
      id invoiceNumber memo status invoiceDate dueDate
      customer { id }
      items { product { id } description quantity unitPrice }
    }
  }
}""",
    "invoicePayments": """
query InvoicePayments($businessId: ID!, $id: ID!) {
  business(id: $businessId) { id invoice(id: $id) { id payments { id memo amount paymentDate } } }
}""",
    "invoiceCreate": f"""
mutation InvoiceCreate($input: InvoiceCreateInput!) {{
  invoiceCreate(input: $input) {{ didSucceed {INPUT_ERRORS} invoice {{ id invoiceNumber memo status }} }}
}}""",
    "invoicePatch": f"""
mutation InvoicePatch($input: InvoicePatchInput!) {{
  invoicePatch(input: $input) {{ didSucceed {INPUT_ERRORS} invoice {{ id invoiceNumber memo status }} }}
}}""",
    "invoiceApprove": f"""
mutation InvoiceApprove($input: InvoiceApproveInput!) {{
  invoiceApprove(input: $input) {{ didSucceed {INPUT_ERRORS} invoice {{ id invoiceNumber memo status }} }}
}}""",
    "invoicePaymentCreateManual": f"""
mutation InvoicePaymentCreateManual($input: InvoicePaymentCreateManualInput!) {{
  invoicePaymentCreateManual(input: $input) {{ didSucceed {INPUT_ERRORS} invoicePayment {{ id memo }} }}
}}""",
}


def _decimal(value: Decimal, places: Decimal = CENT) -> str:
    return str(value.quantize(places, rounding=ROUND_HALF_UP))


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").strip().casefold() == (b or "").strip().casefold()


def _address(a: Address | None) -> dict[str, str] | None:
    if a is None:
        return None
    out = {"addressLine1": a.line1, "addressLine2": a.line2, "city": a.city, "postalCode": a.postal_code}
    country = (a.country or "").strip().upper()
    country = {"USA": "US", "UNITED STATES": "US", "UNITED STATES OF AMERICA": "US", "CANADA": "CA"}.get(
        country, country
    )
    if len(country) == 2 and country.isalpha():
        out["countryCode"] = country
        region = (a.region or "").strip().upper()
        if 1 <= len(region) <= 3 and region.isalnum():
            out["provinceCode"] = f"{country}-{region}"  # ISO 3166-2
    clean = {k: v for k, v in out.items() if v}
    return clean or None


class WaveAccounting:
    name = "wave"
    capabilities = Capabilities(idempotency_keys=False, idempotency_key_max=0)

    def __init__(self, api_base: str | None = None, http: httpx.Client | None = None) -> None:
        base = (api_base or provider_url("WAVE_API_URL")).rstrip("/")
        self.endpoint = f"{base}/graphql/public"
        self._http = http
        self._lock = threading.Lock()
        self._income: dict[tuple[str, str], tuple[float, str | None]] = {}  # (business, product) -> income account
        self._payment_account: dict[str, tuple[float, str]] = {}
        self.round_trips = 0
        self.sent: list[str] = []  # operation names sent (tests check every one against the schema)

    # ---- port ---------------------------------------------------------------------------------------------------
    def income_accounts(self, s: Session) -> list[Account]:
        rows = self._accounts(s, ["INCOME", "OTHER_INCOME"])
        kinds = {"INCOME": "Income", "OTHER_INCOME": "Other Income"}
        return [Account(id=str(r["id"]), name=str(r["name"]), type=kinds[r["subtype"]["value"]]) for r in rows]

    def deposit_accounts(self, s: Session) -> list[Account]:
        """Where a payment can be recorded (wave.md: ``paymentAccountId`` = a CASH_AND_BANK account)."""
        rows = self._accounts(s, ["CASH_AND_BANK"])
        return [Account(id=str(r["id"]), name=str(r["name"]), type="Cash & Bank") for r in rows]

    def find_customer(self, s: Session, customer: Customer) -> Ref | None:
        for row in self._pages(s, "customers", "customers", {}):
            if _same(row.get("name"), customer.name) and not row.get("isArchived"):
                return Ref(id=str(row["id"]))
        return None

    def create_customer(self, s: Session, customer: Customer, key: str) -> Ref:
        payload = {"businessId": s.tenant_id, **self._customer_input(customer)}
        return Ref(id=str(self._mutate(s, "customerCreate", payload, "customer")["id"]))

    def update_customer(self, s: Session, ref: Ref, customer: Customer) -> Ref:
        payload = {"id": ref.id, **self._customer_input(customer)}
        return Ref(id=str(self._mutate(s, "customerPatch", payload, "customer")["id"]))

    def find_item(self, s: Session, item: Item) -> Ref | None:
        for row in self._pages(s, "products", "products", {}):
            if _same(row.get("name"), item.name) and not row.get("isArchived"):
                self._remember_income(s, str(row["id"]), (row.get("incomeAccount") or {}).get("id"))
                return Ref(id=str(row["id"]))
        return None

    def create_item(self, s: Session, item: Item, account_id: str, key: str) -> Ref:
        payload = {"businessId": s.tenant_id, **self._product_input(item), "incomeAccountId": account_id}
        row = self._mutate(s, "productCreate", payload, "product")
        self._remember_income(s, str(row["id"]), account_id)
        return Ref(id=str(row["id"]))

    def update_item(self, s: Session, ref: Ref, item: Item, account_id: str) -> Ref:
        payload = {"id": ref.id, **self._product_input(item), "incomeAccountId": account_id}
        row = self._mutate(s, "productPatch", payload, "product")
        self._remember_income(s, ref.id, account_id)
        return Ref(id=str(row["id"]))

    def find_invoice(self, s: Session, number: str) -> Ref | None:
        for row in self._pages(s, "invoicesByNumber", "invoices", {"invoiceNumber": number}):
            if (row.get("invoiceNumber") or "").strip() == number.strip():
                return self._invoice_ref(row)
        return None

    def get_invoice(self, s: Session, ref: Ref) -> Ref:
        row = self._business(s, "invoice", {"id": ref.id}).get("invoice")
        if not row:
            raise NotFoundUpstream(f"Wave invoice {ref.id} was not found")
        return self._invoice_ref(row)

    def create_invoice(self, s: Session, invoice: Invoice, customer: Ref, lines: list[LineRef], key: str) -> Ref:
        self._products_post_to_mapped_accounts(s, lines)
        payload = {"businessId": s.tenant_id, "status": "SAVED", **self._invoice_input(invoice, customer, lines)}
        row = self._mutate(s, "invoiceCreate", payload, "invoice")
        if row.get("status") == "DRAFT":  # created but not posted to the books: approve it
            row = self._mutate(s, "invoiceApprove", {"invoiceId": row["id"]}, "invoice")
        return self._invoice_ref(row)

    def update_invoice(
        self, s: Session, ref: Ref, invoice: Invoice, customer: Ref, lines: list[LineRef], key: str
    ) -> Ref:
        """Patch only what differs: Wave restricts edits of an invoice with payments (secondary), and ``items``, when
        sent, replaces every line - so unchanged lines are not sent at all."""
        self._products_post_to_mapped_accounts(s, lines)
        current = self._business(s, "invoiceDetail", {"id": ref.id}).get("invoice")
        if not current:
            raise NotFoundUpstream(f"Wave invoice {ref.id} was not found")
        wanted = self._invoice_input(invoice, customer, lines)
        changes = {k: v for k, v in wanted.items() if k != "items" and v != _current_value(current, k)}
        if _line_keys(wanted["items"]) != _line_keys(
            [
                {
                    "productId": (i.get("product") or {}).get("id"),
                    "description": i.get("description"),
                    "quantity": i.get("quantity"),
                    "unitPrice": i.get("unitPrice"),
                }
                for i in current.get("items") or []
            ]
        ):
            changes["items"] = wanted["items"]  # items replace every line
        if not changes:
            return self._invoice_ref(current)
        return self._invoice_ref(self._mutate(s, "invoicePatch", {"id": ref.id, **changes}, "invoice"))

    def find_payment(self, s: Session, payment: Payment, invoice: Ref) -> Ref | None:
        marker = payment_marker(payment.id)
        row = self._business(s, "invoicePayments", {"id": invoice.id}).get("invoice")
        if not row:
            raise NotFoundUpstream(f"Wave invoice {invoice.id} was not found")
        for p in row.get("payments") or []:
            if marker in (p.get("memo") or ""):
                return Ref(id=str(p["id"]), marker=p.get("memo"))
        return None

    def create_payment(
        self, s: Session, payment: Payment, invoice: Ref, customer: Ref, key: str, account_id: str | None = None
    ) -> Ref:
        memo = payment_marker(payment.id)
        if payment.reference:
            memo += f" (ref {payment.reference})"
        payload = {
            "invoiceId": invoice.id,
            "paymentAccountId": account_id or self._payment_account_id(s),
            "amount": _decimal(payment.amount),
            "paymentDate": payment.date.isoformat(),
            "paymentMethod": PAYMENT_METHODS[payment.method],
            "exchangeRate": "1",  # required; used only when invoice and account currencies differ
            "memo": memo,
        }
        try:
            row = self._mutate(s, "invoicePaymentCreateManual", payload, "invoicePayment")
        except _PaymentAccountError as exc:
            if account_id:  # the account mapped for this method was refused: say which mapping to fix
                raise payment_account_refused("Wave", payment.method.value, account_id, exc.message) from exc
            raise
        return Ref(id=str(row["id"]), marker=row.get("memo"))

    # ---- products behind invoice lines --------------------------------------------------------------------------
    def _products_post_to_mapped_accounts(self, s: Session, lines: list[LineRef]) -> None:
        """Each line posts to its product's income account: make that the account the item is mapped to."""
        wanted = {line.item.id: line.account_id for line in lines}
        for product_id, account_id in wanted.items():
            if self._known_income(s, product_id) == account_id:
                continue
            row = self._business(s, "product", {"id": product_id}).get("product")
            if not row or row.get("isArchived"):
                raise Rejected(
                    f"the Wave product behind an invoice line ({product_id}) was deleted or archived in Wave; "
                    "restore it in Wave"
                )
            current = (row.get("incomeAccount") or {}).get("id")
            if current != account_id:
                self._mutate(s, "productPatch", {"id": product_id, "incomeAccountId": account_id}, "product")
            self._remember_income(s, product_id, account_id)

    def _known_income(self, s: Session, product_id: str) -> str | None:
        with self._lock:
            cached = self._income.get((s.tenant_id, product_id))
        return cached[1] if cached and cached[0] > time.time() else None

    def _remember_income(self, s: Session, product_id: str, account_id: str | None) -> None:
        with self._lock:
            self._income[(s.tenant_id, product_id)] = (time.time() + CACHE_SECONDS, account_id)

    def _payment_account_id(self, s: Session) -> str:
        with self._lock:
            cached = self._payment_account.get(s.tenant_id)
        if cached and cached[0] > time.time():
            return cached[1]
        rows = self._accounts(s, ["CASH_AND_BANK"])
        if not rows:
            raise Rejected("The Wave business has no Cash & Bank account to record payments in")
        chosen = next((r for r in rows if r["name"] == PREFERRED_PAYMENT_ACCOUNT), rows[0])
        with self._lock:
            self._payment_account[s.tenant_id] = (time.time() + CACHE_SECONDS, str(chosen["id"]))
        return str(chosen["id"])

    # ---- payloads -----------------------------------------------------------------------------------------------
    @staticmethod
    def _customer_input(c: Customer) -> dict[str, Any]:
        out: dict[str, Any] = {"name": c.name.strip()[:NAME_LIMIT], "displayId": c.id}
        for key, value in (
            ("firstName", c.given_name),
            ("lastName", c.family_name),
            ("email", c.email),
            ("phone", c.phone),
        ):
            if value:
                out[key] = value
        if address := _address(c.billing_address):
            out["address"] = address
        return out

    @staticmethod
    def _product_input(item: Item) -> dict[str, Any]:
        out: dict[str, Any] = {"name": item.name.strip()[:NAME_LIMIT], "unitPrice": _decimal(item.price)}
        if item.description:
            out["description"] = item.description
        return out

    @staticmethod
    def _invoice_input(invoice: Invoice, customer: Ref, lines: list[LineRef]) -> dict[str, Any]:
        issued = invoice.issue_date or date.today()
        out: dict[str, Any] = {
            "customerId": customer.id,
            "invoiceNumber": invoice.number,
            "invoiceDate": issued.isoformat(),
            "dueDate": (invoice.due_date or issued).isoformat(),
            "memo": invoice_marker(invoice.id),
            "items": [
                {
                    "productId": line.item.id,
                    "description": line.description,
                    "quantity": str(line.quantity),
                    "unitPrice": _decimal(line.unit_price),
                    "taxes": [],  # BlueClerk lines carry no tax: none, not the product's defaults
                }
                for line in lines
            ],
        }
        return out

    @staticmethod
    def _invoice_ref(row: dict[str, Any]) -> Ref:
        return Ref(id=str(row["id"]), number=row.get("invoiceNumber"), marker=row.get("memo"))

    # ---- GraphQL ------------------------------------------------------------------------------------------------
    def _accounts(self, s: Session, subtypes: list[str]) -> list[dict[str, Any]]:
        rows = self._pages(s, "accounts", "accounts", {"subtypes": subtypes})
        return [r for r in rows if not r.get("isArchived")]

    def _business(self, s: Session, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        data = self._send(s, name, {"businessId": s.tenant_id, **variables})
        business = data.get("business")
        if business is None:
            raise NotFoundUpstream("Wave no longer gives this connection access to the business")
        return dict(business)

    def _pages(self, s: Session, name: str, connection: str, variables: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        page = 1
        while page <= MAX_PAGES:
            block = self._business(s, name, {**variables, "page": page}).get(connection) or {}
            out += [edge["node"] for edge in block.get("edges") or []]
            if page >= int((block.get("pageInfo") or {}).get("totalPages") or 1):
                return out
            page += 1
        return out

    def _mutate(self, s: Session, name: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
        result = self._send(s, name, {"input": payload}).get(name) or {}
        if not result.get("didSucceed"):
            raise _input_error(name, result.get("inputErrors") or [])
        record = result.get(key)
        if not record:
            raise Unavailable(f"Wave {name} succeeded without returning the {key}")
        return dict(record)

    def _send(self, s: Session, name: str, variables: dict[str, Any], document: str | None = None) -> dict[str, Any]:
        """One GraphQL request (``document``: a query of another module, e.g. the importer's; default: ours named
        ``name``), with the 401 refresh and Wave's error mapping."""
        body = {"query": document or DOCUMENTS[name], "variables": variables}

        def attempt() -> None:
            self.round_trips += 1
            self.sent.append(name)

        resp = authorized_request(
            s, "wave", "Wave", "POST", self.endpoint, body=body, http=self._http, on_attempt=attempt,
            rejected_token=lambda r: r.status_code == 401 or "UNAUTHENTICATED" in _parse(r)[1],
        )  # fmt: skip
        data, codes, message = _parse(resp)
        if resp.status_code == 429 or "RATE_LIMITED" in codes:
            raise RateLimited("Wave rate limit reached", retry_after=retry_after_or_none(resp))
        if resp.status_code >= 500 or "INTERNAL_SERVER_ERROR" in codes:
            raise Unavailable(f"Wave answered {resp.status_code}: {message}")
        if resp.status_code in (401, 403) or codes & {"UNAUTHENTICATED", "FORBIDDEN"}:
            raise Unauthorized(f"Wave refused access: {message}")
        if "NOT_FOUND" in codes:
            raise NotFoundUpstream(message)
        if codes or resp.status_code >= 400 or data is None:
            raise Rejected(f"Wave rejected the {name} request: {message or resp.status_code}")
        return data


def _current_value(invoice: dict[str, Any], key: str) -> Any:
    if key == "customerId":
        return (invoice.get("customer") or {}).get("id")
    return invoice.get(key)


def _line_keys(items: list[dict[str, Any]]) -> list[tuple[str, str, Decimal, Decimal]]:
    return [
        (
            str(i.get("productId")),
            str(i.get("description") or ""),
            Decimal(str(i.get("quantity") or 0)),
            Decimal(str(i.get("unitPrice") or 0)),
        )
        for i in items
    ]


def _parse(resp: httpx.Response) -> tuple[dict[str, Any] | None, set[str], str]:
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    errors = body.get("errors") or []
    codes = {str((e.get("extensions") or {}).get("code") or "") for e in errors if isinstance(e, dict)} - {""}
    message = "; ".join(str(e.get("message") or "") for e in errors if isinstance(e, dict))
    data = body.get("data")
    return (data if isinstance(data, dict) else None), codes, message


def _input_error(name: str, errors: list[dict[str, Any]]) -> Exception:
    """A mutation's ``inputErrors`` as a provider-neutral error."""
    text = "; ".join(str(e.get("message") or "") for e in errors) or f"Wave refused the {name}"
    for e in errors:
        path = [str(p) for p in e.get("path") or []]
        code = str(e.get("code") or "").upper()
        message = str(e.get("message") or "").lower()
        if (
            path
            and path[-1] == "invoiceNumber"
            and (code in ("DUPLICATE", "UNIQUE", "ALREADY_EXISTS") or "already" in message or "unique" in message)
        ):
            return DuplicateNumber(text)
        if path and path[-1] in ("customerId", "invoiceId", "id") and code == "NOT_FOUND":
            return NotFoundUpstream(text)
        if path and path[-1] == "paymentAccountId":
            return _PaymentAccountError(text)
    return Rejected(text)


class _PaymentAccountError(Rejected):
    """Wave refused ``paymentAccountId`` (unknown, archived, or not a Cash & Bank account)."""


__all__ = ["DOCUMENTS", "WaveAccounting"]
