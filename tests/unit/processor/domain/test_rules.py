"""Every rule, in the order the processor applies them, with its boundaries."""

from datetime import datetime
from decimal import Decimal

import pytest

from processor.domain.card import NOT_ENCRYPTED, UNDECRYPTABLE, CreditCard
from processor.domain.money import to_money
from processor.domain.rules import RULES
from processor.domain.transaction import Transaction

NOW = datetime(2026, 6, 15, 12, 0, 0)
VISA = "4111111111111111"
AMEX = "378282246310005"
GOOD = dict(number=VISA, name="Ada Lovelace", month=12, year=2030, cvv_length=3, amount="10.00")


def decide(**changes):
    fields = GOOD | changes
    card = CreditCard.of(
        fields["number"],
        fields["name"],
        fields["month"],
        fields["year"],
        fields["cvv_length"],
        fields.get("unreadable"),
    )
    return Transaction("tx-1", "acct-1", to_money(fields["amount"]), card, None).decide(NOW)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({}, ""),
        ({"number": "4111111111111112"}, "invalid credit card number"),  # fails Luhn
        ({"number": "1234567890123452"}, "invalid credit card number"),  # no brand
        ({"number": ""}, "invalid credit card number"),
        ({"number": "4111-1111-1111-1111"}, ""),
        ({"month": 0}, "invalid expiration month"),
        ({"month": 13}, "invalid expiration month"),
        ({"month": None}, "invalid expiration month"),
        ({"month": 1, "year": 2027}, ""),
        ({"year": 2025}, "invalid expiration year"),
        ({"year": None}, "invalid expiration year"),
        ({"year": 2026, "month": 5}, "credit card expired"),
        ({"year": 2026, "month": 6}, ""),
        ({"cvv_length": 2}, "invalid credit card cvv"),
        ({"cvv_length": 4}, "invalid credit card cvv"),
        ({"cvv_length": None}, "invalid credit card cvv"),  # the value was no run of digits
        ({"number": AMEX, "cvv_length": 4}, ""),
        ({"number": AMEX, "cvv_length": 3}, "invalid credit card cvv"),
        ({"name": "   "}, "invalid credit card name"),
        ({"name": ""}, "invalid credit card name"),
        ({"amount": "1000.00"}, ""),
        ({"amount": "1000.01"}, "you dont have limit for this transaction"),
        ({"amount": "999999999.99"}, "you dont have limit for this transaction"),
        ({"amount": "1e12"}, "the amount must be greater than 1"),  # not money: counts as zero
        ({"amount": "1E+1000000"}, "the amount must be greater than 1"),
        ({"amount": "1.00"}, ""),
        ({"amount": 1}, ""),
        ({"amount": "0.99"}, "the amount must be greater than 1"),
        ({"amount": 0}, "the amount must be greater than 1"),
        ({"amount": "-5"}, "the amount must be greater than 1"),
        ({"amount": "abc"}, "the amount must be greater than 1"),
        ({"amount": None}, "the amount must be greater than 1"),
        # Card fields that could not be read arrive empty; their own reason comes first.
        (
            {"unreadable": NOT_ENCRYPTED, "number": "", "cvv_length": None, "name": "", "month": None, "year": None},
            "card data is not encrypted",
        ),
        (
            {"unreadable": UNDECRYPTABLE, "number": "", "cvv_length": None, "name": "", "month": None, "year": None},
            "card data could not be decrypted",
        ),
    ],
)
def test_applies_each_rule_with_its_message(changes, message):
    outcome = decide(**changes)
    assert outcome.error_message == message
    assert outcome.status == ("approved" if message == "" else "rejected")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"number": "4111111111111112", "month": 13, "amount": "5000"}, "invalid credit card number"),
        ({"month": 13, "year": 2020}, "invalid expiration month"),
        ({"year": 2020, "cvv_length": 1}, "invalid expiration year"),
        ({"year": 2026, "month": 1, "cvv_length": 1}, "credit card expired"),
        ({"cvv_length": 1, "name": ""}, "invalid credit card cvv"),
        ({"name": "", "amount": "5000"}, "invalid credit card name"),
        ({"unreadable": UNDECRYPTABLE, "amount": "5000"}, "card data could not be decrypted"),
    ],
)
def test_the_first_broken_rule_names_the_rejection(changes, message):
    assert decide(**changes).error_message == message


def test_rules_are_checked_in_the_documented_order():
    assert [rule.message for rule in RULES] == [
        "card data is not encrypted",
        "card data could not be decrypted",
        "invalid credit card number",
        "invalid expiration month",
        "invalid expiration year",
        "credit card expired",
        "invalid credit card cvv",
        "invalid credit card name",
        "you dont have limit for this transaction",
        "the amount must be greater than 1",
    ]


def test_outcome_keeps_brand_and_last4_but_never_the_number():
    outcome = decide(number="5555555555554444", amount="10.5")
    assert (outcome.card_brand, outcome.card_last4, outcome.amount) == ("mastercard", "4444", Decimal("10.50"))
    assert "5555555555554444" not in repr(outcome)


def test_an_amount_beyond_the_money_rule_is_rejected_and_stored_without_amount():
    outcome = decide(amount="123456789012")
    assert outcome.error_message == "the amount must be greater than 1" and outcome.amount is None


@pytest.mark.parametrize(
    "number, brand",
    [("6362970000457013", "elo"), ("6062826786276634", "hipercard"), ("3841001111222233338", "hipercard")],
)
def test_elo_and_hipercard_cards_are_approved_under_their_own_brand(number, brand):
    outcome = decide(number=number)
    assert (outcome.status, outcome.card_brand, outcome.card_last4) == ("approved", brand, number[-4:])
