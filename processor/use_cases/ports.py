"""What the use case needs from the outside world, as abstract classes the adapters implement."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

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
