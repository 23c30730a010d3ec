"""The use case with fakes that subclass the real ports."""

from datetime import datetime
from decimal import Decimal

import pytest

from processor.domain.transaction import Outcome
from processor.use_cases.ports import ResultPublisher, TransactionRepository
from processor.use_cases.process_transactions import ProcessTransactions, TransactionInput

FIRST = datetime(2026, 6, 15, 12, 0, 0)
LATER = datetime(2026, 6, 15, 13, 0, 0)


class FakeRepository(TransactionRepository):
    def __init__(self):
        self.rows: dict[str, Outcome] = {}
        self.calls = 0

    def add_new(self, outcomes):
        self.calls += 1
        for outcome in outcomes:
            self.rows.setdefault(outcome.id, outcome)
        return [self.rows[outcome.id] for outcome in outcomes]

    def get(self, transaction_id):
        return self.rows.get(transaction_id)


class FakePublisher(ResultPublisher):
    def __init__(self, fail=False):
        self.published: list[Outcome] = []
        self.fail = fail

    def publish(self, outcomes):
        if self.fail:
            raise ConnectionError("broker down")
        self.published.extend(outcomes)


def tx(id, amount="10.00", **changes):
    fields = dict(
        id=id,
        account_id="acct",
        amount=Decimal(amount),
        card_number="4111111111111111",
        card_name="Ada",
        expiration_month=12,
        expiration_year=2030,
        cvv_length=3,
        created_at=None,
    )
    return TransactionInput(**(fields | changes))


def use_case(repository, publisher, now=FIRST):
    return ProcessTransactions(repository, publisher, clock=lambda: now)


def test_decides_stores_and_publishes_a_batch_in_one_repository_call():
    repository, publisher = FakeRepository(), FakePublisher()
    batch = use_case(repository, publisher)([tx("a"), tx("b", amount="5000")])
    assert [(o.id, o.status) for o in batch.outcomes] == [("a", "approved"), ("b", "rejected")]
    assert repository.calls == 1 and publisher.published == batch.outcomes == batch.decided


def test_a_redelivered_id_gets_its_stored_outcome_not_a_new_decision():
    repository, publisher = FakeRepository(), FakePublisher()
    first = use_case(repository, publisher, FIRST)([tx("a")]).outcomes[0]
    again = use_case(repository, publisher, LATER)([tx("a", amount="5000")])
    assert again.outcomes == [first] and again.decided == []
    assert first.status == "approved" and first.processed_at == FIRST
    assert len(repository.rows) == 1


def test_the_same_id_twice_in_a_batch_is_decided_once_by_its_first_occurrence():
    repository, publisher = FakeRepository(), FakePublisher()
    batch = use_case(repository, publisher)([tx("a"), tx("a", amount="5000")])
    assert [(o.id, o.status) for o in batch.outcomes] == [("a", "approved")]
    assert len(publisher.published) == 1


def test_a_failed_publish_raises_so_the_batch_is_retried_and_replays_the_stored_outcome():
    repository = FakeRepository()
    with pytest.raises(ConnectionError):
        use_case(repository, FakePublisher(fail=True), FIRST)([tx("a")])
    publisher = FakePublisher()
    retried = use_case(repository, publisher, LATER)([tx("a")])
    assert publisher.published == retried.outcomes and retried.outcomes[0].processed_at == FIRST


def test_an_empty_batch_touches_nothing():
    repository, publisher = FakeRepository(), FakePublisher()
    assert use_case(repository, publisher)([]).outcomes == []
    assert repository.calls == 0 and publisher.published == []
