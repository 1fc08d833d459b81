from __future__ import annotations

from decimal import Decimal

import pytest

from booksync.errors import BadRequest
from booksync.money import check_amount, to_money


@pytest.mark.parametrize(("raw", "expected"), [("350", "350.00"), ("0.1", "0.10"), ("99999999.99", "99999999.99")])
def test_check_amount_accepts_positive_cents(raw: str, expected: str) -> None:
    assert str(check_amount(Decimal(raw), "amount")) == expected


@pytest.mark.parametrize("raw", ["0", "-0.01", "0.001", "1E+9", "Infinity", "NaN"])
def test_check_amount_rejects_with_a_message_naming_the_field(raw: str) -> None:
    with pytest.raises(BadRequest) as info:
        check_amount(Decimal(raw), "amount")
    assert "amount" in info.value.message and info.value.code == "invalid_amount"


def test_line_amounts_round_half_up_to_cents() -> None:
    assert to_money(Decimal("1.5") * Decimal("33.33")) == Decimal("50.00")
    assert to_money(Decimal("3") * Decimal("0.335")) == Decimal("1.01")
