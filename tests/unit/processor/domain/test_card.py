import pytest

from processor.domain.card import CreditCard


def test_card_repr_hides_number_and_the_card_holds_no_cvv():
    card = CreditCard.of("4111111111111111", "Ada", 12, 2030, 3)
    assert "4111111111111111" not in repr(card) and not hasattr(card, "cvv")
    assert "1111" in repr(card) and "visa" in repr(card)


@pytest.mark.parametrize("number, last4", [("4111 1111 1111 1234", "1234"), ("abc", None), ("12", None)])
def test_last4_only_from_digits(number, last4):
    assert CreditCard.of(number, "Ada", 1, 2030, 3).last4 == last4
