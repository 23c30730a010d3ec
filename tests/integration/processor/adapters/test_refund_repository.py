"""The refund limit held by the database itself, on SQLite and on MariaDB.

Several "processors" (threads, each with an engine of its own, as if they disagreed about who owns
a partition) decide refunds of one payment at once: the total refunded never exceeds the approved
amount, and a refund id decided by two of them is applied once.
"""

import threading
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import DBAPIError

from infra.kernel.clock import utc_now
from infra.runtime.db import build_engine

from processor.adapters.refund_repository import SqlRefundRepository
from processor.adapters.sql_repository import SqlTransactionRepository
from processor.domain.refunds import RefundRequest
from processor.domain.transaction import Outcome
from processor.use_cases.ports import RefundResultPublisher
from processor.use_cases.process_refunds import ProcessRefunds


class Discard(RefundResultPublisher):
    def publish(self, outcomes):
        pass


def approved(engine, transaction_id="tx-1", amount="100.00", days_ago=1):
    now = utc_now()
    SqlTransactionRepository(engine).add_new(
        [
            Outcome(
                transaction_id,
                "acct-1",
                "approved",
                "",
                Decimal(amount),
                "visa",
                "1111",
                now,
                now - timedelta(days=days_ago),
            )
        ]
    )


def refund(refund_id, amount, transaction_id="tx-1"):
    return RefundRequest(refund_id, transaction_id, "acct-1", None if amount is None else Decimal(amount))


def decide_retrying(engine, requests, deadline=60):
    """What the consumer loop does: retry the batch until it is done (idempotent by refund id)."""
    use_case = ProcessRefunds(SqlRefundRepository(engine), Discard())
    stop = datetime.now() + timedelta(seconds=deadline)
    while True:
        try:
            return use_case(requests)
        except DBAPIError:
            if datetime.now() > stop:
                raise


def totals(engine, transaction_id="tx-1"):
    with engine.connect() as connection:
        balance = connection.exec_driver_sql(
            f"SELECT refunded_cents FROM refund_balances WHERE transaction_id = '{transaction_id}'"
        ).scalar()
        succeeded = connection.exec_driver_sql(
            "SELECT COALESCE(SUM(amount_cents), 0), COUNT(*) FROM refunds "
            f"WHERE transaction_id = '{transaction_id}' AND status = 'succeeded'"
        ).first()
        rows = connection.exec_driver_sql("SELECT COUNT(*) FROM refunds").scalar()
    return balance, int(succeeded[0]), rows


def test_partial_and_repeated_refunds_stop_at_the_approved_amount(engine):
    approved(engine)
    batch = decide_retrying(
        engine, [refund("re_1", "40.00"), refund("re_2", "60.00"), refund("re_3", "0.01"), refund("re_4", None)]
    )
    assert [(o.status, o.failure_reason) for o in batch.outcomes] == [
        ("succeeded", None),
        ("succeeded", None),
        ("failed", "amount_exceeds_refundable"),
        ("failed", "amount_exceeds_refundable"),
    ]
    assert [str(o.amount_refunded) for o in batch.outcomes] == ["40.00", "100.00", "100.00", "100.00"]
    assert totals(engine) == (10000, 10000, 4)


def test_a_refund_of_a_payment_too_old_fails(engine):
    approved(engine, days_ago=181)
    outcome = decide_retrying(engine, [refund("re_1", "1.00")]).outcomes[0]
    assert (outcome.status, outcome.failure_reason) == ("failed", "transaction_too_old")


def test_the_conditional_update_refuses_what_the_rules_let_through_on_a_stale_read(engine):
    approved(engine)
    repository = SqlRefundRepository(engine)
    with repository.session() as session:
        assert session.take("tx-1", Decimal("70.00")) == Decimal("70.00")
        assert session.take("tx-1", Decimal("30.01")) is None
        assert session.take("tx-1", Decimal("30.00")) == Decimal("100.00")
        assert session.take("tx-2-unknown", Decimal("1.00")) is None


def test_the_check_constraint_refuses_any_writer_that_would_over_refund(engine):
    approved(engine)
    with SqlRefundRepository(engine).session() as session:
        session.take("tx-1", Decimal("1.00"))
    # SQLite: IntegrityError "CHECK constraint failed"; MariaDB: error 4025 "CONSTRAINT ... failed".
    with pytest.raises(DBAPIError, match="(?i)constraint"), engine.begin() as connection:
        connection.exec_driver_sql("UPDATE refund_balances SET refunded_cents = 10001")


def test_processors_disagreeing_about_ownership_never_over_refund_nor_refund_twice(engine, migrated_url):
    approved(engine)
    engines = [build_engine(migrated_url) for _ in range(4)]
    # Every "processor" sees every refund id (a partition owned twice): 12 refunds of 15.00 on 100.00.
    requests = [refund(f"re_{i}", "15.00") for i in range(12)]
    outcomes: list = []

    def processor(own_engine, order):
        outcomes.append(decide_retrying(own_engine, [requests[i] for i in order]).outcomes)

    threads = [
        threading.Thread(target=processor, args=(e, order))
        for e, order in zip(engines, [range(12), reversed(range(12)), range(0, 12, 2), range(11, -1, -3)])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    for own_engine in engines:
        own_engine.dispose()
    balance, succeeded, rows = totals(engine)
    assert (balance, succeeded, rows) == (9000, 9000, 12)  # six of 15.00 fit in 100.00, each applied once
    decided = {}
    for batch in outcomes:
        for outcome in batch:
            assert decided.setdefault(outcome.id, outcome) == outcome  # every processor publishes the same decision
