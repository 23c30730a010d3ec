"""Decide a batch of transactions, store each decision once, publish the stored outcomes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from infra.kernel.clock import utc_now

from processor.domain.card import CreditCard
from processor.domain.transaction import Outcome, Transaction
from processor.use_cases.ports import ResultPublisher, TransactionRepository


@dataclass(slots=True)
class TransactionInput:
    """One transaction as received, already coerced to plain types (None = missing or not parseable)."""

    id: str
    account_id: str
    amount: Decimal | None
    card_number: str = field(repr=False)
    card_name: str = field(repr=False)
    expiration_month: int | None
    expiration_year: int | None
    cvv_length: int | None  # digits of the CVV; the value itself never reaches the processor
    created_at: datetime | None  # naive UTC
    card_unreadable: str | None = None  # why the card fields are empty (processor.domain.card)

    def to_transaction(self) -> Transaction:
        card = CreditCard.of(
            self.card_number,
            self.card_name,
            self.expiration_month,
            self.expiration_year,
            self.cvv_length,
            self.card_unreadable,
        )
        return Transaction(self.id, self.account_id, self.amount, card, self.created_at)


@dataclass(frozen=True)
class ProcessedBatch:
    outcomes: list[Outcome]  # one per distinct id, in input order
    decided: list[Outcome]  # the subset decided now (the others were stored before)


class ProcessTransactions:
    """Idempotent: an id stored before keeps its stored outcome; never a second row or a new status."""

    def __init__(
        self, repository: TransactionRepository, publisher: ResultPublisher, clock: Callable[[], datetime] = utc_now
    ):
        self._repository = repository
        self._publisher = publisher
        self._clock = clock

    def __call__(self, inputs: Sequence[TransactionInput]) -> ProcessedBatch:
        now = self._clock()
        fresh = [item.to_transaction().decide(now) for item in _first_per_id(inputs)]
        outcomes = self._repository.add_new(fresh) if fresh else []
        self._publisher.publish(outcomes)
        decided = [stored for stored, new in zip(outcomes, fresh) if stored is new or stored == new]
        return ProcessedBatch(outcomes, decided)


def _first_per_id(inputs: Sequence[TransactionInput]) -> list[TransactionInput]:
    """A batch may carry the same id twice (a producer retry): the first occurrence decides."""
    seen: dict[str, TransactionInput] = {}
    for item in inputs:
        seen.setdefault(item.id, item)
    return list(seen.values())
