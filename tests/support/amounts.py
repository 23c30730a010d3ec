"""One table of amounts for every place that reads one: the parser, the OpenAPI pattern, the API, the processor."""

from decimal import Decimal

# (text, the amount it is, or None when it is not money)
AMOUNT_TEXTS = [
    ("10.50", Decimal("10.50")),
    ("7", Decimal("7.00")),
    ("0.5", Decimal("0.50")),
    ("0", Decimal("0.00")),
    ("1000.00", Decimal("1000.00")),
    ("999999999.99", Decimal("999999999.99")),
    ("000000001", Decimal("1.00")),
    ("1E+1000000", None),
    ("1e3", None),
    ("1E+3", None),
    ("1_000", None),
    ("\u0661\u0660.\u0665\u0660", None),
    ("\uff11\uff10", None),
    ("+10.50", None),
    (" 10.50 ", None),
    ("10.50\n", None),
    ("\t7", None),
    ("-1", None),
    ("-0.01", None),
    ("10.555", None),
    ("0.001", None),
    ("1000000000", None),
    ("0000000001", None),
    (".5", None),
    ("10.", None),
    ("", None),
    ("NaN", None),
    ("Infinity", None),
    ("1,000.00", None),
    ("10 .50", None),
    ("0x10", None),
    ("ten", None),
]

# JSON numbers: accepted with at most 2 decimals (the pattern is for strings only).
AMOUNT_NUMBERS = [
    (10.5, Decimal("10.50")),
    (10, Decimal("10.00")),
    (0, Decimal("0.00")),
    (999999999.99, Decimal("999999999.99")),
    (-1, None),
    (-0.5, None),
    (10.555, None),
    (1e9, None),
    (10**30, None),
    (1e-05, None),
    (True, None),
]
