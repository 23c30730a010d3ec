"""The embedded broker started afresh under a running consumer and a gated producer: nothing
unread is dropped, dead letters are carried over, clients carry on by themselves
(infra/stack/broker_renewal.py). A real Tansu, real librdkafka clients."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from infra.kernel.contracts import Topics
from infra.runtime.consumer_loop import fetch_batch, starting_positions
from infra.runtime.kafka import AckedProducer, KafkaSettings, Record, consumer_config, producer_config
from infra.runtime.offset_gaps import OffsetGaps
from infra.runtime.publish_gate import PublishGate
from infra.stack import embedded_broker
from infra.stack.broker_renewal import Assignments, BrokerRenewal, NotDrained, renew_or_explain
from infra.stack.embedded_broker import EmbeddedBroker, free_port

from tests.support.kafka import write_one_batch

GROUP = "renewal-test-processor"


@pytest.fixture
def broker():
    port = free_port()
    settings = KafkaSettings(
        bootstrap_servers=f"127.0.0.1:{port}",
        topics=Topics.with_prefix("r_"),
        partitions=2,
        session_timeout_ms=2000,
        heartbeat_interval_ms=100,
        reconnect_backoff_max_ms=100,
        idempotent_producer=False,
    )
    with EmbeddedBroker(port, settings=settings) as running:
        yield running


class Reader:
    """A consumer of ``transactions`` in GROUP that commits what it reads, in a thread. It reads as the
    gateway's consumers do (``fetch_batch`` with ``OffsetGaps``): with 4 writers at once, Tansu 0.6.0 may
    serve a later record before an earlier one, and a reader without the guard skipped that record (1 of
    2,551 in CI) and committed past it."""

    def __init__(self, settings: KafkaSettings):
        self.values: list[bytes] = []
        self.assigned = 0
        self.given = 0
        self._gaps = OffsetGaps()
        self._stop = threading.Event()
        self._consumer = Consumer(consumer_config(settings, "reader", GROUP))
        self._consumer.subscribe(
            [settings.topics.transactions],
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _on_assign(self, consumer, partitions):
        self._gaps.seed(starting_positions(consumer, partitions))
        self.assigned = len(partitions)
        self.given += 1

    def assignments(self) -> Assignments:
        return Assignments(owned=self.assigned, given=self.given)

    def _on_revoke(self, _consumer, partitions):
        self._gaps.forget((p.topic, p.partition) for p in partitions)
        self.assigned = 0

    def start(self) -> "Reader":
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            for message in fetch_batch(self._consumer, self._gaps, 100, 0.1):
                self.values.append(message.value())
                try:
                    self._consumer.commit(message, asynchronous=False)
                except Exception:  # noqa: BLE001 - a commit refused by a new broker: read again later
                    pass
        self._consumer.close()

    def stop(self):
        self._stop.set()
        self._thread.join(10)


def wait_for(condition, timeout=20, explain=lambda: ""):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out {explain()}"
        time.sleep(0.05)


def gated_producer(settings):
    return AckedProducer(Producer(producer_config(settings, "api")), serve_reports_in_background=True)


def test_renewal_swaps_the_broker_once_everything_is_read_and_carries_the_dead_letters_over(broker, tmp_path):
    settings = broker.settings
    gate = PublishGate(tmp_path / "gate")
    producer = gated_producer(settings)
    reader = Reader(settings).start()
    wait_for(lambda: reader.assigned > 0)
    dead = Producer(producer_config(settings, "dlq"))
    for i in range(3):
        dead.produce(
            settings.topics.dlq,
            value=f"poison {i}".encode(),
            key=b"k",
            partition=i % 2,
            headers=[("error", b"bad json")],
        )
    dead.flush(10)
    for i in range(20):
        with gate.passage():
            producer.send([Record(settings.topics.transactions, f"before {i}".encode(), b"merchant")], timeout=10)
    old_pid = broker.pid
    renewal = BrokerRenewal(broker, gate, {GROUP: [settings.topics.transactions]}, assignments=[reader.assignments])

    done = renewal.renew()

    assert broker.pid != old_pid and broker.is_running()
    assert sorted(reader.values) == sorted(f"before {i}".encode() for i in range(20))  # read before the swap
    assert done.dead_letters == 3 and done.rejoined
    assert broker.retired_cpu_seconds > 0
    check = Consumer(consumer_config(settings, "check", f"check-{uuid.uuid4().hex}"))
    carried = []
    check.assign([TopicPartition(settings.topics.dlq, p, 0) for p in range(2)])
    wait_for(
        lambda: carried.extend(m for m in [check.poll(0.2)] if m is not None and not m.error()) or len(carried) >= 3
    )
    check.close()
    assert sorted((m.value(), m.partition(), m.headers()) for m in carried) == [
        (b"poison 0", 0, [("error", b"bad json")]),
        (b"poison 1", 1, [("error", b"bad json")]),
        (b"poison 2", 0, [("error", b"bad json")]),
    ]
    # The same clients carry on against the new broker: the writes are read, once each.
    for i in range(10):
        with gate.passage():
            producer.send([Record(settings.topics.transactions, f"after {i}".encode(), b"merchant")], timeout=10)
    wait_for(lambda: {f"after {i}".encode() for i in range(10)} <= set(reader.values))
    reader.stop()
    producer.close()
    assert all(reader.values.count(f"after {i}".encode()) == 1 for i in range(10))


def test_nothing_is_swapped_while_a_group_has_not_read_everything(broker, tmp_path):
    settings = dataclasses.replace(broker.settings)
    producer = gated_producer(settings)
    producer.send([Record(settings.topics.transactions, b"unread", b"merchant")], timeout=10)
    old_pid = broker.pid
    renewal = BrokerRenewal(
        broker, PublishGate(tmp_path / "gate"), {GROUP: [settings.topics.transactions]}, drain_timeout=0.5
    )

    with pytest.raises(NotDrained, match=f"{GROUP} still had 1 messages"):
        renewal.renew()
    done, line = renew_or_explain(renewal)

    assert broker.pid == old_pid and done is None
    assert "not renewed" in line and "trying again later" in line
    far_behind = BrokerRenewal(
        broker, PublishGate(tmp_path / "gate"), {GROUP: [settings.topics.transactions]}, max_behind=0
    )
    with pytest.raises(NotDrained, match="the consumers are 1 messages behind"):  # the gate never closed
        far_behind.renew()
    with PublishGate(tmp_path / "gate").passage():  # the gate is open again
        producer.send([Record(settings.topics.transactions, b"next", b"merchant")], timeout=10)
    producer.close()


def test_dead_letters_written_as_one_batch_are_all_carried_over(broker, tmp_path):
    settings = broker.settings
    write_one_batch(
        settings, settings.topics.dlq, [b"poison 0", b"poison 1", b"poison 2"], headers=[("error", b"bad json")]
    )
    renewal = BrokerRenewal(broker, PublishGate(tmp_path / "gate"), {})

    done = renewal.renew()

    assert done.dead_letters == 3
    check = Consumer(consumer_config(settings, "check", f"check-{uuid.uuid4().hex}"))
    carried = []
    check.assign([TopicPartition(settings.topics.dlq, 0, 0)])
    wait_for(
        lambda: carried.extend(m for m in [check.poll(0.2)] if m is not None and not m.error()) or len(carried) >= 3
    )
    check.close()
    assert [m.value() for m in carried] == [b"poison 0", b"poison 1", b"poison 2"]


def test_nothing_is_swapped_while_a_group_has_read_only_part_of_the_last_batch(broker, tmp_path):
    settings = broker.settings
    write_one_batch(settings, settings.topics.transactions, [b"read", b"unread 1", b"unread 2"])
    member = Consumer(consumer_config(settings, "reader", GROUP))
    member.commit(offsets=[TopicPartition(settings.topics.transactions, 0, 1)], asynchronous=False)
    member.close()
    old_pid = broker.pid
    renewal = BrokerRenewal(
        broker, PublishGate(tmp_path / "gate"), {GROUP: [settings.topics.transactions]}, drain_timeout=0.5
    )

    with pytest.raises(NotDrained, match=f"{GROUP} still had 2 messages"):
        renewal.renew()

    assert broker.pid == old_pid


class Writers:
    """Threads writing through the gate all along, each value once; what failed is kept, not raised."""

    def __init__(self, gate, producer_for, count=4, pause=0.0, timeout=10, close_producers=True):
        self.sent, self.failures = [], []
        self._close_producers = close_producers
        self._gate, self._pause, self._timeout = gate, pause, timeout
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._write, args=(n, producer_for)) for n in range(count)]

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(15)

    def _write(self, writer, producer_for):
        producer, topic = producer_for()
        i = 0
        while not self._stop.is_set():
            value = f"{writer}-{i}".encode()
            try:
                with self._gate.passage():
                    producer.send([Record(topic, value, value)], timeout=self._timeout)
                self.sent.append(value)
            except Exception as exc:  # noqa: BLE001 - counted, and the test fails on any
                self.failures.append(exc)
            i += 1
            time.sleep(self._pause)
        if self._close_producers:
            producer.close()


def test_writes_that_wait_at_the_gate_during_a_renewal_reach_the_new_broker(broker, tmp_path):
    settings = broker.settings
    gate = PublishGate(tmp_path / "gate")
    reader = Reader(settings).start()
    wait_for(lambda: reader.assigned > 0)
    renewal = BrokerRenewal(broker, gate, {GROUP: [settings.topics.transactions]}, assignments=[reader.assignments])

    with Writers(gate, lambda: (gated_producer(settings), settings.topics.transactions)) as writers:
        time.sleep(1)
        renewals = [renewal.renew() for _ in range(2) if not time.sleep(1)]
        time.sleep(1)

    def unread():
        return set(writers.sent) - set(reader.values)

    wait_for(  # on a timeout, say what was left: writes lost, or a reader that never came back
        lambda: not unread(),
        explain=lambda: (
            f"{len(unread())} of {len(writers.sent)} written values never read, e.g. {sorted(unread())[:3]}; "
            f"renewals rejoined {[r.rejoined for r in renewals]}; the reader owns {reader.assigned} partitions, "
            f"given {reader.given} times"
        ),
    )
    reader.stop()
    assert writers.failures == []
    assert len(renewals) == 2 and all(r.rejoined for r in renewals)
    assert len(writers.sent) > 100


def test_writes_are_not_refused_by_a_producer_that_saw_the_new_broker_without_its_topics(broker, tmp_path, monkeypatch):
    """The soak's 503s: a producer asking for metadata (every 100 ms) between the new broker's start and
    its topics took the topic for gone ("partition count changed from 6 to 0"), and refused the writes
    the gate let through until its next answer. librdkafka does that only to a topic known for longer
    than topic.metadata.propagation.max.ms (30 s: the API in any soak); 0.5 s here stands for that.
    The topics come 0.3 s late so that every renewal has such an answer, and the gate opens as soon
    as they exist (no consumer to wait for), before the producer asks again."""
    settings = broker.settings
    create_topics = embedded_broker.ensure_topics
    monkeypatch.setattr(embedded_broker, "ensure_topics", lambda *a, **kw: time.sleep(0.3) or create_topics(*a, **kw))
    gate = PublishGate(tmp_path / "gate")
    reader = Reader(settings).start()
    wait_for(lambda: reader.assigned > 0)
    renewal = BrokerRenewal(broker, gate, {GROUP: [settings.topics.transactions]})
    api_like = {"linger.ms": 20, "delivery.timeout.ms": 5000, "topic.metadata.propagation.max.ms": 500}
    producer = AckedProducer(Producer(producer_config(settings, "api", **api_like)), serve_reports_in_background=True)

    with Writers(
        gate, lambda: (producer, settings.topics.transactions), pause=0.005, timeout=5, close_producers=False
    ) as writers:
        renewals = [renewal.renew() for _ in range(3) if not time.sleep(1)]
        time.sleep(0.5)

    wait_for(lambda: set(writers.sent) <= set(reader.values))
    reader.stop()
    producer.close()
    assert len(renewals) == 3
    failures, sent = writers.failures, writers.sent
    assert failures == [], f"{len(failures)} of {len(failures) + len(sent)} writes refused, first: {failures[0]}"
