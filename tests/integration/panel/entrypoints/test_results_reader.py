"""The panel's reader of transactions_result against the real broker."""

import threading

import pytest

from infra.kernel.contracts import TransactionResult
from infra.runtime.kafka import Record, build_acked_producer

from panel.entrypoints.results_reader import ResultsReader
from tests.support import wait_until


def result(transaction_id: str, account_id: str = "acc") -> TransactionResult:
    return TransactionResult(
        transaction_id,
        "approved",
        "",
        account_id,
        "10.00",
        "visa",
        "1111",
        "2026-11-23T10:00:00+00:00",
        "2026-11-23T10:00:01+00:00",
    )


class Collector:
    def __init__(self):
        self.ids: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, received: TransactionResult) -> None:
        with self._lock:
            self.ids.append(received.id)


@pytest.fixture
def start_reader(kafka_settings):
    readers = []

    def start(collector):
        reader = ResultsReader(kafka_settings, collector)
        reader.start()
        readers.append(reader)
        assert reader.ready.wait(20), "the reader never got its partitions"
        return reader

    yield start
    for reader in readers:
        reader.stop()


def publish(kafka_settings, results):
    records = [Record(kafka_settings.topics.results, r.to_json(), r.account_id.encode()) for r in results]
    build_acked_producer(kafka_settings, "test").send(records, timeout=10)


def test_every_panel_process_receives_every_result_published_after_it_started(kafka_settings, start_reader):
    publish(kafka_settings, [result("before-start")])
    first, second = Collector(), Collector()
    start_reader(first)
    start_reader(second)
    expected = [f"t{n}" for n in range(30)]
    publish(kafka_settings, [result(i, account_id=f"acc{n % 4}") for n, i in enumerate(expected)])
    for collector in (first, second):
        wait_until(lambda c=collector: len(c.ids) >= len(expected), 15, message="every result")
        assert sorted(collector.ids) == sorted(expected)  # nothing from before it started, nothing twice


def test_unreadable_messages_are_skipped_and_the_next_result_still_arrives(kafka_settings, start_reader):
    collector = Collector()
    start_reader(collector)
    topic = kafka_settings.topics.results
    build_acked_producer(kafka_settings, "test").send([Record(topic, b"not json", b"k")], timeout=10)
    publish(kafka_settings, [result("after-garbage")])
    wait_until(lambda: collector.ids == ["after-garbage"], 15, message="the result after the garbage")


def test_a_panel_started_after_a_batch_of_results_shows_none_of_it(kafka_settings, start_reader):
    """Tansu answers "where does this partition end" with its last batch's first offset + 1
    (infra/runtime/partition_ends.py): a reader starting there showed the rest of that batch as new."""
    publish(kafka_settings, [result(f"before-{n}") for n in range(5)])  # one key: one partition, one batch
    collector = Collector()
    start_reader(collector)
    publish(kafka_settings, [result("after")])
    wait_until(lambda: "after" in collector.ids, 15, message="the result published after the start")
    assert collector.ids == ["after"]
