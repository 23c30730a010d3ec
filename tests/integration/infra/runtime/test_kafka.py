import threading
import time
import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from prometheus_client import CollectorRegistry, Counter, Gauge

from infra.runtime.consumer_loop import BatchConsumerLoop, LoopSettings
from infra.runtime.kafka import (
    DeliveryError,
    KafkaSettings,
    Record,
    build_acked_producer,
    consumer_config,
    producer_config,
)
from infra.runtime.offset_gaps import OffsetGaps
from infra.stack.embedded_broker import EmbeddedBroker, free_port

from tests.support import wait_until
from tests.support.kafka import committed_offsets, read_messages

# one_sender: librdkafka reports only failures, and a send is done when the producer's queue is empty.
SENDERS = pytest.mark.parametrize("one_sender", [False, True], ids=["reports-per-record", "one-sender"])


@SENDERS
def test_acked_producer_returns_after_every_record_is_acknowledged(kafka_settings, one_sender):
    producer = build_acked_producer(kafka_settings, "test", one_sender=one_sender)
    records = [Record(kafka_settings.topics.transactions, f"m{i}".encode(), b"k") for i in range(500)]
    producer.send(records, timeout=10)
    assert producer.flush(0) == 0  # nothing left in flight once send returned
    stored = read_messages(kafka_settings, kafka_settings.topics.transactions)
    assert sorted(message.value() for message in stored) == sorted(record.value for record in records)


@SENDERS
def test_acked_producer_leaves_the_partition_to_the_key_as_a_plain_produce_does(kafka_settings, one_sender):
    topic = kafka_settings.topics.transactions
    keys = [f"acct-{i}".encode() for i in range(24)]
    plain = Producer(producer_config(kafka_settings, "plain"))
    for key in keys:
        plain.produce(topic, value=b"plain", key=key)
    assert plain.flush(10) == 0
    build_acked_producer(kafka_settings, "test", one_sender=one_sender).send(
        [Record(topic, b"acked", key) for key in keys], timeout=10
    )
    where: dict[bytes, dict[bytes, int]] = {b"plain": {}, b"acked": {}}
    for message in read_messages(kafka_settings, topic):
        where[message.value()][message.key()] = message.partition()
    assert where[b"acked"] == where[b"plain"] and len(set(where[b"plain"].values())) > 1


@SENDERS
def test_acked_producer_sends_more_records_than_its_queue_holds(kafka_settings, one_sender):
    producer = build_acked_producer(
        kafka_settings, "test", one_sender=one_sender, **{"queue.buffering.max.messages": 50}
    )
    records = [Record(kafka_settings.topics.transactions, f"m{i}".encode(), b"k") for i in range(1000)]
    producer.send(records, timeout=20)
    assert producer.flush(0) == 0


@SENDERS
def test_acked_producer_reports_a_topic_that_does_not_exist_at_its_deadline(kafka_settings, one_sender):
    # Propagation 0: librdkafka refuses the record at once, as a producer running for minutes does;
    # the producer asks the broker again until the deadline, no longer.
    producer = build_acked_producer(
        kafka_settings, "test", one_sender=one_sender, **{"topic.metadata.propagation.max.ms": 0}
    )
    producer.send([Record(kafka_settings.topics.transactions, b"known first")], timeout=10)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="1 writes refused, first: .*Unknown topic"):
        producer.send([Record(f"{kafka_settings.topics.transactions}_missing", b"x")], timeout=1)
    assert 0.9 <= time.monotonic() - started < 2


@SENDERS
def test_acked_producer_raises_for_records_librdkafka_gave_up_on(one_sender):
    # Nothing listens on the port: every record times out in librdkafka (a failed delivery report),
    # which a one-sender producer must count as refused, not as acknowledged by an empty queue.
    settings = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")
    producer = build_acked_producer(settings, "test", one_sender=one_sender, **{"message.timeout.ms": 300})
    with pytest.raises(DeliveryError, match="3 writes refused, first: .*timed out"):
        producer.send([Record("anything", f"m{i}".encode()) for i in range(3)], timeout=10)


