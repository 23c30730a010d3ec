"""The broker refuses the results: the batch is retried, nothing is committed, nothing is lost."""

import dataclasses
import threading

import sqlalchemy
from prometheus_client import CollectorRegistry

from infra.kernel.contracts import TransactionResult

from processor.bootstrap import build_processor
from processor.settings import Settings
from tests.support import wait_until
from tests.support.kafka import committed_offsets
from tests.support.transactions import TEST_CARD_KEYS, TopicReader, produce_mixed

GROUP = "processor-publish-failure"
# The broker answers every write to this name with "invalid topic": each publish of results fails.
REFUSED_TOPIC = "results refused: not a topic name!"


class RunningProcessor:
    def __init__(self, settings: Settings):
        self.registry, self.stop = CollectorRegistry(), threading.Event()
        self._thread = threading.Thread(target=build_processor(settings, self.registry).run, args=(self.stop,))
        self._thread.start()

    def failures(self) -> float:
        return self.registry.get_sample_value("processor_batch_failures_total") or 0

    def close(self) -> None:
        self.stop.set()
        self._thread.join(15)
        assert not self._thread.is_alive(), "the processor did not stop"


def stored_processed_at(url: str) -> dict[str, str]:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return dict(connection.exec_driver_sql("SELECT id, processed_at FROM transactions").all())
    finally:
        engine.dispose()


def test_a_batch_whose_results_the_broker_refuses_is_retried_uncommitted_and_decided_once(kafka_settings, sqlite_url):
    expected = produce_mixed(kafka_settings, 300)
    settings = Settings(
        kafka=kafka_settings,
        database_url=sqlite_url,
        group_id=GROUP,
        metrics_port=0,
        publish_timeout_seconds=1.0,
        card_data_keys=TEST_CARD_KEYS,
    )
    refused = dataclasses.replace(
        settings.kafka, topics=dataclasses.replace(kafka_settings.topics, results=REFUSED_TOPIC)
    )
    first = RunningProcessor(dataclasses.replace(settings, kafka=refused))
    try:
        wait_until(lambda: first.failures() >= 2, 30, message="the batch to fail twice on the refused publish")
        assert committed_offsets(kafka_settings, GROUP, kafka_settings.topics.transactions) == {}
        decided_first = stored_processed_at(sqlite_url)  # stored before the publish failed: allowed, not committed
        assert decided_first
    finally:
        first.close()
    assert committed_offsets(kafka_settings, GROUP, kafka_settings.topics.transactions) == {}

    second = RunningProcessor(settings)  # the same group, now able to publish: the batch comes again
    try:
        wait_until(
            lambda: (
                sum(committed_offsets(kafka_settings, GROUP, kafka_settings.topics.transactions).values())
                == len(expected)
            ),
            60,
            message="every offset committed once the results are acknowledged",
        )
    finally:
        second.close()
    reader = TopicReader(kafka_settings, kafka_settings.topics.results)
    results = [TransactionResult.from_json(value) for value in reader.read_until(len(expected), 30)]
    reader.close()
    assert {r.id: r.error_message for r in results} == expected and len(results) == len(expected)
    assert stored_processed_at(sqlite_url).items() >= decided_first.items()  # earlier decisions kept, replayed
