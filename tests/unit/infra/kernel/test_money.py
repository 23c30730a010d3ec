from decimal import Decimal

import pytest

from infra.kernel.money import AmountError, from_cents, parse_amount, to_cents


@pytest.mark.parametrize(
    "value, expected",
    [
        ("10.50", "10.50"),
        ("10.5", "10.50"),
        (10.5, "10.50"),
        (10, "10.00"),
        ("5000", "5000.00"),
        ("0.01", "0.01"),
        (Decimal("1.10"), "1.10"),
    ],
)
def test_parses_amounts_to_two_decimals(value, expected):
    assert str(parse_amount(value)) == expected


@pytest.mark.parametrize(
    "value, message",
    [
        ("10.555", "at most 2 decimals"),
        (10.555, "2 decimal places"),
        ("NaN", "decimal string"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        ("1e400", "no sign, exponent"),
        (1e400, "finite"),
        ("1000000000", "below"),
        (10**9, "below"),
        ("-1", "negative"),
        (-1, "negative"),
        (Decimal("-1E+1000000"), "negative"),
        (Decimal("1E+1000000"), "below"),
        ("ten", "decimal string"),
        ("", "decimal string"),
        (True, "string or a number"),
        (None, "string or a number"),
        ([1], "string or a number"),
    ],
)
def test_refuses_amounts_that_are_not_money(value, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(value)


def test_cents_round_trip():
    assert to_cents(Decimal("1000.01")) == 100001 and from_cents(100001) == Decimal("1000.01")
