"""Amounts: Decimal with at most two decimal places, kept as integer cents in the ledger."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")
# Far above any real card payment, far below what integer cents or a BIGINT column can hold.
MAX_ABS_AMOUNT = Decimal("1000000000")


class AmountError(ValueError):
    pass


def parse_amount(value: object) -> Decimal:
    """A finite Decimal with at most 2 decimals from a JSON string or number (never a bool)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise AmountError("must be a decimal string or a number")
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise AmountError("must be a decimal number such as \"10.50\"") from None
    if not amount.is_finite():
        raise AmountError("must be a finite number")
    if abs(amount) >= MAX_ABS_AMOUNT:
        raise AmountError("is too large")
    if amount != amount.quantize(CENT):
        raise AmountError("must have at most 2 decimal places")
    return amount.quantize(CENT)


def to_cents(amount: Decimal) -> int:
    return int(amount.quantize(CENT) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def format_amount(amount: Decimal) -> str:
    return str(amount.quantize(CENT))
