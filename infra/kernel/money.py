"""The one money rule: what an amount may look like, for the API and every consumer (stdlib only).

An amount is a decimal string of ASCII digits with at most 2 decimals ("10.50", "7", "0.5"), or a
JSON number with at most 2 decimals (10.5, 7). Nothing else: no sign (money goes back through
refunds, not negative payments), no exponent, no underscore, no whitespace, no other script's digits,
nothing at or above ``AMOUNT_LIMIT``. ``AMOUNT_PATTERN`` is the same rule for strings, as the
OpenAPI document states it.
"""

from __future__ import annotations

import re
from decimal import Decimal

CENT = Decimal("0.01")
INTEGER_DIGITS = 9
# Far above any real card payment, far below what integer cents or a DECIMAL(12, 2) column can hold.
AMOUNT_LIMIT = Decimal(10) ** INTEGER_DIGITS
AMOUNT_PATTERN = rf"^[0-9]{{1,{INTEGER_DIGITS}}}(\.[0-9]{{1,2}})?$"
_AMOUNT_TEXT = re.compile(AMOUNT_PATTERN.replace("$", r"\Z"), re.ASCII)


class AmountError(ValueError):
    """The value is not an amount; the text says why (it never repeats the value)."""


def parse_amount(value: object) -> Decimal:
    """The amount ``value`` holds, quantized to cents; :class:`AmountError` for anything else.

    Never raises anything but :class:`AmountError`, whatever the value (a consumer relies on it).
    """
    if isinstance(value, str):
        return _from_text(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise AmountError("must be a decimal string or a number")
    return _from_number(value)


def _from_text(text: str) -> Decimal:
    if _AMOUNT_TEXT.match(text) is None:
        if text.startswith("-"):
            raise AmountError("must not be negative (refund a payment instead)")
        raise AmountError(
            'must be a decimal string such as "10.50": ASCII digits, at most 2 decimals, '
            f"below {AMOUNT_LIMIT:,}, no sign, exponent or spaces"
        )
    amount = Decimal(text)
    # "10.50" already has two places (the usual case at volume): quantizing would copy it unchanged.
    return amount if text[-3:-2] == "." else amount.quantize(CENT)


def _from_number(number: int | float | Decimal) -> Decimal:
    if isinstance(number, int):  # bounded before any conversion: a 5,000-digit integer is still an int
        return _bounded(Decimal(number) if -AMOUNT_LIMIT < number < AMOUNT_LIMIT else number).quantize(CENT)
    amount = Decimal(repr(number)) if isinstance(number, float) else number
    if not amount.is_finite():
        raise AmountError("must be a finite number")
    amount = _bounded(amount)
    if amount != amount.quantize(CENT):
        raise AmountError("must have at most 2 decimal places")
    return amount.quantize(CENT).copy_abs()  # -0.0 is 0.00


def _bounded(amount: int | Decimal) -> Decimal:
    """Compared, never computed with: ``abs()`` or ``quantize()`` overflow on 1E+1000000."""
    if amount < 0:
        raise AmountError("must not be negative (refund a payment instead)")
    if amount >= AMOUNT_LIMIT:
        raise AmountError(f"must be below {AMOUNT_LIMIT:,}")
    return amount


def to_cents(amount: Decimal) -> int:
    return int(amount.quantize(CENT) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def format_amount(amount: Decimal) -> str:
    return str(amount.quantize(CENT))
