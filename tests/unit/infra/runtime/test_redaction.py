"""infra.runtime.redaction: what a log line or a DLQ payload may carry, masked; what it must keep, kept."""

import json
import logging

import pytest

from infra.runtime.logs import JsonFormatter
from infra.runtime.redaction import mask_card_numbers

MASKED = [
    # (case, text, expected)
    ("plain number", "card 4111111111111111 declined", "card ************1111 declined"),
    ("spaced number", "card 4111 1111 1111 1111", "card ************1111"),
    ("dashed number", "card 4111-1111-1111-1111", "card ************1111"),
    ("double spaces, as the API accepts them", "card 4111  1111  1111  1111", "card ************1111"),
    ("spaced dashes", "card 4111 - 1111 - 1111 - 1111.", "card ************1111."),
    ("a tab", "card 4111\t1111 1111 1111", "card ************1111"),
    ("dotted number", "card 4111.1111.1111.1111 ok", "card ************1111 ok"),
    ("dotted amex", "amex 3782.822463.10005", "amex ***********0005"),
    ("a number after a version", "v1.4111111111111111", "v*************1111"),
    ("a number after an IP-like prefix", "10.1.4111.1111.1111.1111", "***************1111"),
    ("cvv field", '{"credit_card_cvv": "123"}', '{"credit_card_cvv": "***"}'),
    ("cvv with a leading space", '{"cvv": " 123"}', '{"cvv": " ***"}'),
    ("cvv with spaces around", '{"cvv": "  1234 "}', '{"cvv": "  *** "}'),
    ("cvv as a JSON number", '{"credit_card_cvv": 123}', '{"credit_card_cvv": ***}'),
    ("security_code", '{"security_code": "123"}', '{"security_code": "***"}'),
    ("securityCode", '{"securityCode":"0123"}', '{"securityCode":"***"}'),
    ("cvc", '{"card_cvc": "321"}', '{"card_cvc": "***"}'),
    ("cvv2 in a form", "cvv2=987&name=x", "cvv2=***&name=x"),
    ("card verification value", '"card_verification_value": "555"', '"card_verification_value": "***"'),
    ("python repr", "{'cvv': '123', 'x': 1}", "{'cvv': '***', 'x': 1}"),
    ("escaped JSON in a log string", r'"msg": "body {\"cvv\": \"123\"}"', r'"msg": "body {\"cvv\": \"***\"}"'),
    ("escaped twice", r"{\\\"cvv\\\": \\\" 123\\\"}", r"{\\\"cvv\\\": \\\" ***\\\"}"),
    ("five digits under a cvv key", '{"cvv": "12345"}', '{"cvv": "***"}'),
    ("uppercase key", '{"CVV": "123"}', '{"CVV": "***"}'),
    # re.IGNORECASE matches these letters to ASCII ones: so must the cheap check in front of the pattern.
    ("a long s in the key", '{"cſc": "123"}', '{"cſc": "***"}'),
    ("a dotted capital I in the key", '{"verİfication_code": "123"}', '{"verİfication_code": "***"}'),
    ("a dotless i in the key", '{"securıty_code": "123"}', '{"securıty_code": "***"}'),
    ("mixed case", '{"SeCuRiTy-Code": "123"}', '{"SeCuRiTy-Code": "***"}'),
    # What the API accepts (up to 32 digits, spaces and dashes): long separator runs.
    ("four dashes", "card 4111----1111----1111----1111", "card ************1111"),
    ("four spaces", "card 4111    1111    1111    1111", "card ************1111"),
    ("sixteen separators", "4" + " " * 16 + "111111111111111", "************1111"),
    ("a key spelled with JSON escapes", r'{"\u0063vv":"123"}', '{"cvv":"***"}'),
    ("escaped keys escaped again", r"{\"\\u0063\\u0076v\":\"123\"}", r"{\"cvv\":\"***\"}"),
    ("a cvv in a list", '{"cvv":["123"]}', '{"cvv":["***"]}'),
    ("a cvv in nested lists", '{"cvv": [ [ "123" ] ]}', '{"cvv": [ [ "***" ] ]}'),
]

KEPT = [
    ("short numbers", "order 12345 of 2024"),
    ("an IP address", "peer 192.168.100.200:9092"),
    ("the largest amount", "amount 999999999.99 refused"),
    ("a timestamp", "2026-11-23T10:00:00.123456Z"),
    ("a date and a time", "2026.11.23 10:00:00"),
    ("an unrelated key", '{"code": "123", "count": 1234}'),
]


