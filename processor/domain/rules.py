"""The rules a transaction must pass, as named objects, in the order they are checked.

The messages are the original Go processor's (consumers match on them); the card-data, Luhn,
expiry-by-month, CVV and holder-name rules are later additions with messages of the same style.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from processor.domain.card import NOT_ENCRYPTED, UNDECRYPTABLE, CreditCard

MAX_AMOUNT = Decimal("1000")
MIN_AMOUNT = Decimal("1")


class Checked(Protocol):
    """What a rule reads of a transaction (``processor.domain.transaction.Transaction`` is one).

    Named here rather than imported, so the rules do not depend on the entity that applies them.
    Read-only properties: a rule never changes what it checks, and the entity is a named tuple
    (plain attributes here would ask for settable ones, which it does not have).
    """

    @property
    def card(self) -> CreditCard: ...

    @property
    def amount(self) -> Decimal | None: ...  # None when the input was not a number


class Rule:
    message: str

    def is_broken_by(self, transaction: Checked, now: datetime) -> bool:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class CardDataIsEncrypted(Rule):
    """Card fields in clear are refused unless ACCEPT_PLAINTEXT_CARDS lets an old producer send them."""

    message = "card data is not encrypted"

    def is_broken_by(self, transaction, now):
        return transaction.card.unreadable == NOT_ENCRYPTED


class CardDataCanBeDecrypted(Rule):
    """Unknown key id, tampered ciphertext, or a ciphertext moved from another transaction."""

    message = "card data could not be decrypted"

    def is_broken_by(self, transaction, now):
        return transaction.card.unreadable == UNDECRYPTABLE


class CardNumberMatchesABrandAndPassesLuhn(Rule):
    message = "invalid credit card number"

    def is_broken_by(self, transaction, now):
        return not transaction.card.has_valid_number()


class ExpirationMonthIsACalendarMonth(Rule):
    message = "invalid expiration month"

    def is_broken_by(self, transaction, now):
        month = transaction.card.expiration_month
        return month is None or not 1 <= month <= 12


class ExpirationYearIsNotPast(Rule):
    message = "invalid expiration year"

    def is_broken_by(self, transaction, now):
        year = transaction.card.expiration_year
        return year is None or year < now.year


class CardIsNotExpired(Rule):
    """Valid through the last day of its expiration month."""

    message = "credit card expired"

    def is_broken_by(self, transaction, now):
        card = transaction.card
        return (card.expiration_year, card.expiration_month) < (now.year, now.month)


class CvvHasTheBrandsLength(Rule):
    """Three digits; four for American Express."""

    message = "invalid credit card cvv"

    def is_broken_by(self, transaction, now):
        expected = 4 if transaction.card.brand == "amex" else 3
        return transaction.card.cvv_length != expected


class HolderNameIsNotBlank(Rule):
    message = "invalid credit card name"

    def is_broken_by(self, transaction, now):
        return not transaction.card.holder_name.strip()


class AmountIsWithinTheLimit(Rule):
    message = "you dont have limit for this transaction"

    def is_broken_by(self, transaction, now):
        return transaction.amount is not None and transaction.amount > MAX_AMOUNT


class AmountIsAtLeastOne(Rule):
    """A missing or non-numeric amount counts as zero, as in the original."""

    message = "the amount must be greater than 1"

    def is_broken_by(self, transaction, now):
        return transaction.amount is None or transaction.amount < MIN_AMOUNT


RULES: tuple[Rule, ...] = (
    CardDataIsEncrypted(),
    CardDataCanBeDecrypted(),
    CardNumberMatchesABrandAndPassesLuhn(),
    ExpirationMonthIsACalendarMonth(),
    ExpirationYearIsNotPast(),
    CardIsNotExpired(),
    CvvHasTheBrandsLength(),
    HolderNameIsNotBlank(),
    AmountIsWithinTheLimit(),
    AmountIsAtLeastOne(),
)