def test_acked_producer_raises_when_the_broker_does_not_answer_by_the_deadline():
    settings = KafkaSettings(bootstrap_servers=f"127.0.0.1:{free_port()}")
    producer = build_acked_producer(settings, "test", one_sender=True)
    started = time.monotonic()
    with pytest.raises(DeliveryError, match="2 of 2 writes not acknowledged in 0.5s"):
        producer.send([Record("anything", b"a"), Record("anything", b"b")], timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_a_one_sender_producer_refuses_a_second_sending_thread(kafka_settings):
    producer = build_acked_producer(kafka_settings, "test", one_sender=True)
    producer.send([Record(kafka_settings.topics.transactions, b"first")], timeout=10)
    raised = []

    def send_from_another_thread():
        try:
            producer.send([Record(kafka_settings.topics.transactions, b"second")], timeout=10)
        except RuntimeError as exc:
            raised.append(exc)

    thread = threading.Thread(target=send_from_another_thread)
    thread.start()
    thread.join()
    assert raised and "second thread" in str(raised[0])


def test_batch_loop_retries_a_failing_batch_then_commits_it(kafka_settings):
    topic = kafka_settings.topics.transactions
    build_acked_producer(kafka_settings, "test").send([Record(topic, f"m{i}".encode()) for i in range(50)], 10)
    seen, failures_left, stop = [], [2], threading.Event()
    group = f"g-{uuid.uuid4().hex}"
    committed_while_failing = []

    def handle(batch):
        if failures_left[0]:
            failures_left[0] -= 1
            committed_while_failing.append(committed_offsets(kafka_settings, group, topic))
            raise ConnectionError("database down")
        seen.extend(m.value() for m in batch)
        if len(set(seen)) == 50:
            stop.set()

    consumer = Consumer(consumer_config(kafka_settings, "test", group))
    consumer.subscribe([topic])
    thread = threading.Thread(
        target=BatchConsumerLoop(consumer, handle, LoopSettings(first_backoff=0.05)).run, args=(stop,), daemon=True
    )  # a failing run must not keep pytest alive
    thread.start()
    thread.join(30)
    stop.set()
    assert not thread.is_alive()
    assert failures_left == [0] and len(set(seen)) == 50

    # Nothing was committed while the batch failed; everything once it succeeded.
    assert committed_while_failing == [{}, {}]
    assert sum(committed_offsets(kafka_settings, group, topic).values()) == 50


def test_assignment_gauge_counts_owned_partitions_and_drops_to_zero_on_close(kafka_settings):
    registry = CollectorRegistry()
    assigned = Gauge("assigned_partitions", "test", registry=registry)
    owned = lambda: registry.get_sample_value("assigned_partitions")  # noqa: E731
    consumer = Consumer(consumer_config(kafka_settings, "test", f"g-{uuid.uuid4().hex}"))
    BatchConsumerLoop(consumer, lambda batch: None).subscribe([kafka_settings.topics.transactions], assigned)
    assert owned() == 0

    wait_until(lambda: consumer.poll(0.1) is None and owned() > 0, 30, interval=0, message="an assignment")
    assert owned() == kafka_settings.partitions
    consumer.close()
    assert owned() == 0


class ConsumerThatMissesOneMessage(Consumer):
    """Hides one record the first time it is fetched, as Tansu does under concurrent appends."""

    def __init__(self, config, hide_offset: int):
        super().__init__(config)
        self.hide_offset, self.hidden = hide_offset, False

    def poll(self, *args, **kwargs):
        message = super().poll(*args, **kwargs)
        return None if message is not None and self._hides(message) else message

    def consume(self, *args, **kwargs):
        return [m for m in super().consume(*args, **kwargs) if not self._hides(m)]

    def _hides(self, message) -> bool:
        if self.hidden or message.error() is not None or message.offset() != self.hide_offset:
            return False
        self.hidden = True
        return True


def test_batch_loop_re_reads_a_record_the_broker_skipped_and_commits_past_it_only_then(kafka_settings):
    topic = kafka_settings.topics.transactions
    records = [Record(topic, f"m{i}".encode(), b"one-partition") for i in range(300)]
    build_acked_producer(kafka_settings, "test").send(records, 10)
    group, seen, stop = f"g-{uuid.uuid4().hex}", [], threading.Event()
    consumer = ConsumerThatMissesOneMessage(consumer_config(kafka_settings, "test", group), hide_offset=150)

    def handle(batch):
        seen.extend(m.offset() for m in batch)
        stop.set() if len(set(seen)) == 300 else None

    loop = BatchConsumerLoop(consumer, handle, LoopSettings(batch_size=100))
    loop.subscribe([topic])
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)  # a failing run must not keep pytest alive
    thread.start()
    thread.join(30)
    stop.set()
    assert consumer.hidden and sorted(set(seen)) == list(range(300)), "the skipped record was never re-read"
    thread.join(10)
    assert not thread.is_alive()
    assert sum(committed_offsets(kafka_settings, group, topic).values()) == 300


