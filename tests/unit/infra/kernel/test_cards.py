import random
import re

import pytest

from infra.kernel.cards import BRAND_PATTERNS, card_brand, last4, passes_luhn


@pytest.mark.parametrize(
    "number, brand",
    [
        ("4111111111111111", "visa"),
        ("4222222222222", "visa"),
        ("5555555555554444", "mastercard"),
        ("2221000000000009", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("30569309025904", "diners"),
        ("3530111333300000", "jcb"),
        ("6200000000000005", "unionpay"),
        ("6304000000000000", "maestro"),
        ("6362970000457013", "elo"),  # BIN 636297: inside maestro's 6x range
        ("5067224275805500", "elo"),  # 506722: inside maestro's 50
        ("4011780000000006", "elo"),  # 401178: inside visa's 4
        ("6504871234123414", "elo"),  # 650487: inside discover's 65
        ("6277801111222232", "elo"),  # 627780: inside unionpay's 62
        ("6062826786276634", "hipercard"),  # 606282: inside maestro's 6x
        ("6062821111222233336", "hipercard"),
        ("3841001111222233338", "hipercard"),  # 384100: inside diners' 38
        ("4111 1111 1111 1111", "visa"),
        ("6362 9700 0045 7013", "elo"),
        ("1234567890123456", None),
        ("41111111111x1111", None),
        ("", None),
    ],
)
def test_names_the_brand_from_the_number(number, brand):
    assert card_brand(number) == brand


@pytest.mark.parametrize("number, valid", [("4111111111111111", True), ("4111111111111112", False), ("", False)])
def test_luhn_check(number, valid):
    assert passes_luhn(number) is valid


def test_last4_ignores_separators():
    assert last4("4111-1111-1111-1234") == "1234"


def _first_brand_one_pattern_at_a_time(number: str) -> str | None:
    for name, pattern in BRAND_PATTERNS:
        if re.fullmatch(pattern, number):
            return name
    return None


def test_one_combined_pattern_names_the_same_brand_as_trying_each_in_order():
    rng = random.Random(7)
    prefixes = [
        "3",
        "30",
        "309",
        "34",
        "35",
        "36",
        "38",
        "4",
        "4011",
        "431274",
        "50",
        "5067",
        "51",
        "56",
        "6",
        "60",
        "6011",
        "606282",
        "62",
        "627780",
        "64",
        "65",
        "6500",
        "650031",
        "650041",
        "2221",
        "2720",
        "27",
        "3841",
        "384140",
        "1",
        "7",
        "9",
    ]
    numbers = [
        prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix)))
        for prefix in prefixes
        for length in range(max(len(prefix), 11), 21)
        for _ in range(20)
    ]
    assert {card_brand(n) for n in numbers} >= {name for name, _ in BRAND_PATTERNS}
    for number in numbers:
        assert card_brand(number) == _first_brand_one_pattern_at_a_time(number), number


@pytest.mark.parametrize(
    "number", ["4111111111111111", "378282246310005", "5555555555554444", "6011111111111117", "79927398713", "0", "00"]
)
def test_luhn_agrees_with_the_textbook_algorithm(number):
    for candidate in (number, number[:-1] + str((int(number[-1]) + 1) % 10)):
        digits = [int(d) for d in reversed(candidate)]
        total = sum(digits[0::2]) + sum(sum(divmod(2 * d, 10)) for d in digits[1::2])
        assert passes_luhn(candidate) is (total % 10 == 0)


# Elo's published BIN ranges (first six digits, inclusive; every Elo number has 16 digits).
ELO_BIN_RANGES = [
    (401178, 401179),
    (431274, 431274),
    (438935, 438935),
    (451416, 451416),
    (457393, 457393),
    (457631, 457632),
    (504175, 504175),
    (506699, 506778),
    (509000, 509999),
    (627780, 627780),
    (636297, 636297),
    (636368, 636368),
    (650031, 650033),
    (650035, 650051),
    (650405, 650439),
    (650485, 650538),
    (650541, 650598),
    (650700, 650718),
    (650720, 650727),
    (650901, 650978),
    (651652, 651679),
    (655000, 655019),
    (655021, 655058),
]
ELO_BINS = {bin_ for first, last in ELO_BIN_RANGES for bin_ in range(first, last + 1)}


def with_check_digit(partial: str) -> str:
    """``partial`` completed with the digit that makes it pass the Luhn check."""
    return next(partial + digit for digit in "0123456789" if passes_luhn(partial + digit))


def test_every_elo_bin_is_elo_and_its_neighbours_are_not():
    checked = {bin_ for first, last in ELO_BIN_RANGES for bin_ in range(first - 3, last + 4)}
    brands = {bin_: card_brand(with_check_digit(f"{bin_}123456789")) for bin_ in checked}
    assert {bin_ for bin_, brand in brands.items() if brand == "elo"} == ELO_BINS
    assert len(checked - ELO_BINS) > 40  # the neighbours just outside the ranges were checked too


@pytest.mark.parametrize(
    "bin_, lengths", [("606282", (16, 19)), ("384100", (19,)), ("384140", (19,)), ("384160", (19,))]
)
def test_hipercard_bins_are_hipercard_at_their_lengths(bin_, lengths):
    for length in range(12, 20):
        number = with_check_digit(bin_ + "7" * (length - len(bin_) - 1))
        assert (card_brand(number) == "hipercard") is (length in lengths), number
