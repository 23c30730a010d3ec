"""Decide a batch of refunds in order, store each decision once, publish the stored outcomes.

All refunds of one merchant travel on one partition of ``refunds`` (keyed by account), so one
consumer decides them one after the other; the repository's conditional update keeps the limit
even if two processors ever disagreed about who owns a partition.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from infra.kernel.clock import utc_now

from processor.domain.refunds import RefundOutcome, RefundRequest, decide_refund
from processor.use_cases.ports import RefundRepository, RefundResultPublisher, RefundSession


@dataclass(frozen=True)
class RefundBatch:
    outcomes: list[RefundOutcome]  # one per distinct refund id, in input order
    decided: list[RefundOutcome]  # the subset decided now (the others were stored before)


class ProcessRefunds:
    """Idempotent by refund id: a redelivered or replayed refund republishes its stored outcome."""

    def __init__(
        self, repository: RefundRepository, publisher: RefundResultPublisher, clock: Callable[[], datetime] = utc_now
    ):
        self._repository = repository
        self._publisher = publisher
        self._clock = clock

    def __call__(self, requests: Sequence[RefundRequest]) -> RefundBatch:
        now = self._clock()
        outcomes, decided = [], []
        with self._repository.session() as session:
            for request in _first_per_id(requests):
                stored = session.stored(request.id)
                outcome = stored or _decide_and_apply(session, request, now)
                outcomes.append(outcome)
                if stored is None:
                    decided.append(outcome)
        self._publisher.publish(outcomes)
        return RefundBatch(outcomes, decided)


def _decide_and_apply(session: RefundSession, request: RefundRequest, now: datetime) -> RefundOutcome:
    outcome = decide_refund(request, session.payment(request.transaction_id), now)
    if outcome.succeeded:
        assert outcome.amount is not None, "decide_refund gives a succeeded refund its amount"
        total = session.take(outcome.transaction_id, outcome.amount)
        if total is None:
            payment = session.payment(request.transaction_id)
            outcome = outcome.refused_by_ledger(payment.refunded if payment else outcome.amount_refunded)
    session.add(outcome)
    return outcome


def _first_per_id(requests: Sequence[RefundRequest]) -> list[RefundRequest]:
    seen: dict[str, RefundRequest] = {}
    for request in requests:
        seen.setdefault(request.id, request)
    return list(seen.values())