def partition_of(kafka_settings, topic: str) -> int:
    probe = Consumer(consumer_config(kafka_settings, "test", f"probe-{uuid.uuid4().hex}"))
    try:
        (partition,) = [
            p
            for p in range(kafka_settings.partitions)
            if probe.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] > 0
        ]
        return partition
    finally:
        probe.close()


def commit(kafka_settings, group: str, position: TopicPartition) -> None:
    committer = Consumer(consumer_config(kafka_settings, "test", group))
    committer.commit(offsets=[position], asynchronous=False)
    committer.close()


def test_a_hole_at_the_first_offset_after_a_restart_is_re_read_not_committed_past(kafka_settings):
    """A member (re)starting at committed offset 5 is served 6 before 5: it must wait for 5."""
    topic = kafka_settings.topics.transactions
    build_acked_producer(kafka_settings, "test").send([Record(topic, f"m{i}".encode(), b"k") for i in range(10)], 10)
    partition, group = partition_of(kafka_settings, topic), f"g-{uuid.uuid4().hex}"
    commit(kafka_settings, group, TopicPartition(topic, partition, 5))
    consumer = ConsumerThatMissesOneMessage(consumer_config(kafka_settings, "test", group), hide_offset=5)
    seen, stop = [], threading.Event()

    def handle(batch):
        seen.extend(m.offset() for m in batch)
        stop.set() if set(seen) >= set(range(5, 10)) else None

    loop = BatchConsumerLoop(consumer, handle, LoopSettings(batch_size=100), OffsetGaps(give_up_after=60))
    loop.subscribe([topic])
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    thread.start()
    thread.join(30)
    stop.set()
    thread.join(10)
    assert consumer.hidden and sorted(set(seen)) == list(range(5, 10))
    assert committed_offsets(kafka_settings, group, topic) == {partition: 10}


def test_a_static_reader_starts_again_from_the_first_offset_of_a_broker_that_lost_everything():
    """The development stack's consumers read without a group (KAFKA_STATIC_ASSIGNMENT) and its
    embedded broker is renewed empty: no group join resets their positions, they must see the new
    broker's ends below them, start those partitions from offset 0 and commit there."""
    port = free_port()
    settings = KafkaSettings(
        bootstrap_servers=f"127.0.0.1:{port}", partitions=2, reconnect_backoff_max_ms=100, idempotent_producer=False
    )
    topic = settings.topics.transactions
    registry = CollectorRegistry()
    given = Counter("given", "test", registry=registry)
    followed = lambda: registry.get_sample_value("given_total")  # noqa: E731
    seen, stop = [], threading.Event()
    group = f"g-{uuid.uuid4().hex}"
    with EmbeddedBroker(port, settings=settings) as broker:
        producer = Producer(producer_config(settings, "test"))

        def send(values: list[bytes], partition_of) -> None:
            for i, value in enumerate(values):
                producer.produce(topic, value, partition=partition_of(i))
            assert producer.flush(10) == 0

        send([f"old{i}".encode() for i in range(7)], lambda i: i % 2)
        loop = BatchConsumerLoop(
            Consumer(consumer_config(settings, "test", group)), lambda batch: seen.extend(m.value() for m in batch)
        )
        loop.subscribe([topic], assignments=given, static=True)
        thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
        thread.start()
        try:
            wait_until(lambda: len(seen) == 7, 30, message="the first broker's records read")
            assert followed() == 1
            # As a renewal drains before the swap: the commits are on the old broker. One still in flight
            # at the restart would be retried on the new one, a stale {1: 3} there (CI, once).
            wait_until(lambda: committed_offsets(settings, group, topic) == {0: 4, 1: 3}, 10, message="commits")

            broker.restart()
            wait_until(lambda: followed() == 2, 10, message="the reader following the new broker")
            send([b"new0", b"new1"], lambda i: 0)
            wait_until(lambda: seen[7:] == [b"new0", b"new1"], 10, message="the new broker's records read")
        finally:
            stop.set()
            thread.join(10)
        assert committed_offsets(settings, group, topic) == {0: 2}


def test_no_client_creates_a_topic_by_asking_for_it(kafka_settings):
    """A producer that asks for a topic the broker lacks (a renewed embedded broker before its topics
    are back) must not create it: Tansu would give it 4 partitions and keys would move."""
    missing = f"{kafka_settings.topics.transactions}_missing"
    producer = Producer(producer_config(kafka_settings, "test"))
    producer.produce(missing, b"x")
    producer.flush(2)
    consumer = Consumer(consumer_config(kafka_settings, "test", f"g-{uuid.uuid4().hex}"))
    try:
        consumer.list_topics(missing, timeout=5)
        assert missing not in consumer.list_topics(timeout=5).topics
    finally:
        consumer.close()
