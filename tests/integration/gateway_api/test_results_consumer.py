"""The results consumer against the real broker: idempotent, order-independent, one DB write per batch."""

import dataclasses
import threading
from decimal import Decimal

import pytest

from infra.kernel.contracts import TransactionResult
from infra.runtime.db import migrate
from infra.runtime.kafka import Record, build_acked_producer

from gateway_api.adapters.ledger_repository import SqlLedger
from gateway_api.bootstrap import build_results_consumer as bootstrap
from gateway_api.migrations import SCRIPT_LOCATION
from gateway_api.settings import ResultsSettings as Settings
from tests.integration.gateway_api.support import ADMIN, transaction_body
from tests.support import wait_until
from tests.support.kafka import committed_offsets


@pytest.fixture
def results_settings(kafka_settings, sqlite_url):
    return Settings(
        database_url=sqlite_url, kafka=kafka_settings, group_id=f"{kafka_settings.topics.results}-test", metrics_port=0
    )


@pytest.fixture
def run_consumer(results_consumer, sqlite_url):
    return lambda: results_consumer(sqlite_url)


def publish_results(kafka_settings, *results: TransactionResult, raw: tuple[bytes, ...] = ()) -> None:
    topic = kafka_settings.topics.results
    records = [Record(topic, r.to_json(), r.account_id.encode()) for r in results] + [Record(topic, v) for v in raw]
    build_acked_producer(kafka_settings, "test").send(records, timeout=10)


def decision(transaction: dict, account_id: str, status: str, reason: str = "") -> TransactionResult:
    return TransactionResult(
        transaction["id"],
        status,
        reason,
        account_id,
        transaction["amount"],
        "visa",
        "1111",
        transaction["created_at"],
        "2026-11-23T10:00:01.000000Z",
    )


def every_message_applied(kafka_settings, consumer: Settings, count: int) -> None:
    """Wait until the consumer committed past ``count`` messages: each one was applied or set aside."""
    wait_until(
        lambda: (
            sum(committed_offsets(kafka_settings, consumer.group_id, kafka_settings.topics.results).values()) == count
        ),
        20,
        message=f"{count} results consumed and committed",
    )


def test_results_update_the_ledger_the_api_reads_and_garbage_is_set_aside(
    app, client, merchant, kafka_settings, run_consumer
):
    approved = client.post("/v1/transactions", json=transaction_body(), auth=merchant).json
    rejected = client.post("/v1/transactions", json=transaction_body(amount="1000.01"), auth=merchant).json
    publish_results(
        kafka_settings,
        decision(approved, merchant[0], "approved"),
        decision(rejected, merchant[0], "rejected", "you dont have limit for this transaction"),
        raw=(b"not json", b'{"id": "x", "status": "pending"}', b'{"status": "approved"}'),
    )
    every_message_applied(kafka_settings, run_consumer(), 5)

    def status(t):
        return client.get(f"/v1/transactions/{t['id']}", auth=merchant).json

    assert (status(rejected)["status"], status(rejected)["error_message"]) == (
        "rejected",
        "you dont have limit for this transaction",
    )
    assert (
        status(approved)["status"] == "approved" and status(approved)["processed_at"] == "2026-11-23T10:00:01.000000Z"
    )
    # The garbage never reached the ledger and was not retried forever (its offsets are committed above).
    ledger = app.extensions["gateway_api"].ledger
    assert ledger.get("x") is None
    assert {t["id"] for t in client.get("/v1/transactions", headers=ADMIN).json["data"]} == {
        approved["id"],
        rejected["id"],
    }


def test_a_result_before_the_pending_row_and_redeliveries_are_harmless(kafka_settings, sqlite_url, run_consumer):
    from infra.runtime.db import build_engine

    created = {"id": "early-1", "amount": "10.50", "created_at": "2026-11-23T10:00:00.000000Z"}
    # One key, so one partition: the conflicting result comes after the approval.
    publish_results(
        kafka_settings,
        decision(created, "acct_a", "approved"),
        decision(created, "acct_a", "approved"),
        decision(created, "acct_a", "rejected", "late conflicting duplicate"),
    )
    every_message_applied(kafka_settings, run_consumer(), 3)  # the conflicting one included
    engine = build_engine(sqlite_url)
    stored = SqlLedger(engine).get("early-1")
    engine.dispose()
    assert (stored.status, stored.error_message, stored.amount) == ("approved", "", Decimal("10.50"))


def test_before_the_ledger_migration_the_consumer_waits_unready_and_applies_nothing(results_settings, kafka_settings):
    """A new release's results consumer starts before its migration Job: it waits for the ledger's
    schema (alive, not ready), then applies what arrived meanwhile."""
    consumer = bootstrap(dataclasses.replace(results_settings, auto_migrate=False))
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(stop,), daemon=True)
    thread.start()
    try:
        publish_results(
            kafka_settings,
            TransactionResult("t-early", "approved", "", "acct", "1.00", "visa", "1111", None, "2026-01-01T00:00:00Z"),
        )
        ready, body = consumer.probes.readiness()
        assert not ready and body["checks"]["database_schema"] == "not ready"
        threading.Event().wait(1.0)
        assert consumer.probes.liveness()[0], "waiting is not being stuck"
        migrate(results_settings.database_url, SCRIPT_LOCATION)
        ledger = SqlLedger(consumer.engine)
        wait_until(lambda: ledger.get("t-early") is not None, 30, message="the early result applied")
        assert consumer.probes.readiness()[0]
    finally:
        stop.set()
        thread.join(15)
