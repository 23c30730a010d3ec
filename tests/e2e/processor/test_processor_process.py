"""``python -m processor`` as a real process: crash safety and graceful shutdown."""
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import sqlalchemy
from confluent_kafka import Consumer, TopicPartition

from infra.contracts import TransactionResult
from infra.embedded_broker import free_port
from infra.kafka import consumer_config
from tests.support import wait_until
from tests.e2e.processor.conftest import processor_env
from tests.support.transactions import TopicReader, produce_mixed

pytestmark = pytest.mark.slow


def row_count(url: str) -> int:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT COUNT(*) FROM transactions").scalar()
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.ProgrammingError):
        return 0  # not migrated yet
    finally:
        engine.dispose()


def test_killed_mid_stream_and_restarted_every_id_is_stored_once_with_one_outcome(
        processor_factory, kafka_settings, sqlite_url):
    total = 20000
    expected = produce_mixed(kafka_settings, total)
    first = processor_factory(PROCESSOR_BATCH_SIZE="500")
    stored_before_kill = wait_until(lambda: row_count(sqlite_url) >= 1000 and row_count(sqlite_url), 60,
                                    message="the processor to store its first batches")
    first.signal(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    assert row_count(sqlite_url) < total, "the kill did not happen mid-stream"

    processor_factory(PROCESSOR_BATCH_SIZE="500")
    reader = TopicReader(kafka_settings, kafka_settings.topics.results)
    wait_until(lambda: len({TransactionResult.from_json(v).id for v in reader.read_until(total, 1)}) >= total,
               90, interval=0, message="a result for every id")
    results = [TransactionResult.from_json(v) for v in reader.values]
    reader.close()

    assert row_count(sqlite_url) == total >= stored_before_kill
    engine = sqlalchemy.create_engine(sqlite_url)
    with engine.connect() as connection:
        rows = dict(connection.exec_driver_sql("SELECT id, error_message FROM transactions").all())
    engine.dispose()
    assert rows == expected  # no id missing, each decided as the rules say
    by_id: dict[str, set] = {}
    for result in results:
        by_id.setdefault(result.id, set()).add((result.status, result.error_message, result.processed_at))
    assert set(by_id) == set(expected)
    assert all(len(outcomes) == 1 for outcomes in by_id.values()), "a redelivered id got a different outcome"


def test_sigterm_finishes_the_batch_and_exits_zero_within_ten_seconds_with_clean_json_logs(
        processor_factory, kafka_settings, sqlite_url):
    produce_mixed(kafka_settings, 2000)
    process = processor_factory()
    wait_until(lambda: row_count(sqlite_url) == 2000, 60, message="the processor to store the batch")
    process.signal(signal.SIGTERM)
    started = time.monotonic()
    assert process.wait(10) == 0
    assert time.monotonic() - started < 10
    lines = [json.loads(line) for line in process.output().splitlines() if line.strip()]
    assert any(line["msg"] == "processor stopped" for line in lines)
    assert all(line["service"] == "processor" for line in lines)
    assert "4111111111111111" not in process.output() and "378282246310005" not in process.output()


def test_before_its_migration_the_processor_is_not_ready_and_consumes_nothing(
        processor_factory, kafka_settings, mysql_url):
    """A new release's pod starts before its migration Job ran: it waits (alive, not ready),
    commits nothing, and decides everything once the schema is at its head."""
    total = 300
    expected = produce_mixed(kafka_settings, total)
    port = free_port()
    process = processor_factory(DATABASE_URL=mysql_url, AUTO_MIGRATE="false", METRICS_PORT=str(port))
    wait_until(lambda: "waiting for the database migrations" in process.output(), 60, message="the wait")
    wait_until(lambda: http_status(port, "/healthz") == 200, 30, message="/healthz")
    assert http_status(port, "/readyz") == 503
    assert committed_offsets(kafka_settings, "processor-e2e") == []

    migrate_processor(kafka_settings, mysql_url)
    wait_until(lambda: row_count(mysql_url) == total, 60, message="every transaction stored after the migration")
    assert http_status(port, "/readyz") == 200
    assert stored_outcomes(mysql_url) == expected
    assert "batch failed" not in process.output()


def test_a_database_outage_commits_nothing_and_loses_nothing_once_the_database_is_back(
        processor_factory, kafka_settings, mysql_url):
    """The table disappears under a running processor (every write fails): it keeps retrying
    without committing an offset, and decides everything once the table is back."""
    total = 500
    migrate_processor(kafka_settings, mysql_url)
    rename_table(mysql_url, "transactions", "transactions_away")
    process = processor_factory(DATABASE_URL=mysql_url, AUTO_MIGRATE="false")
    expected = produce_mixed(kafka_settings, total)
    wait_until(lambda: process.output().count("batch failed, will retry") >= 3, 60,
               message="the processor to fail and retry against the missing table")
    assert committed_offsets(kafka_settings, "processor-e2e") == []

    rename_table(mysql_url, "transactions_away", "transactions")
    wait_until(lambda: row_count(mysql_url) == total, 30, message="every transaction stored after the outage")
    assert stored_outcomes(mysql_url) == expected
    assert process.process.poll() is None, "the processor rode out the outage"
    assert sum(o for o in committed_offsets(kafka_settings, "processor-e2e")) == total


def migrate_processor(kafka_settings, url: str) -> None:
    migrate = subprocess.run([sys.executable, "-m", "processor", "migrate"], capture_output=True, text=True,
                             env=processor_env(kafka_settings, url), timeout=120)
    assert migrate.returncode == 0, migrate.stderr


def rename_table(url: str, old: str, new: str) -> None:
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"RENAME TABLE {old} TO {new}")
    engine.dispose()


def stored_outcomes(url: str) -> dict[str, str]:
    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        rows = dict(connection.exec_driver_sql("SELECT id, error_message FROM transactions").all())
    engine.dispose()
    return rows


def http_status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def committed_offsets(kafka_settings, group: str) -> list[int]:
    """The offsets ``group`` has committed on the transactions topic (none: an empty list)."""
    consumer = Consumer(consumer_config(kafka_settings, "test-offsets", group))
    try:
        partitions = [TopicPartition(kafka_settings.topics.transactions, p) for p in range(kafka_settings.partitions)]
        return [tp.offset for tp in consumer.committed(partitions, timeout=10) if tp.offset >= 0]
    finally:
        consumer.close()
