import pytest

from processor.domain.card import CreditCard


def test_card_repr_hides_number_and_the_card_holds_no_cvv():
    card = CreditCard.of("4111111111111111", "Ada", 12, 2030, 3)
    assert "4111111111111111" not in repr(card) and not hasattr(card, "cvv")
    assert "1111" in repr(card) and "visa" in repr(card)


@pytest.mark.parametrize("number, last4", [("4111 1111 1111 1234", "1234"), ("abc", None), ("12", None)])
def test_last4_only_from_digits(number, last4):
    assert CreditCard.of(number, "Ada", 1, 2030, 3).last4 == last4


@pytest.mark.parametrize(
    "number",
    [
        "\u0664\u0661\u0661\u0661" * 4,  # Arabic-Indic digits: isdigit() but not ASCII
        "\uff14\uff11\uff11\uff11" * 4,  # fullwidth digits
        "4111111111111111\u00b2",  # a superscript two
        "4" * 100_000,  # huge
        "\U0001f4b3" * 16,
        "4111\x001111\x0011111111",
        "",
    ],
    ids=["arabic-indic", "fullwidth", "superscript", "huge", "emoji", "nul", "empty"],
)
def test_a_hostile_card_number_gets_no_brand_and_fails_the_number_rule(number):
    card = CreditCard.of(number, "Ada", 12, 2030, 3)
    assert card.brand is None and not card.has_valid_number()
    assert card.last4 == ("4" * 4 if number == "4" * 100_000 else None)
    assert number not in repr(card) or not number
