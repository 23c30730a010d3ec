"""What the use case needs from the outside world, as abstract classes the adapters implement."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from processor.domain.transaction import Outcome


class ResultPublisher(ABC):
    @abstractmethod
    def publish(self, outcomes: Sequence[Outcome]) -> None:
        """Return only once every outcome is durably published; raise otherwise."""
