"""ApplyResults and ApplyRefundResults on a fake of the ledger: the three rules of gateway_api.domain.results.

The fake decides like SqlLedger and SqlRefunds, with dicts instead of SQL: all the results of a write
against the rows as they were before it (one result per id, as a set-based UPDATE takes them), a row
only while ``may_decide`` says so, and nothing kept when the block raises (a rolled-back DB transaction).
"""

from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime

import pytest

from infra.kernel.contracts import REFUND_FAILURE_REASONS, RefundResult, TransactionResult

from gateway_api.domain.refunds import REFUND_PENDING, Refund
from gateway_api.domain.results import may_decide
from gateway_api.domain.transactions import STATUS_PENDING, Transaction
from gateway_api.use_cases.apply_results import ApplyRefundResults, ApplyResults
from gateway_api.use_cases.ports import DecisionBatch, ResultLedger

NOW = datetime(2026, 12, 6, 12, 0)


class FakeBatch(DecisionBatch):
    def __init__(self, rows: dict, new_row: Callable):
        self.rows = dict(rows)
        self.new_row = new_row
        self.events: list[str] = []
        self.open = True

    def decide(self, results):
        assert len({result.id for result in results}) == len(results), "one result per id"
        before = dict(self.rows)
        decided = []
        for result in results:
            row = before.get(result.id)
            if may_decide(row.status if row else None):
                self.rows[result.id] = replace(row or self.new_row(result), status=result.status)
                decided.append(self.rows[result.id])
        return decided

    def record_events(self, decided):
        assert self.open, "events are written in the DB transaction of the decisions"
        self.events += [row.id for row in decided]


class FakeLedger(ResultLedger):
    def __init__(self, new_row: Callable, rows=()):
        self.new_row = new_row
        self.rows = {row.id: row for row in rows}
        self.events: list[str] = []  # the ids of the rows an event was recorded for
        self.transactions = 0

    @contextmanager
    def deciding(self):
        batch = FakeBatch(self.rows, self.new_row)
        self.transactions += 1
        yield batch  # raising here keeps nothing: rolled back
        batch.open = False
        self.rows, self.events = batch.rows, self.events + batch.events

    def status(self, row_id: str) -> str:
        return self.rows[row_id].status


def payment_result(id_: str, status: str) -> TransactionResult:
    return TransactionResult(
        id_,
        status,
        "" if status == "approved" else "credit card expired",
        "acct_1",
        "10.00",
        "visa",
        "1111",
        None,
        "2026-12-06T12:00:00Z",
    )


def refund_result(id_: str, status: str) -> RefundResult:
    amount, reason = ("4.00", None) if status == "succeeded" else (None, REFUND_FAILURE_REASONS[0])
    return RefundResult(id_, "tx_1", "acct_1", status, amount, reason, amount or "0.00", "2026-12-06T12:00:00Z")


@dataclass(frozen=True)
class Kind:
    """Payments or refunds: the use case, its results, its rows, and two different final statuses."""

    use_case: Callable
    result: Callable[[str, str], object]
    row: Callable[[str, str], object]
    final: tuple[str, str]

    def ledger(self, **rows: str) -> FakeLedger:
        return FakeLedger(
            lambda result: self.row(result.id, result.status), [self.row(id_, status) for id_, status in rows.items()]
        )


PAYMENTS = Kind(
    ApplyResults,
    payment_result,
    lambda id_, status: Transaction(id_, "acct_1", status, None, None, None, NOW),
    ("approved", "rejected"),
)
REFUNDS = Kind(
    ApplyRefundResults,
    refund_result,
    lambda id_, status: Refund(id_, "acct_1", "tx_1", status, None, None, NOW),
    ("succeeded", "failed"),
)
KINDS = pytest.mark.parametrize("kind", [PAYMENTS, REFUNDS], ids=["payments", "refunds"])


@KINDS
def test_first_result_wins(kind):
    first, second = kind.final
    ledger = kind.ledger(r1="pending")
    apply = kind.use_case(ledger)
    apply([kind.result("r1", first), kind.result("r1", second)])
    apply([kind.result("r1", second)])
    assert ledger.status("r1") == first


@KINDS
def test_a_final_status_is_never_overwritten(kind):
    first, second = kind.final
    ledger = kind.ledger(r1=first)
    assert kind.use_case(ledger)([kind.result("r1", second)]) == []
    assert ledger.status("r1") == first
    assert ledger.events == []


@KINDS
def test_one_event_per_decided_row(kind):
    first, second = kind.final
    ledger = kind.ledger(pending="pending", final=second)
    batch = [
        kind.result("pending", first),
        kind.result("pending", second),
        kind.result("final", first),
        kind.result("never-written", first),
    ]  # a result before the API wrote its row: the row is created
    decided = kind.use_case(ledger)(batch)
    kind.use_case(ledger)(batch)  # redelivered
    assert [row.id for row in decided] == ["pending", "never-written"]
    assert ledger.events == ["pending", "never-written"]


def test_a_payment_result_that_is_not_final_decides_nothing():
    ledger = PAYMENTS.ledger(r1=STATUS_PENDING)
    assert ApplyResults(ledger)([payment_result("r1", STATUS_PENDING)]) == []
    assert ledger.status("r1") == STATUS_PENDING
    assert ledger.transactions == 0


@KINDS
def test_an_empty_batch_opens_no_db_transaction(kind):
    ledger = kind.ledger()
    assert kind.use_case(ledger)([]) == []
    assert ledger.transactions == 0


def test_a_row_may_be_decided_while_pending_or_not_written_yet_only():
    assert may_decide(None) and may_decide(STATUS_PENDING) and may_decide(REFUND_PENDING)
    assert not any(may_decide(status) for status in (*PAYMENTS.final, *REFUNDS.final))
