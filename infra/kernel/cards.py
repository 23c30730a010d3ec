"""Card-number facts shared by the API (brand and last 4 on accept) and the processor's rules.

Standard library only, so the processor's domain layer may depend on it.
"""

from __future__ import annotations

import re

# Elo's BIN ranges (Brazil, 16 digits), as the card-type libraries publish them (e.g. Braintree's
# credit-card-type); several lie inside the broad visa, maestro, discover and unionpay ranges.
_ELO = (
    r"(?:40117[89]|431274|438935|451416|457393|45763[12]"
    r"|50(?:4175|6699|67[0-6]\d|677[0-8]|9\d{3})|627780|636297|636368"
    r"|650(?:03[1-35-9]|04\d|05[01]|40[5-9]|4[1-3]\d|48[5-9]|49\d|5[0-2]\d|53[0-8]|54[1-9]|5[5-8]\d"
    r"|59[0-8]|70\d|71[0-8]|72[0-7]|90[1-9]|9[1-6]\d|97[0-8])"
    r"|651(?:65[2-9]|6[67]\d)|6550(?:[01]\d|2[1-9]|[34]\d|5[0-8]))\d{10}"
)
# Hipercard: 606282 (16 or 19 digits) and 384100/384140/384160 (19 digits).
_HIPERCARD = r"(?:606282\d{10}(?:\d{3})?|3841[046]0\d{13})"

# Checked in order; the first match names the brand. Patterns follow the issuers' published IIN
# ranges. The narrow Brazilian ranges come first: after visa, diners, discover, unionpay or maestro
# they could never match, since those broad patterns claim every one of their numbers.
BRAND_PATTERNS: tuple[tuple[str, str], ...] = (
    ("elo", _ELO),
    ("hipercard", _HIPERCARD),
    ("amex", r"3[47]\d{13}"),
    ("diners", r"3(?:0[0-5]\d|095|[689]\d\d)\d{10,15}"),
    ("jcb", r"35(?:2[89]|[3-8]\d)\d{12,15}"),
    ("visa", r"4\d{12}(?:\d{3}){0,2}"),
    ("mastercard", r"(?:5[1-5]\d{2}|222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)\d{12}"),
    ("discover", r"6(?:011|5\d{2}|4[4-9]\d)\d{12,15}"),
    ("unionpay", r"62\d{14,17}"),
    ("maestro", r"(?:5[06-8]|6\d)\d{10,17}"),
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


# What the log masking (infra.runtime.redaction) hides as a possible card number, kept here so that
# the identifiers the services make (infra.kernel.identifiers) can stay clear of it.
#
# 12 to 19 digits, grouped by spaces, dashes or dots, several in a row too ("4111----1111", four spaces:
# the API accepts up to 32 characters of digits, spaces and dashes, so up to 16 separators in a row):
# every card number length in use. A separator run is never a digit, so each run matches one way only
# (no backtracking to speak of on hostile text).
CARD_LIKE_RUN = re.compile(r"(?<!\d)\d(?:[ \t.-]{0,16}\d){11,18}(?!\d)")
# The same on ASCII text (every JSON line json.dumps writes), where \d is [0-9], written to start
# with the digit: the engine then skips to the next digit instead of trying the look-behind at every
# character (2-2.5x faster on a 360-character access line; equal results: tests/unit/infra/runtime/test_redaction.py).
CARD_LIKE_RUN_ASCII = re.compile(r"[0-9](?<![0-9][0-9])(?:[ \t.-]{0,16}[0-9]){11,18}(?![0-9])")


def holds_card_like_run(text: str) -> bool:
    """Whether the log masking would hide part of ``text`` as a possible card number."""
    return (CARD_LIKE_RUN_ASCII if text.isascii() else CARD_LIKE_RUN).search(text) is not None
