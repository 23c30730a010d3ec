"""The use case against an in-memory repository."""

from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

from processor.domain.refunds import Payment, RefundRequest
from processor.use_cases.ports import RefundRepository, RefundResultPublisher, RefundSession
from processor.use_cases.process_refunds import ProcessRefunds

NOW = datetime(2026, 12, 6, 12, 0, 0)
PAID = Payment("tx-1", "acct-1", "approved", Decimal("100.00"), NOW - timedelta(days=1))


def request(amount="10.00", **changes) -> RefundRequest:
    fields = dict(
        id="re_1", transaction_id="tx-1", account_id="acct-1", amount=None if amount is None else Decimal(amount)
    )
    return RefundRequest(**(fields | changes))


class InMemoryRefunds(RefundRepository, RefundSession):
    """A fake of the SQL repository: payments, balances and stored outcomes in dictionaries."""

    def __init__(self, payments: dict[str, Payment]):
        self.payments = payments
        self.refunded: dict[str, Decimal] = {}
        self.outcomes: dict = {}
        self.refuse_next_take = False

    @contextmanager
    def session(self):
        yield self

    def stored(self, refund_id):
        return self.outcomes.get(refund_id)

    def payment(self, transaction_id):
        found = self.payments.get(transaction_id)
        return found and replace(found, refunded=self.refunded.get(transaction_id, Decimal("0.00")))

    def take(self, transaction_id, amount):
        total = self.refunded.get(transaction_id, Decimal("0.00")) + amount
        if self.refuse_next_take or total > self.payments[transaction_id].amount:
            self.refuse_next_take = False
            return None
        self.refunded[transaction_id] = total
        return total

    def add(self, outcome):
        assert outcome.id not in self.outcomes
        self.outcomes[outcome.id] = outcome


class Published(RefundResultPublisher):
    def __init__(self):
        self.outcomes = []

    def publish(self, outcomes):
        self.outcomes.extend(outcomes)


def test_a_redelivered_refund_republishes_its_stored_outcome_and_refunds_once():
    repository, published = InMemoryRefunds({"tx-1": PAID}), Published()
    use_case = ProcessRefunds(repository, published, lambda: NOW)
    first = use_case([request("60.00"), request("60.00")])
    again = use_case([request("60.00")])
    assert first.outcomes == again.outcomes and again.decided == []
    assert repository.refunded["tx-1"] == Decimal("60.00")
    assert [o.status for o in published.outcomes] == ["succeeded", "succeeded"]


def test_when_the_database_refuses_the_refund_fails_as_exceeding_what_is_left():
    repository = InMemoryRefunds({"tx-1": PAID})
    repository.refuse_next_take = True
    batch = ProcessRefunds(repository, Published(), lambda: NOW)([request("10.00")])
    assert (batch.outcomes[0].status, batch.outcomes[0].failure_reason) == ("failed", "amount_exceeds_refundable")
    assert repository.refunded == {}
