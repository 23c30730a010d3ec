from decimal import Decimal

import pytest

from processor.domain.money import to_money
from tests.support.amounts import AMOUNT_NUMBERS, AMOUNT_TEXTS


@pytest.mark.parametrize(
    "raw, expected",
    AMOUNT_TEXTS
    + AMOUNT_NUMBERS
    + [
        (None, None),
        ([10], None),
        ({"amount": 1}, None),
        ("0.995", None),
        (Decimal("1E+1000000"), None),
    ],
)
def test_the_processor_reads_amounts_by_the_one_money_rule_without_rounding(raw, expected):
    amount = to_money(raw)
    assert amount == expected
    if expected is not None:
        assert amount.as_tuple().exponent == -2
