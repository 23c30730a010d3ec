"""Masking of card-like data before anything reaches a log line, a DLQ message or an error."""
from __future__ import annotations

import re

# 12 to 19 digits, grouped the way the API accepts them: by spaces or dashes, also several in a row
# ("4111  1111", "4111 - 1111"). Every card number length in use.
_CARD_LIKE = re.compile(r"(?<!\d)(?:\d[ \t-]{0,3}){11,18}\d(?!\d)")
_CVV_FIELD = re.compile(r'("?(?:credit_card_)?cvv"?\s*[:=]\s*"?)(\d+)', re.IGNORECASE)


def mask_card_numbers(text: str) -> str:
    """Replace every card-like digit run with asterisks, keeping its last four digits."""
    return _CARD_LIKE.sub(_mask_match, _CVV_FIELD.sub(r"\1***", text))


def _mask_match(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "*" * (len(digits) - 4) + digits[-4:]
