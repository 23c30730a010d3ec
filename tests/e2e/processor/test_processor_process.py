"""``python -m processor`` as a real process: crash safety and graceful shutdown.

Each test acts inside the window it names: the processor is held there (infra/runtime/hold_points.py)
before the test kills or signals it, and the committed offsets are read from the broker.
"""

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import sqlalchemy

from infra.kernel.contracts import TransactionResult
from infra.stack.embedded_broker import free_port

from tests.e2e.processor.conftest import group_of, processor_env
from tests.support import wait_until
from tests.support.kafka import committed_offsets, read_messages, values_at
from tests.support.ports import PortTaken, lost_a_port_race, retry_on_port_collision
from tests.support.transactions import TopicReader, produce_mixed

pytestmark = pytest.mark.slow


def stored(url: str) -> dict[str, str]:
    """id -> error_message of every stored decision (nothing before the schema exists)."""
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return dict(connection.exec_driver_sql("SELECT id, error_message FROM transactions").all())
    except (sqlalchemy.exc.OperationalError, sqlalchemy.exc.ProgrammingError):
        return {}  # not migrated yet
    finally:
        engine.dispose()


def ids_of(kafka_settings, positions) -> set[str]:
    return {json.loads(value)["id"] for value in values_at(kafka_settings, positions)}


def first_offsets(positions) -> dict[int, int]:
    """The lowest offset of each partition in a held batch."""
    lowest: dict[int, int] = {}
    for _topic, partition, offset in positions:
        lowest[partition] = min(offset, lowest.get(partition, offset))
    return lowest


def next_offsets(positions) -> dict[int, int]:
    """What committing a held batch sets: its highest offset + 1 per partition."""
    highest: dict[int, int] = {}
    for _topic, partition, offset in positions:
        highest[partition] = max(offset + 1, highest.get(partition, 0))
    return highest


