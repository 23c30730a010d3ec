"""Money as ``Decimal`` with two places; never float."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENTS = Decimal("0.01")
# DECIMAL(12, 2) holds magnitudes below this; larger amounts are decided but not stored.
STORABLE_LIMIT = Decimal("10000000000")


def to_money(value: object) -> Decimal | None:
    """A finite amount rounded half-up to cents, or None when ``value`` is not a number.

    Accepts what JSON gives: a decimal string, an int or a float (a float goes through ``repr`` so
    10.1 stays 10.10, not 10.0999...). Booleans are not amounts.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite():
        return None
    if abs(amount) >= STORABLE_LIMIT:
        return amount
    return amount.quantize(CENTS, rounding=ROUND_HALF_UP)


def storable(amount: Decimal | None) -> Decimal | None:
    """The amount as it fits a DECIMAL(12, 2) column, or None when it does not fit."""
    return amount if amount is not None and abs(amount) < STORABLE_LIMIT else None
