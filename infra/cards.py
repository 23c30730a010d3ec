"""Card-number facts shared by the API (brand and last 4 on accept) and the processor's rules.

Standard library only, so the processor's domain layer may depend on it.
"""
from __future__ import annotations

import re

# Checked in order; the first match names the brand. Patterns follow the issuers' published IIN ranges.
BRAND_PATTERNS: tuple[tuple[str, str], ...] = (
    ("amex", r"3[47]\d{13}"),
    ("diners", r"3(?:0[0-5]\d|095|[689]\d\d)\d{10,15}"),
    ("jcb", r"35(?:2[89]|[3-8]\d)\d{12,15}"),
    ("visa", r"4\d{12}(?:\d{3}){0,2}"),
    ("mastercard", r"(?:5[1-5]\d{2}|222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)\d{12}"),
    ("discover", r"6(?:011|5\d{2}|4[4-9]\d)\d{12,15}"),
    ("unionpay", r"62\d{14,17}"),
    ("maestro", r"(?:5[06-8]|6\d)\d{10,17}"),
    ("elo", r"(?:4011(?:78|79)|43(?:1274|8935)|45(?:1416|7393|763(?:1|2))|50(?:4175|6699|67[0-7][0-9]|9000)|627780|63(?:6297|6368)|650(?:03([^4])|04([0-9])|05(0|1)|4(0[5-9]|3[0-9]|8[5-9]|9[0-9])|5([0-2][0-9]|3[0-8])|9([2-6][0-9]|7[0-8])|541|700|720|901)|651652|655000|655021)\d{10}"),
    ("hipercard", r"(?:606282\d{10}(?:\d{3})?|3841\d{15})"),
)
# All brands in one pattern, one named group each: a full match of an alternation is the first
# alternative, in order, that matches the whole number, so one regex run names the brand.
_ANY_BRAND = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in BRAND_PATTERNS))
_NON_DIGITS = re.compile(r"[ -]")


def normalize_number(number: str) -> str:
    """Drop the spaces and dashes people type between digit groups."""
    if " " not in number and "-" not in number:  # the usual case, without running the regex
        return number
    return _NON_DIGITS.sub("", number)


def card_brand(number: str) -> str | None:
    """The brand whose pattern matches the whole (normalized) number, or None."""
    digits = normalize_number(number)
    if not digits.isdigit():
        return None
    match = _ANY_BRAND.fullmatch(digits)
    # lastgroup is the group that closed last: the brand's own, whatever groups its pattern holds.
    return match.lastgroup if match else None


def passes_luhn(number: str) -> bool:
    digits = normalize_number(number)
    if not digits.isdigit() or not digits.isascii():
        return False
    # From the right, every second digit is doubled (and its digits summed): a table lookup in C.
    reversed_digits = digits[::-1]
    doubled = reversed_digits[1::2].translate(_DOUBLED)
    # The digits are ASCII: the sum of their bytes, less 48 ("0") each, is the sum of the digits.
    kept_and_doubled = (reversed_digits[0::2] + doubled).encode()
    return (sum(kept_and_doubled) - 48 * len(kept_and_doubled)) % 10 == 0


_DOUBLED = str.maketrans("0123456789", "0246813579")


def last4(number: str) -> str:
    return normalize_number(number)[-4:]
