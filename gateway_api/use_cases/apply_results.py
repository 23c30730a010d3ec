"""Apply the processor's decisions to the ledger: each batch of results in one DB transaction.

The rules are ``gateway_api.domain.results``': the first result of an id wins; a final status is never
overwritten; one event per decided row. The ledger decides the rows with one set-based write whose
condition is the second rule (the only guard that holds against another consumer writing at the same
moment) and answers with the rows that write made final; their events are recorded in the same DB
transaction (the outbox), so no decided row is without its event and none has two.
"""

from __future__ import annotations

from collections.abc import Sequence

from infra.kernel.contracts import FINAL_STATUSES, RefundResult, TransactionResult

from gateway_api.domain.refunds import Refund
from gateway_api.domain.results import first_result_wins
from gateway_api.domain.transactions import Transaction
from gateway_api.use_cases.ports import ResultLedger


class ApplyResults:
    """``transactions_result``: approvals and rejections. Returns the transactions it made final."""

    def __init__(self, ledger: ResultLedger[TransactionResult, Transaction]):
        self._ledger = ledger

    def __call__(self, results: Sequence[TransactionResult]) -> list[Transaction]:
        first = first_result_wins(result for result in results if result.status in FINAL_STATUSES)
        if not first:
            return []
        with self._ledger.deciding() as batch:
            decided = batch.decide(first)
            batch.record_events(decided)
        return decided


class ApplyRefundResults:
    """``refunds_result``: refunds succeeded or failed. Returns the refunds it made final."""

    def __init__(self, refunds: ResultLedger[RefundResult, Refund]):
        self._refunds = refunds

    def __call__(self, results: Sequence[RefundResult]) -> list[Refund]:
        first = first_result_wins(results)
        if not first:
            return []
        with self._refunds.deciding() as batch:
            decided = batch.decide(first)
            batch.record_events(decided)
        return decided