def test_killed_between_the_db_commit_and_the_offset_commit_the_batch_comes_again_and_is_replayed_identically(
    processor_factory, holds, kafka_settings, sqlite_url
):
    total = 3000
    expected = produce_mixed(kafka_settings, total)
    first = processor_factory(PROCESSOR_BATCH_SIZE="500", PROCESSOR_TEST_HOLD_DIR=str(holds.directory))
    wait_until(lambda: len(stored(sqlite_url)) >= 500, 60, message="the first batches stored")
    holds.hold("handled")
    held = wait_until(lambda: holds.reached("handled"), 30, message="a batch stored, its offsets not committed")

    # Inside the window: the batch is in the database, its offsets are not committed.
    held_ids = ids_of(kafka_settings, held)
    assert len(held_ids) == len(held) and held_ids <= set(stored(sqlite_url))
    committed = committed_offsets(kafka_settings, group_of(kafka_settings), kafka_settings.topics.transactions)
    assert all(committed.get(partition, 0) <= offset for partition, offset in first_offsets(held).items()), (
        f"offsets committed before the batch was done: {committed} vs held {first_offsets(held)}"
    )
    first.signal(signal.SIGKILL)
    assert first.wait(10) == -signal.SIGKILL
    assert len(stored(sqlite_url)) < total, "the kill did not happen mid-stream"

    processor_factory(PROCESSOR_BATCH_SIZE="500")
    reader = TopicReader(kafka_settings, kafka_settings.topics.results)
    wanted = total + len(held_ids)  # the held batch's results went out before the kill, and again after
    wait_until(lambda: len(reader.read_until(wanted, 1)) >= wanted, 90, interval=0, message="every result")
    copies: dict[str, list[bytes]] = {}
    for value in reader.read_for(1):
        copies.setdefault(TransactionResult.from_json(value).id, []).append(value)
    reader.close()

    assert stored(sqlite_url) == expected  # every id stored once, decided as the rules say
    assert set(copies) == set(expected)
    assert all(len(copies[i]) >= 2 for i in held_ids), "the stored but uncommitted batch was not redelivered"
    assert all(len(set(values)) == 1 for values in copies.values()), "a redelivered id was not replayed byte for byte"
    assert (
        sum(committed_offsets(kafka_settings, group_of(kafka_settings), kafka_settings.topics.transactions).values())
        == total
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_with_a_batch_in_hand_finishes_it_commits_it_and_exits_zero(
    processor_factory, holds, kafka_settings, sqlite_url, signum
):
    produce_mixed(kafka_settings, 2000)
    holds.hold("polled")
    process = processor_factory(PROCESSOR_BATCH_SIZE="500", PROCESSOR_TEST_HOLD_DIR=str(holds.directory))
    held = wait_until(lambda: holds.reached("polled"), 60, message="a batch polled, nothing of it stored")
    assert stored(sqlite_url) == {}

    process.signal(signum)
    wait_until(lambda: '"msg": "stopping"' in process.output(), 10, message="the signal handled")
    holds.release("polled")
    started = time.monotonic()
    assert process.wait(10) == 0
    print(f"{signal.Signals(signum).name}: exited {time.monotonic() - started:.2f}s after the batch was released")

    # The batch in hand, and only it, was stored, published and committed before the exit.
    held_ids = ids_of(kafka_settings, held)
    assert set(stored(sqlite_url)) == held_ids
    assert committed_offsets(
        kafka_settings, group_of(kafka_settings), kafka_settings.topics.transactions
    ) == next_offsets(held)
    published = read_messages(kafka_settings, kafka_settings.topics.results)
    assert sorted(TransactionResult.from_json(m.value()).id for m in published) == sorted(held_ids)
    lines = [json.loads(line) for line in process.output().splitlines() if line]  # every line is JSON
    assert [line["msg"] for line in lines if line["msg"] in ("stopping", "processor stopped")] == [
        "stopping",
        "processor stopped",
    ]
    assert all(line["service"] == "processor" for line in lines)
    assert "4111111111111111" not in process.output() and "378282246310005" not in process.output()


def test_before_its_migration_the_processor_is_not_ready_and_consumes_nothing(
    processor_factory, kafka_settings, mysql_url
):
    """A new release's pod starts before its migration Job ran: it waits (alive, not ready),
    commits nothing, and decides everything once the schema is at its head."""
    total = 300
    expected = produce_mixed(kafka_settings, total)
    process, port = processor_serving_probes(processor_factory, DATABASE_URL=mysql_url, AUTO_MIGRATE="false")
    wait_until(lambda: "waiting for the database migrations" in process.output(), 60, message="the wait")
    assert http_status(port, "/healthz") == 200 and http_status(port, "/readyz") == 503
    assert committed_offsets(kafka_settings, group_of(kafka_settings), kafka_settings.topics.transactions) == {}

    migrate_processor(kafka_settings, mysql_url)
    wait_until(lambda: len(stored(mysql_url)) == total, 60, message="every transaction stored after the migration")
    assert http_status(port, "/readyz") == 200
    assert stored(mysql_url) == expected
    assert "batch failed" not in process.output()


def test_a_database_outage_commits_nothing_and_loses_nothing_once_the_database_is_back(
    processor_factory, kafka_settings, mysql_url
):
    """The table disappears under a running processor (every write fails): it keeps retrying
    without committing an offset, and decides everything once the table is back."""
    total = 500
    migrate_processor(kafka_settings, mysql_url)
    rename_table(mysql_url, "transactions", "transactions_away")
    process = processor_factory(DATABASE_URL=mysql_url, AUTO_MIGRATE="false")
    expected = produce_mixed(kafka_settings, total)
    wait_until(
        lambda: process.output().count("batch failed, will retry") >= 3,
        60,
        message="the processor to fail and retry against the missing table",
    )
    assert committed_offsets(kafka_settings, group_of(kafka_settings), kafka_settings.topics.transactions) == {}

    rename_table(mysql_url, "transactions_away", "transactions")
    wait_until(lambda: len(stored(mysql_url)) == total, 30, message="every transaction stored after the outage")
    assert stored(mysql_url) == expected
    assert process.process.poll() is None, "the processor rode out the outage"
    committed = committed_offsets(kafka_settings, group_of(kafka_settings), kafka_settings.topics.transactions)
    assert sum(committed.values()) == total


def processor_serving_probes(processor_factory, **env):
    """A processor with its /healthz and /readyz on a free port (started again if it lost that port)."""

    def attempt(_number: int):
        port = free_port()
        process = processor_factory(METRICS_PORT=str(port), **env)
        wait_until(
            lambda: http_status(port, "/healthz") or process.process.poll() is not None,
            30,
            message="the processor's probes",
        )
        if process.process.poll() is not None:
            raise (PortTaken if lost_a_port_race(process.output()) else AssertionError)(process.output()[-2000:])
        return process, port

    return retry_on_port_collision(attempt)


def migrate_processor(kafka_settings, url: str) -> None:
    migrate = subprocess.run(
        [sys.executable, "-m", "processor", "migrate"],
        capture_output=True,
        text=True,
        env=processor_env(kafka_settings, url),
        timeout=120,
    )
    assert migrate.returncode == 0, migrate.stderr


def rename_table(url: str, old: str, new: str) -> None:
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"RENAME TABLE {old} TO {new}")
    engine.dispose()


def http_status(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0
