"""Reading provider JSON values into BlueClerk's types, shared by the importers (lenient: a value that does not
parse becomes None or the default, and the record still imports)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from booksync.money import to_money


def iso_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 timestamp ("Z" or an offset; none means UTC)."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def iso_date(value: Any) -> dt.date | None:
    """The date part of an ISO 8601 date or timestamp."""
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def decimal(value: Any, default: str = "0") -> Decimal:
    try:
        return Decimal(str(value)) if value is not None and value != "" else Decimal(default)
    except InvalidOperation:
        return Decimal(default)


def money(value: Any) -> Decimal:
    """JSON numbers arrive as floats (12.5, 20.0): BlueClerk keeps money as cents."""
    return to_money(decimal(value))


def quantity(value: Any) -> Decimal:
    q = decimal(value, "1")
    return q.quantize(Decimal(1)) if q == q.to_integral_value() else q.normalize()


def text(value: Any, limit: int) -> str | None:
    cut = str(value).strip() if value is not None else ""
    return cut[:limit] or None
