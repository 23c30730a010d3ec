"""What the use case needs from the outside world, as abstract classes the adapters implement."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from decimal import Decimal

from processor.domain.refunds import Payment, RefundOutcome
from processor.domain.transaction import Outcome


class TransactionRepository(ABC):
    """Where outcomes are stored."""

    @abstractmethod
    def add_new(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """Store, in one transaction, each outcome whose id is not stored yet.

        Returns the stored outcome for every given id, in the same order: the given one when it
        was new, the earlier one when the id was already there.
        """

    @abstractmethod
    def get(self, transaction_id: str) -> Outcome | None:
        """The stored outcome for ``transaction_id``, if any."""


class ResultPublisher(ABC):
    @abstractmethod
    def publish(self, outcomes: Sequence[Outcome]) -> None:
        """Return only once every outcome is durably published; raise otherwise."""


class RefundSession(ABC):
    """One DB transaction of the refund repository: every refund of a batch is decided inside it."""

    @abstractmethod
    def stored(self, refund_id: str) -> RefundOutcome | None:
        """The outcome stored for ``refund_id`` by an earlier batch, if any."""

    @abstractmethod
    def payment(self, transaction_id: str) -> Payment | None:
        """The payment as stored, with what was refunded of it so far."""

    @abstractmethod
    def take(self, transaction_id: str, amount: Decimal) -> Decimal | None:
        """Add ``amount`` to the payment's refunded total in one atomic conditional update.

        Returns the new total, or None (nothing changed) when it would exceed the approved amount:
        the database's guarantee, whatever the caller read before.
        """

    @abstractmethod
    def add(self, outcome: RefundOutcome) -> None:
        """Store the decision; raises if the id was stored meanwhile (the batch is then retried)."""


class RefundRepository(ABC):
    @abstractmethod
    def session(self) -> AbstractContextManager[RefundSession]:
        """A DB transaction: committed when the block ends, rolled back when it raises."""


class RefundResultPublisher(ABC):
    @abstractmethod
    def publish(self, outcomes: Sequence[RefundOutcome]) -> None:
        """Return only once every outcome is durably published; raise otherwise."""