@pytest.mark.parametrize("case, text, expected", MASKED, ids=[case[0] for case in MASKED])
def test_masks_card_numbers_and_cvvs_in_every_spelling(case, text, expected):
    assert mask_card_numbers(text) == expected


@pytest.mark.parametrize("case, text", KEPT, ids=[case[0] for case in KEPT])
def test_keeps_what_is_not_card_data(case, text):
    assert mask_card_numbers(text) == text


def test_a_log_line_quoting_a_request_body_carries_no_cvv_and_no_number():
    body = json.dumps({"credit_card": {"number": "4111.1111.1111.1111", "cvv": " 987"}, "security_code": "654"})
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "echo %s", (body,), None)
    record.body = body
    line = JsonFormatter("test").format(record)
    entry = json.loads(line)
    # The fields the body went into, not the whole line: its time and pid may hold "987" by chance.
    quoted = entry["msg"] + entry["body"]
    assert "4111.1111.1111.1111" not in line and "987" not in quoted and "654" not in quoted
    assert entry["msg"].startswith("echo ")


def test_the_cheap_check_lets_through_every_character_the_pattern_folds_to_a_letter_of_its_keys():
    """may_name_a_cvv skips the CVV pattern when none of its words is in the text: for that to mask
    no less than the pattern, every character that re.IGNORECASE matches to a letter of those words
    must fold to that letter."""
    import re
    import sys

    from infra.runtime.redaction import _CVV_WORDS, may_name_a_cvv

    letters = set("".join(_CVV_WORDS))
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    candidates = set(re.findall(f"[{''.join(letters)}]", everything, re.IGNORECASE)) - letters
    assert {"C", "V", "\u017f", "\u0130", "\u0131"} <= candidates  # the check itself finds what it must
    for character in candidates:
        for letter in letters:
            if re.fullmatch(letter, character, re.IGNORECASE):
                for word in _CVV_WORDS:
                    if letter in word:
                        spelled = word.replace(letter, character, 1)
                        assert may_name_a_cvv(spelled), f"{spelled!r} ({hex(ord(character))}) would skip the pattern"


def test_text_without_a_cvv_key_skips_the_pattern_and_keeps_its_numbers_masked():
    from infra.runtime.redaction import may_name_a_cvv

    line = '{"msg": "request", "route": "/v1/transactions", "card": "4111111111111111", "code": "123"}'
    assert not may_name_a_cvv(line)
    assert mask_card_numbers(line) == line.replace("4111111111111111", "************1111")


@pytest.mark.parametrize(
    "hostile", ["cvv" * 5500, "a" * 8000 + "-" * 8000, '"cvv":' + " " * 16000, "security_code" * 1300, "1." * 8000]
)
def test_hostile_text_is_masked_in_linear_time(hostile):
    """A DLQ payload is whatever someone wrote to the topic (up to the broker's message size). With an
    unbounded repetition the masking of 16 KiB took seconds (quadratic backtracking); a margin of
    ~100x over the measured few milliseconds keeps this from being a timing test of the machine."""
    import time

    started = time.perf_counter()
    mask_card_numbers(hostile)
    assert time.perf_counter() - started < 2.0


def test_the_ascii_pattern_finds_exactly_what_the_general_one_finds_in_ascii_text():
    """mask_card_numbers takes the faster pattern on ASCII text (every JSON line): same runs, same spans."""
    from random import Random

    from infra.kernel.cards import CARD_LIKE_RUN, CARD_LIKE_RUN_ASCII

    rnd, alphabet = Random(25), '0123456789 \t.-a_:"'
    for _ in range(50_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 80)))
        assert [m.span() for m in CARD_LIKE_RUN_ASCII.finditer(text)] == [
            m.span() for m in CARD_LIKE_RUN.finditer(text)
        ], text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("card 4111111111111111 declined", "card ************1111 declined"),
        ("card 4111 1111 1111 1111", "card ************1111"),
        ('{"credit_card_cvv": "123"}', '{"credit_card_cvv": "***"}'),
        ("order 12345 of 2024", "order 12345 of 2024"),
    ],
)
def test_masks_card_like_digit_runs_and_cvvs(text, expected):
    assert mask_card_numbers(text) == expected
