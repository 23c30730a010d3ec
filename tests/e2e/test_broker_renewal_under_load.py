"""`make run` starts its embedded broker afresh while merchants pay (infra/stack/broker_renewal.py).

The stack as `make run` starts it, with its own Tansu and a renewal every ~150 messages on a
partition: merchants keep paying through several renewals. Afterwards every payment answered 202
is in the ledger with its final status, the processor decided each id once, each has exactly one
event, the dead letters are still there, and the API never answered 503 (a write waits at the gate,
it does not fail).
"""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
import sqlalchemy
from confluent_kafka import Producer

from infra.runtime.kafka import producer_config
from infra.stack.embedded_broker import free_port

from tests.e2e.helpers import basic_auth
from tests.e2e.test_crash_under_load import Merchant, _still_pending
from tests.support import wait_until
from tests.support.stack import load_test_merchant, stack_settings_for_tests, started_stack

pytestmark = pytest.mark.slow

CLIENTS = 4
LOAD_SECONDS = 12  # at least; longer (up to MAX_LOAD_SECONDS) until RENEWALS renewals happened
MAX_LOAD_SECONDS = 60
RENEWALS = 2


@pytest.fixture
def stack(tmp_path):
    settings = dataclasses.replace(
        stack_settings_for_tests(tmp_path, ""),
        kafka_port=free_port(),
        broker_renew_messages=150,
        broker_watch_seconds=0.3,
    )
    yield from started_stack(settings)


def test_payments_through_broker_renewals_are_all_decided_once_and_dead_letters_survive(stack, figures):
    dead = Producer(producer_config(stack.kafka_settings(), "test-poison", **{"enable.idempotence": False}))
    dead.produce(stack.kafka_settings().topics.transactions, value=b"{not json", key=b"poison")
    dead.flush(10)
    merchant = load_test_merchant(stack, "Renewal shop")
    stop = threading.Event()
    merchants = [Merchant(stack.settings.api_url, basic_auth(merchant), stop) for _ in range(CLIENTS)]
    for m in merchants:
        m.start()
    started = time.monotonic()
    while time.monotonic() - started < LOAD_SECONDS or (
        len(stack.broker_renewals) < RENEWALS and time.monotonic() - started < MAX_LOAD_SECONDS
    ):
        time.sleep(0.5)
    stop.set()
    for m in merchants:
        m.join(60)

    renewals = stack.broker_renewals
    answers = {key: ids for m in merchants for key, ids in m.answers.items()}
    answered = {next(iter(ids)) for ids in answers.values() if ids}
    figures(
        f"{len(answered)} payments through {len(renewals)} broker renewals; writes held "
        + ", ".join(f"{r.held_ms:.0f}" for r in renewals)
        + " ms (rejoin "
        + ", ".join(f"{r.rejoin_ms:.0f}" + ("" if r.rejoined else " not all") for r in renewals)
        + " ms); "
        f"retries {sum(m.retries for m in merchants)}"
    )
    assert len(renewals) >= RENEWALS, f"{len(renewals)} renewals: the test proves nothing"
    assert all(len(ids) == 1 for ids in answers.values()), "a key answered with two transaction ids"
    assert sum(m.retries for m in merchants) == 0, "a payment was refused: writes must wait at the gate"
    ledger = sqlalchemy.create_engine(stack.settings.gateway_db)
    processor = sqlalchemy.create_engine(stack.settings.processor_db)
    wait_until(lambda: _still_pending(ledger) == 0, 60, interval=0.5, message="every transaction decided")
    with ledger.connect() as connection:
        rows = dict(connection.exec_driver_sql("SELECT id, status FROM gateway_transactions").all())
        events = connection.exec_driver_sql(
            "SELECT transaction_id, COUNT(*) FROM gateway_events GROUP BY transaction_id"
        ).all()
    with processor.connect() as connection:
        decided = connection.exec_driver_sql("SELECT id, status FROM transactions").all()
    assert set(rows) == answered  # nothing lost
    assert len(decided) == len({id_ for id_, _ in decided}) == len(answered)  # each id decided once
    assert dict(decided) == rows
    assert {count for _, count in events} == {1} and len(events) == len(answered)  # one event each
    assert renewals[-1].dead_letters >= 1  # the poison message's dead letter, carried over each time
