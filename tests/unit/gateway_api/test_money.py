from decimal import Decimal

import pytest

from gateway_api.domain.money import AmountError, from_cents, parse_amount, to_cents


@pytest.mark.parametrize("value, expected", [
    ("10.50", "10.50"), ("10.5", "10.50"), (10.5, "10.50"), (10, "10.00"), ("5000", "5000.00"),
    ("0.01", "0.01"), ("-1", "-1.00"), (" 7.1 ", "7.10"), (Decimal("1.10"), "1.10"), ("1E+2", "100.00"),
])
def test_parses_amounts_to_two_decimals(value, expected):
    assert str(parse_amount(value)) == expected


@pytest.mark.parametrize("value, message", [
    ("10.555", "2 decimal places"), (10.555, "2 decimal places"), ("NaN", "finite"), ("Infinity", "finite"),
    (float("nan"), "finite"), (float("inf"), "finite"), ("1e400", "too large"), ("1000000000", "too large"),
    ("ten", "decimal number"), ("", "decimal number"), (True, "string or a number"), (None, "string or a number"),
    ([1], "string or a number"),
])
def test_refuses_amounts_that_are_not_money(value, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(value)


def test_cents_round_trip():
    assert to_cents(Decimal("1000.01")) == 100001 and from_cents(100001) == Decimal("1000.01")
