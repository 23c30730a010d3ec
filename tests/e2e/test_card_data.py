"""No card number and no CVV is kept anywhere: the whole stack, scanned after traffic of its own.

The module sends its own cards (tests/support/card_data.py) through every path, waits until the
stack is done with them, then reads every database row, every log line, every record of the result
and dead-letter topics and every error answer, and looks for those numbers with their separators
removed and for every CVV sent. Since issue 11 the API seals the card on `transactions` too: that topic is scanned as well. It
depends on no other test and no order.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
import sqlalchemy

from tests.e2e.helpers import final_transaction
from tests.support import wait_until
from tests.support.card_data import (
    ACCEPTED,
    DEAD_LETTER_KEY,
    DEAD_LETTER_MARK,
    DEAD_LETTERS,
    HOLDER,
    CardDataScanner,
    CardTraffic,
    digits,
    send_dead_letters,
)
from tests.support.kafka import read_messages

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def traffic(running_stack) -> CardTraffic:
    """The card traffic, sent and fully processed: every accepted card decided, every dead letter out."""
    merchant = running_stack.create_merchant("Card data shop")
    traffic = CardTraffic(
        running_stack.settings.api_url,
        (merchant["id"], merchant["secret"]),
        running_stack.settings.admin_token.reveal(),
        CardDataScanner(),
    )
    traffic.send_all()
    send_dead_letters(running_stack.kafka_settings(), traffic.scanner)
    for transaction_id in traffic.accepted_ids:
        final_transaction(running_stack, merchant, transaction_id, timeout=20)
    wait_until(
        lambda: len(our_dead_letters(running_stack)) == len(DEAD_LETTERS),
        20,
        interval=0.2,
        message="the dead letters of the card traffic",
    )
    return traffic


def our_dead_letters(stack) -> list[dict]:
    kafka = stack.kafka_settings()
    letters = [json.loads(m.value()) for m in read_messages(kafka, kafka.topics.dlq)]
    return [letter for letter in letters if DEAD_LETTER_MARK in letter["payload"]]


def table_texts(url: str) -> dict[str, str]:
    """``table -> every row of it as text``, for every table of the database at ``url``."""
    engine = sqlalchemy.create_engine(url)
    try:
        metadata = sqlalchemy.MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                table.name: "\n".join(_row_text(row) for row in connection.execute(table.select()))
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _row_text(row) -> str:
    """A row as text, timestamps in ISO form: a datetime's repr shows small microseconds as a bare
    number (``datetime(..., 4, 229)``), which a 3-digit CVV token would match by chance."""
    return repr(tuple(value.isoformat() if isinstance(value, (datetime, date)) else value for value in row))


def _json_object(raw: bytes | None) -> dict:
    """A record of the shared stack's topic as JSON, or {} for what other tests wrote there on purpose
    (garbage the processor dead-letters)."""
    try:
        value = json.loads(raw or b"")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def topic_text(stack, topic: str) -> str:
    return "\n".join(
        f"{m.key()!r} {m.value().decode('utf-8', 'replace')}" for m in read_messages(stack.kafka_settings(), topic)
    )


def test_the_traffic_carried_every_kind_of_card_data(traffic):
    assert traffic.scanner.numbers == {digits(number) for _amount, number, _cvv in ACCEPTED}
    assert len(traffic.scanner.cvvs) >= 30
    assert traffic.scanner.holders == {HOLDER}
    assert {answer.status for answer in traffic.answers} == {202, 400, 401, 403, 404, 405, 409, 413, 415, 422}


def test_no_database_row_holds_card_data(traffic, running_stack):
    settings = running_stack.settings
    tables = {f"processor.{name}": text for name, text in table_texts(settings.processor_db).items()}
    tables |= {f"gateway.{name}": text for name, text in table_texts(settings.gateway_db).items()}
    for transaction_id in traffic.accepted_ids:  # the scan reads the rows this traffic made
        assert (
            transaction_id in tables["processor.transactions"]
            and transaction_id in tables["gateway.gateway_transactions"]
        )
    assert [f for where, text in tables.items() for f in traffic.scanner.findings(where, text)] == []


def test_no_log_line_holds_card_data(traffic, running_stack):
    logs = {path.name: path.read_text(errors="replace") for path in running_stack.log_dir.glob("*.log")}
    assert {"api.log", "processor.log", "results.log", "panel.log"} <= set(logs)
    # The logs are those of this traffic's stack, and every id is whole in them: the polls for each
    # final status logged its path (one id in 28 was masked as a card number, infra.kernel.identifiers).
    assert [transaction_id for transaction_id in traffic.accepted_ids if transaction_id not in logs["api.log"]] == []
    assert [f for name, text in logs.items() for f in traffic.scanner.findings(name, text)] == []


def test_no_result_or_dead_letter_holds_card_data(traffic, running_stack):
    topics = running_stack.kafka_settings().topics
    texts = {topic: topic_text(running_stack, topic) for topic in (topics.results, topics.dlq)}
    assert all(transaction_id in texts[topics.results] for transaction_id in traffic.accepted_ids)
    assert len(our_dead_letters(running_stack)) == len(DEAD_LETTERS)
    assert [f for topic, text in texts.items() for f in traffic.scanner.findings(topic, text)] == []


def test_no_error_answer_holds_card_data(traffic):
    assert [
        f
        for answer in traffic.answers
        if answer.status >= 400
        for f in traffic.scanner.findings(f"HTTP {answer.status} answer", answer.body)
    ] == []


def test_the_transactions_topic_carries_the_api_s_cards_sealed_and_nothing_readable(traffic, running_stack):
    """The raw log, read without a key. The dead letters this module wrote there itself (key
    DEAD_LETTER_KEY) are its own clear input, not the API's, so they are left out."""
    kafka = running_stack.kafka_settings()
    messages = [m for m in read_messages(kafka, kafka.topics.transactions) if m.key() != DEAD_LETTER_KEY]
    ours = [
        message
        for message in map(_json_object, (m.value() for m in messages))
        if message.get("id") in traffic.accepted_ids
    ]
    assert len(ours) == len(traffic.accepted_ids)
    assert all(
        set(message["card"]) >= {"kid"} and not any(key.startswith("credit_card") for key in message)
        for message in ours
    )
    text = "\n".join(f"{m.key()!r} {m.value().decode('utf-8', 'replace')}" for m in messages)
    assert traffic.scanner.findings(kafka.topics.transactions, text) == []
