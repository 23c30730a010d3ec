"""Two results appliers deciding one transaction at the same moment (after a rebalance, the consumer
that has not yet noticed it lost its partitions and the new owner), on SQLite and MariaDB: both read
the row before either writes; the ledger keeps one final status, the outbox one event, the
dispatcher one delivery per endpoint, and the event says what the ledger says."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, select

from infra.runtime.db import build_engine

from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.adapters.tables import events, webhook_deliveries
from tests.integration.gateway_api.adapters.test_outbox import add_endpoint, endpoints, pending, result  # noqa: F401

BARRIER_SECONDS = 10


def held_after_reading(engine, barrier: threading.Barrier) -> SqlLedger:
    """A ledger whose first read of transactions waits until the other one read too."""
    waited = []

    @event.listens_for(engine, "after_cursor_execute")
    def _hold(_connection, _cursor, statement, *_):
        if not waited and statement.lstrip().upper().startswith("SELECT") and "gateway_transactions" in statement:
            waited.append(True)
            try:
                barrier.wait(BARRIER_SECONDS)
            except threading.BrokenBarrierError:  # an applier that locks at reading: nothing to race
                pass

    return SqlLedger(engine)


def race_two_appliers(database_url: str, first, second) -> None:
    barrier = threading.Barrier(2)
    engines = [build_engine(database_url) for _ in range(2)]
    appliers = [held_after_reading(engine, barrier) for engine in engines]
    try:
        with ThreadPoolExecutor(2) as pool:
            for done in [
                pool.submit(applier.apply_results, [decided]) for applier, decided in zip(appliers, (first, second))
            ]:
                done.result()
    finally:
        for engine in engines:
            engine.dispose()
    assert barrier.n_waiting == 0 and not barrier.broken, "both appliers read the pending row before either wrote"


def recorded(engine) -> tuple[list[str], int]:
    with engine.connect() as connection:
        types = connection.execute(select(events.c.type)).scalars().all()
        deliveries = len(connection.execute(select(webhook_deliveries.c.id)).all())
    return types, deliveries


@pytest.mark.parametrize("second_status", ["approved", "rejected"], ids=["same-result", "conflicting-results"])
@pytest.mark.parametrize("pending_row", [True, False], ids=["pending-row", "result-before-row"])
def test_two_appliers_racing_on_one_transaction_tell_the_merchant_one_outcome(
    ledger,
    engine,
    endpoints,  # noqa: F811 - the fixture imported above
    database_url,
    second_status,
    pending_row,
):
    add_endpoint(endpoints, "acct_a")
    add_endpoint(endpoints, "acct_a")
    if pending_row:
        ledger.add_pending(pending("t1"))
    race_two_appliers(database_url, result("t1", "approved"), result("t1", second_status, reason="late"))
    final = ledger.get("t1").status
    types, deliveries = recorded(engine)
    assert types == [f"transaction.{final}"]
    assert deliveries == 2
