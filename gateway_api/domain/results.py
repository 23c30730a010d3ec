"""The rules for applying the processor's decisions to the ledger (``use_cases/apply_results.py``).

* **The first result wins**: the processor decides an id once. A result repeated in a batch (a producer
  retry) or redelivered in a later one changes nothing: the first one decided.
* **A final status is never overwritten**: a result decides a row only while it is pending, or creates
  the row the API never wrote (``may_decide``). The ledger's conditional ``UPDATE ... WHERE status =
  'pending'`` is this rule in SQL, the one guard that also holds against a second consumer applying a
  result at the same moment (after a rebalance).
* **One event per decided row**: exactly the rows a write made final get their event (and its webhook
  deliveries), in the same DB transaction; a row found final, or decided by someone else, gets none.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from gateway_api.domain.refunds import REFUND_PENDING
from gateway_api.domain.transactions import STATUS_PENDING


class _Identified(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_Identified)


def first_result_wins(results: Iterable[R]) -> list[R]:
    """The first result of each id, in the order they came."""
    first: dict[str, R] = {}
    for result in results:
        first.setdefault(result.id, result)
    return list(first.values())


def may_decide(status: str | None) -> bool:
    """Whether a result may decide a row whose status is ``status`` (None: there is no row yet)."""
    return status is None or status in (STATUS_PENDING, REFUND_PENDING)
