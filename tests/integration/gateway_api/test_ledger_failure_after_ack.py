"""Once the broker acknowledged a transaction, the merchant hears 202, whatever the ledger does.

The ledger is made to refuse the pending row for real (a trigger that aborts every insert, on SQLite
and on MariaDB); the transaction is on Kafka and will be decided, so a 503 ("retry later") would
invite a merchant without an Idempotency-Key to pay twice. The results consumer then creates the
missing row from the decision.
"""

import dataclasses

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from infra.kernel.contracts import TransactionResult
from infra.runtime.db import build_engine
from infra.runtime.metrics import exposition

from gateway_api import create_app
from tests.integration.gateway_api.support import create_merchant, decoded, transaction_body
from tests.integration.gateway_api.test_results_consumer import publish_results
from tests.support import wait_until
from tests.support.kafka import read_messages

REFUSE = {
    "sqlite": "CREATE TRIGGER refuse_ledger BEFORE INSERT ON gateway_transactions "
    "BEGIN SELECT RAISE(ABORT, 'the ledger refuses writes'); END",
    "mysql": "CREATE TRIGGER refuse_ledger BEFORE INSERT ON gateway_transactions FOR EACH ROW "
    "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'the ledger refuses writes'",
}


@pytest.fixture
def app(api_settings, database_url):
    app = create_app(dataclasses.replace(api_settings, database_url=database_url))
    yield app
    app.extensions["gateway_api"].close()


@pytest.fixture
def refusing_ledger(app, database_url):
    """Turns the ledger's inserts into errors; the callback it returns turns them back on."""
    engine = build_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(REFUSE[engine.dialect.name if engine.dialect.name == "sqlite" else "mysql"]))

    def repair():
        with engine.begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_ledger"))

    yield repair
    engine.dispose()


def failures_counted(client) -> float:
    for family in text_string_to_metric_families(exposition()[0].decode()):
        if family.name == "gateway_api_ledger_write_failures":
            return sum(sample.value for sample in family.samples if sample.name.endswith("_total"))
    return 0.0


@pytest.mark.parametrize("key", [None, "order-77"], ids=["without key", "with Idempotency-Key"])
def test_a_ledger_failure_after_the_ack_answers_202_and_the_result_creates_the_row(
    app, client, kafka_settings, database_url, refusing_ledger, results_consumer, key
):
    merchant = create_merchant(client)
    counted_before = failures_counted(client)
    headers = {"Idempotency-Key": key} if key else {}

    response = client.post("/v1/transactions", json=transaction_body(), auth=merchant, headers=headers)

    assert response.status_code == 202, response.json
    accepted = response.json
    [message] = decoded(read_messages(kafka_settings, kafka_settings.topics.transactions))
    assert message["id"] == accepted["id"]
    assert failures_counted(client) == counted_before + 1
    assert client.get(f"/v1/transactions/{accepted['id']}", auth=merchant).status_code == 404

    refusing_ledger()
    publish_results(
        kafka_settings,
        TransactionResult(
            accepted["id"],
            "approved",
            "",
            merchant[0],
            "10.50",
            "visa",
            "1111",
            accepted["created_at"],
            "2026-11-23T10:00:01.000000Z",
        ),
    )
    results_consumer(database_url)

    def decided():
        answer = client.get(f"/v1/transactions/{accepted['id']}", auth=merchant)
        return answer.status_code == 200 and answer.json

    row = wait_until(decided, 20, message="the row created from the result")
    assert (row["status"], row["amount"], row["account_id"]) == ("approved", "10.50", merchant[0])
