"""No result can block a results partition: what the ledger can never apply is dead-lettered with
its reason, and every other result of the batch (and after it) is applied. SQLite and MariaDB."""

import json
import uuid

import pytest
from sqlalchemy import text

from infra.runtime.db import build_engine
from infra.runtime.kafka import Record, build_acked_producer

from gateway_api.adapters.ledger_repository import SqlLedger
from tests.support import wait_until
from tests.support.kafka import read_messages

KEY = b"acct_same_partition"  # every message on one partition: a blocked batch would hold them all


def result(**changes) -> dict:
    return {
        "id": f"tx-{uuid.uuid4().hex[:12]}",
        "status": "approved",
        "error_message": "",
        "account_id": "acct_a",
        "amount": "10.50",
        "card_brand": "visa",
        "card_last4": "1111",
        "created_at": "2026-11-23T10:00:00.000000Z",
        "processed_at": "2026-11-23T10:00:01.000000Z",
    } | changes


def encoded(message: dict) -> bytes:
    return json.dumps(message).encode()  # lone surrogates travel as "\ud800", which is valid JSON


NEVER_APPLICABLE = [
    (b"[1, 2]", "not a JSON object"),
    (b"null", "not a JSON object"),
    (b"42", "not a JSON object"),
    (b"\xff not json", "not JSON"),
    (b"", "empty message"),
    (encoded(result(id="x" * 101)), "id longer than 100 characters"),
    (encoded(result(id=7)), "id is not a string"),
    (encoded(result(id=" ")), "no id"),
    (encoded(result(id="tx-\ud800")), "id is not valid text"),
    (encoded(result(status="pending")), "status is not approved or rejected"),
    (encoded(result(card_last4=1111)), "card_last4 is not a string"),
    (encoded(result(error_message=42)), "error_message is not a string"),
    (encoded(result(error_message="bad \udfff")), "error_message is not valid text"),
    (encoded(result(account_id="a" * 101)), "account_id longer than 100 characters"),
    (encoded(result(card_brand="b" * 33)), "card_brand longer than 32 characters"),
    (encoded(result(amount=["10.50"])), "amount is not a string"),
]


def produce(kafka_settings, values: list[bytes]) -> None:
    records = [Record(kafka_settings.topics.results, value, KEY) for value in values]
    build_acked_producer(kafka_settings, "test").send(records, timeout=10)


@pytest.fixture
def ledger(database_url):
    engine = build_engine(database_url)
    yield SqlLedger(engine)
    engine.dispose()


def dead_letters(kafka_settings, count: int) -> list[dict]:
    letters = []

    def enough():
        letters[:] = [json.loads(m.value()) for m in read_messages(kafka_settings, kafka_settings.topics.dlq)]
        return len(letters) >= count

    wait_until(enough, 20, interval=0.2, message=f"{count} dead letters")
    return letters


def test_results_it_can_never_apply_are_dead_lettered_and_the_rest_of_the_partition_is_applied(
    kafka_settings, database_url, results_consumer, ledger
):
    before = result(id="before-" + uuid.uuid4().hex)
    long_id = result(id="L" * 80)  # the contract allows 100 characters; the old columns held 64
    upper, lower = (
        result(id="Tx-Case-" + "A" * 8),
        result(id="tx-case-" + "a" * 8, status="rejected", error_message="invalid credit card cvv"),
    )
    after = result(id="after-" + uuid.uuid4().hex)
    produce(
        kafka_settings,
        [encoded(before)]
        + [raw for raw, _ in NEVER_APPLICABLE]
        + [encoded(long_id), encoded(upper), encoded(lower), encoded(after)],
    )
    results_consumer(database_url)

    wait_until(lambda: ledger.get(after["id"]), 30, message="the result published after the bad ones")
    for good in (before, long_id, upper, lower, after):
        row = ledger.get(good["id"])
        assert row is not None and (row.id, row.status) == (good["id"], good["status"])
    assert ledger.get(upper["id"]).error_message == "" and ledger.get(lower["id"]).error_message != ""

    letters = dead_letters(kafka_settings, len(NEVER_APPLICABLE))
    assert sorted(letter["reason"] for letter in letters) == sorted(reason for _, reason in NEVER_APPLICABLE)
    assert {letter["source_topic"] for letter in letters} == {kafka_settings.topics.results}
    assert len({letter["source_offset"] for letter in letters}) == len(NEVER_APPLICABLE)


def test_results_sent_after_poison_amounts_are_applied(kafka_settings, database_url, results_consumer, ledger):
    poison = [result(amount=amount) for amount in ("1E+1000000", "-1E+1000000", "9" * 5000, "1e3", " 10.50 ")]
    after = [result() for _ in range(3)]
    produce(kafka_settings, [encoded(message) for message in poison + after])
    results_consumer(database_url)

    wait_until(lambda: all(ledger.get(r["id"]) for r in after), 30, message="the results sent after the poison ones")
    # The decision is what matters; an amount that is not money is stored as unknown.
    assert [(ledger.get(r["id"]).status, ledger.get(r["id"]).amount) for r in poison] == [("approved", None)] * 5


REFUSE_ONE_ROW = {
    "sqlite": "CREATE TRIGGER refuse_one BEFORE INSERT ON gateway_transactions WHEN NEW.id = 'refused-by-db' "
    "BEGIN SELECT RAISE(ABORT, 'refused'); END",
    # SQLSTATE 22001 / errno 1406 is what MariaDB raises for "Data too long": a data error.
    "mysql": "CREATE TRIGGER refuse_one BEFORE INSERT ON gateway_transactions FOR EACH ROW "
    "IF NEW.id = 'refused-by-db' THEN "
    "SIGNAL SQLSTATE '22001' SET MYSQL_ERRNO = 1406, MESSAGE_TEXT = 'Data too long'; END IF",
}


def test_a_row_the_database_itself_refuses_is_dead_lettered_and_its_batch_neighbours_applied(
    kafka_settings, database_url, results_consumer, ledger
):
    from infra.runtime.db import migrate

    from gateway_api.migrations import SCRIPT_LOCATION

    migrate(database_url, SCRIPT_LOCATION)
    engine = build_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text(REFUSE_ONE_ROW["sqlite" if engine.dialect.name == "sqlite" else "mysql"]))
    engine.dispose()
    neighbours = [result(), result()]
    produce(kafka_settings, [encoded(neighbours[0]), encoded(result(id="refused-by-db")), encoded(neighbours[1])])
    results_consumer(database_url)

    wait_until(lambda: all(ledger.get(r["id"]) for r in neighbours), 30, message="the refused row's neighbours")
    [letter] = dead_letters(kafka_settings, 1)
    assert letter["reason"].startswith("refused by the ledger") and '"refused-by-db"' in letter["payload"]
    assert ledger.get("refused-by-db") is None
