"""The port through which the use case stores outcomes."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from processor.domain.transaction import Outcome


class TransactionRepository(ABC):
    @abstractmethod
    def add_new(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """Store, in one transaction, each outcome whose id is not stored yet.

        Returns the stored outcome for every given id, in the same order: the given one when it
        was new, the earlier one when the id was already there.
        """

    @abstractmethod
    def get(self, transaction_id: str) -> Outcome | None:
        """The stored outcome for ``transaction_id``, if any."""
