"""Money as ``Decimal`` with two places; never float. The rule is :mod:`infra.kernel.money`'s, the API's too."""

from __future__ import annotations

from decimal import Decimal

from infra.kernel.money import CENT, AmountError, parse_amount

CENTS = CENT


def to_money(value: object) -> Decimal | None:
    """The amount, or None when ``value`` is not one (the rules then reject the transaction).

    No rounding: the API accepts only amounts with at most 2 decimals, and so does the processor.
    """
    try:
        return parse_amount(value)
    except AmountError:
        return None
