"""Consumer-lag gauges on the real broker: after a rebalance each member exports the lag of the
partitions it owns and nothing else, so summing the members counts each partition once."""

import threading
import uuid

from confluent_kafka import Consumer
from prometheus_client import CollectorRegistry, Gauge

from infra.runtime.kafka import Record, build_acked_producer, consumer_config
from infra.runtime.metrics import consumer_lag_stats_callback

from tests.support import wait_until


class Member:
    """A group member that polls in a thread and exports its lag gauge as the services do."""

    def __init__(self, kafka_settings, group: str, topic: str):
        self.gauge = Gauge("lag", "lag", ["topic", "partition"], registry=CollectorRegistry())
        self.owned: set[str] = set()
        config = consumer_config(
            kafka_settings,
            f"lag-{uuid.uuid4().hex[:6]}",
            group,
            **{"statistics.interval.ms": 100, "stats_cb": consumer_lag_stats_callback(self.gauge)},
        )
        self._consumer = Consumer(config)
        self._consumer.subscribe([topic], on_assign=self._assigned, on_revoke=self._revoked)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _assigned(self, _consumer, partitions):
        self.owned = {str(tp.partition) for tp in partitions}

    def _revoked(self, _consumer, _partitions):
        self.owned = set()

    def _poll(self):
        while not self._stop.is_set():
            message = self._consumer.poll(0.1)
            if message is not None and message.error() is None:  # committed, as the services do
                self._consumer.commit(message, asynchronous=False)
        self._consumer.close()

    def exported(self) -> set[str]:
        return {sample.labels["partition"] for metric in self.gauge.collect() for sample in metric.samples}

    def stop(self):
        self._stop.set()
        self._thread.join(15)


def test_a_member_stops_exporting_the_lag_of_partitions_a_rebalance_moved_away(kafka_settings):
    topic, group = kafka_settings.topics.results, f"lag-{uuid.uuid4().hex[:8]}"
    build_acked_producer(kafka_settings, "test").send(
        [Record(topic, b"{}", f"key-{n}".encode()) for n in range(60)], timeout=10
    )
    first = Member(kafka_settings, group, topic)
    members = [first]
    try:
        wait_until(lambda: len(first.exported()) == kafka_settings.partitions, 30, message="lag of every partition")
        members.append(Member(kafka_settings, group, topic))
        wait_until(lambda: all(member.owned for member in members), 60, message="the rebalance")
        wait_until(
            lambda: all(member.exported() == member.owned for member in members),
            15,
            message="each member exporting exactly its own partitions",
        )
        assert first.exported().isdisjoint(members[1].exported())
    finally:
        for member in members:
            member.stop()
