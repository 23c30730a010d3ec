from decimal import Decimal

import pytest

from processor.domain.card import CreditCard
from processor.domain.money import to_money


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("10.50", Decimal("10.50")),
        (" 7 ", Decimal("7.00")),
        (10.1, Decimal("10.10")),
        (1000, Decimal("1000.00")),
        ("0.995", Decimal("1.00")),  # rounded half-up to cents before the rules
        ("0.994", Decimal("0.99")),
        ("1E+3", Decimal("1000.00")),
        ("NaN", None),
        ("Infinity", None),
        ("ten", None),
        (True, None),
        (None, None),
        ([10], None),
    ],
)
def test_money_is_a_two_place_decimal_or_nothing(raw, expected):
    amount = to_money(raw)
    assert amount == expected
    if expected is not None:
        assert amount.as_tuple().exponent == -2


def test_card_repr_hides_number_and_the_card_holds_no_cvv():
    card = CreditCard("4111111111111111", "Ada", 12, 2030, 3)
    assert "4111111111111111" not in repr(card) and not hasattr(card, "cvv")
    assert "1111" in repr(card) and "visa" in repr(card)


@pytest.mark.parametrize("number, last4", [("4111 1111 1111 1234", "1234"), ("abc", None), ("12", None)])
def test_last4_only_from_digits(number, last4):
    assert CreditCard(number, "Ada", 1, 2030, 3).last4 == last4
