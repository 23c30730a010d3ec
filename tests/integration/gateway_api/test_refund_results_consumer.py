"""The results consumer applies `refunds_result` next to `transactions_result`: a refund made final
once, and refund results it can never apply dead-lettered with their reason, never blocking the
partition. SQLite and MariaDB."""

import json

from sqlalchemy import text

from infra.runtime.db import build_engine
from infra.runtime.kafka import Record, build_acked_producer

from gateway_api.adapters.refunds_repository import SqlRefunds
from tests.support import wait_until
from tests.support.kafka import read_messages

KEY = b"acct_same_partition"


def refund_result(refund_id: str, **changes) -> bytes:
    return json.dumps(
        {
            "id": refund_id,
            "transaction_id": "tx-1",
            "account_id": "acct_a",
            "status": "succeeded",
            "amount": "4.00",
            "failure_reason": None,
            "amount_refunded": "4.00",
            "processed_at": "2026-12-06T10:00:01.000000Z",
        }
        | changes
    ).encode()


POISON = [
    (b"not json", "not JSON"),
    (refund_result("re_bad_status", status="pending"), "status is not succeeded or failed"),
    (
        refund_result("re_bad_reason", status="failed", failure_reason="because"),
        "failure_reason does not fit the status",
    ),
    (refund_result("re_bad_amount", amount="1e3"), "amount is not an amount"),
    (refund_result("re_no_tx", transaction_id=None), "no transaction_id"),
]


def test_refund_results_are_applied_once_and_poison_is_dead_lettered(
    results_consumer, kafka_settings, engine, database_url
):
    values = [
        POISON[0][0],
        refund_result("re_ok"),
        *[value for value, _ in POISON[1:]],
        refund_result("re_ok"),
        refund_result("re_failed", status="failed", amount="20.00", failure_reason="amount_exceeds_refundable"),
    ]
    build_acked_producer(kafka_settings, "test").send(
        [Record(kafka_settings.topics.refunds_result, value, KEY) for value in values], timeout=30
    )
    results_consumer(database_url)
    refunds = SqlRefunds(build_engine(database_url))
    wait_until(lambda: refunds.get("re_failed") is not None, 60, message="the last refund result applied")
    assert (refunds.get("re_ok").status, str(refunds.get("re_ok").amount)) == ("succeeded", "4.00")
    assert refunds.get("re_failed").failure_reason == "amount_exceeds_refundable"
    letters = wait_until(
        lambda: [
            json.loads(m.value())
            for m in read_messages(kafka_settings, kafka_settings.topics.dlq)
            if len(read_messages(kafka_settings, kafka_settings.topics.dlq)) >= len(POISON)
        ],
        30,
        message="every poison result dead-lettered",
    )
    assert sorted(letter["reason"] for letter in letters) == sorted(reason for _, reason in POISON)
    with engine.connect() as connection:
        types = connection.execute(text("SELECT type FROM gateway_events ORDER BY type")).scalars().all()
    assert types == ["refund.failed", "refund.succeeded"]
