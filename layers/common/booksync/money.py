"""Money is Decimal, never float. Amounts have at most two decimal places."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from booksync.errors import BadRequest

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("99999999.99")


def to_money(value: Decimal) -> Decimal:
    """Round half up to cents (used for computed amounts: quantity x unit price)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def check_amount(value: Decimal, field: str, *, allow_zero: bool = False) -> Decimal:
    """Reject non-positive, non-finite and over-precise amounts with a message that says how to fix it."""
    try:
        if not value.is_finite():
            raise InvalidOperation
    except (InvalidOperation, AttributeError) as exc:
        raise BadRequest(f"'{field}' must be a number such as \"350.00\".", code="invalid_amount") from exc
    if value < 0 or (value == 0 and not allow_zero):
        word = "zero or more" if allow_zero else "greater than zero"
        raise BadRequest(f"'{field}' must be {word}; got {value}.", code="invalid_amount")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise BadRequest(
            f"'{field}' has more than two decimal places ({value}); round it to cents, e.g. \"{to_money(value)}\".",
            code="invalid_amount",
        )
    if value > MAX_AMOUNT:
        raise BadRequest(f"'{field}' is too large (at most {MAX_AMOUNT}).", code="invalid_amount")
    return value.quantize(CENT)


def fmt(value: Decimal) -> str:
    return str(value.quantize(CENT))
