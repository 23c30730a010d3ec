from decimal import Decimal

import pytest

from processor.domain.card import CreditCard
from processor.domain.money import to_money
from tests.support.amounts import AMOUNT_NUMBERS, AMOUNT_TEXTS


@pytest.mark.parametrize("raw, expected", AMOUNT_TEXTS + AMOUNT_NUMBERS + [
    (None, None), ([10], None), ({"amount": 1}, None), ("0.995", None), (Decimal("1E+1000000"), None),
])
def test_the_processor_reads_amounts_by_the_one_money_rule_without_rounding(raw, expected):
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
