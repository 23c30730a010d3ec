"""Masking of card-like data before anything reaches a log line, a DLQ message or an error.

The last line of defence, so it errs on the side of masking: any digit run a card number could be
(12 to 19 digits grouped by spaces, dashes or dots), and any digits under a key that names a card
security code, however the key is spelled or quoted, also inside JSON that was escaped into a
string (a log line quoting a body) or escaped twice.
"""

from __future__ import annotations

import re

from infra.kernel.cards import CARD_LIKE_RUN, CARD_LIKE_RUN_ASCII

_NON_DIGITS = re.compile(r"\D")

# Keys naming a security code: cvv, cvv2, cvc, cvn, csc, security_code, securityCode,
# card_verification_value... with any prefix (credit_card_cvv: the match starts at the keyword).
# Every repetition is bounded: the text may be hostile (a DLQ payload), and an unbounded one lets a
# crafted 16 KiB message cost seconds of backtracking.
_CVV_KEY = r"(?:cvv|cvc|cvn|csc|security[_ -]?code|verification[_ -]?(?:value|code))\w{0,20}"
# A quote, possibly escaped once or more (\" in a JSON string, \\\" in one escaped twice).
_QUOTE = r"(?:\\{0,7}[\"'])?"
# The value may be inside a list ({"cvv": ["123"]}, nested a few times).
_CVV_FIELD = re.compile(
    rf"({_CVV_KEY}{_QUOTE}\s{{0,8}}[:=]\s{{0,8}}(?:\[\s{{0,8}}){{0,4}}{_QUOTE}\s{{0,8}})\d+", re.IGNORECASE
)
# JSON may spell a key with escapes ({"\u0063vv": "123"} is {"cvv": "123"}), escaped again in a log
# line quoting it: letters, digits, "_" and "-" written so are put back before looking for keys.
_ESCAPED_WORD_CHAR = re.compile(r"\\{1,8}u00(3[0-9]|4[1-9a-fA-F]|5[0-9aA]|5[fF]|6[1-9a-fA-F]|7[0-9aA]|2[dD])")


# Every _CVV_FIELD match contains one of these words once the text is folded (below). Searching
# for them is ~10x cheaper than the case-insensitive pattern, which was most of the cost of a JSON
# log line (one per API request): the pattern runs only on text that has one.
_CVV_WORDS = ("cvv", "cvc", "cvn", "csc", "security", "verification")
# The only characters outside ASCII that re.IGNORECASE matches to a letter of those words
# (tests/unit/infra/runtime/test_redaction.py checks it over every code point): İ and ı match i, ſ matches s.
_FOLD_TO_ASCII = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s"})


def mask_card_numbers(text: str) -> str:
    """Replace card-like digit runs with asterisks (keeping the last four) and CVV values with ``***``."""
    if "u00" in text:
        text = _ESCAPED_WORD_CHAR.sub(lambda match: chr(int(match.group(1), 16)), text)
    if may_name_a_cvv(text):
        text = _CVV_FIELD.sub(r"\1***", text)
    return (CARD_LIKE_RUN_ASCII if text.isascii() else CARD_LIKE_RUN).sub(_mask_match, text)


def may_name_a_cvv(text: str) -> bool:
    """False only when no key naming a security code can be in ``text``."""
    folded = (text if text.isascii() else text.translate(_FOLD_TO_ASCII)).lower()  # the table maps non-ASCII only
    return any(word in folded for word in _CVV_WORDS)


def _mask_match(match: re.Match[str]) -> str:
    run = match.group(0)
    if _is_ip_like(run):
        return run
    digits = _NON_DIGITS.sub("", run)
    return "*" * (len(digits) - 4) + digits[-4:]


def _is_ip_like(run: str) -> bool:
    """Dotted groups of at most 3 digits each (192.168.100.200): no card is written like that.
    (Amounts never get here: the API refuses 1,000,000,000 and above, 11 digits with the cents.)"""
    groups = run.split(".")
    return len(groups) > 1 and all(len(_NON_DIGITS.sub("", group)) <= 3 for group in groups)
