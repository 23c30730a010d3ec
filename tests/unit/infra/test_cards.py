import pytest

from infra.cards import card_brand, last4, passes_luhn


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
        ("4111 1111 1111 1111", "visa"),
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
