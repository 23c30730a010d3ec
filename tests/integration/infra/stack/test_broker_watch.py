"""`make run` warns, with what to do, once the embedded broker stores enough to slow the stack down."""

from __future__ import annotations

import uuid

from confluent_kafka import Consumer

from infra.runtime.kafka import Record, build_acked_producer, client_config
from infra.stack.broker_watch import BrokerWatch


def store(kafka_settings, count: int) -> None:
    """One batch per message, as the API stores them, all on one merchant's partition."""
    producer = build_acked_producer(kafka_settings, "watch-test", **{"linger.ms": 0})
    for _ in range(count):
        producer.send([Record(kafka_settings.topics.transactions, b"{}", b"one-merchant")], timeout=30)


def watched(kafka_settings, threshold: int):
    said: list[str] = []
    consumer = Consumer(client_config(kafka_settings, "watch-test") | {"group.id": f"w{uuid.uuid4().hex}"})
    return BrokerWatch(kafka_settings, threshold, interval=1, say=said.append), consumer, said


def test_says_nothing_while_every_partition_holds_less_than_the_threshold(kafka_settings):
    watch, consumer, said = watched(kafka_settings, threshold=50)
    store(kafka_settings, 49)
    watch.check(consumer)
    consumer.close()
    assert said == []


def test_warns_with_what_to_do_when_a_partition_passes_the_threshold_and_again_when_it_doubles(kafka_settings):
    watch, consumer, said = watched(kafka_settings, threshold=50)
    store(kafka_settings, 60)
    watch.check(consumer)
    watch.check(consumer)
    store(kafka_settings, 60)
    watch.check(consumer)
    consumer.close()
    assert len(said) == 2
    assert f" messages on {kafka_settings.topics.transactions}[" in said[0]
    assert "wait until nothing is pending" in said[0] and "KAFKA_BOOTSTRAP_SERVERS" in said[0]


def test_make_run_reads_the_threshold_and_zero_turns_the_watch_off(kafka_settings):
    from infra.runtime.settings import EnvReader
    from infra.stack import StackSettings

    settings = StackSettings.from_env(
        EnvReader({"EMBEDDED_BROKER_WARN_MESSAGES": "0", "EMBEDDED_BROKER_WATCH_SECONDS": "5"})
    )
    assert (settings.broker_warn_messages, settings.broker_watch_seconds) == (0, 5)
    assert (StackSettings().broker_warn_messages, StackSettings().broker_watch_seconds) == (5000, 5)
    assert StackSettings().broker_renew_messages == 10000
    watch = BrokerWatch(kafka_settings, settings.broker_warn_messages, 1, say=print).start()
    assert not watch._thread.is_alive()
    watch.stop()


def failing_renewal(kafka_settings):
    """A renewal that can never start: its group has not read what is stored (a consumer down)."""
    from infra.runtime.publish_gate import PublishGate
    from infra.stack.broker_renewal import BrokerRenewal
    from infra.stack.embedded_broker import EmbeddedBroker

    never_started = EmbeddedBroker(int(kafka_settings.bootstrap_servers.rsplit(":", 1)[1]), settings=kafka_settings)
    return BrokerRenewal(
        never_started, PublishGate(""), {f"g{uuid.uuid4().hex}": [kafka_settings.topics.transactions]}, max_behind=0
    )


def test_with_renewals_on_it_says_nothing_below_the_renewal_threshold(kafka_settings):
    said: list[str] = []
    consumer = Consumer(client_config(kafka_settings, "watch-test") | {"group.id": f"w{uuid.uuid4().hex}"})
    watch = BrokerWatch(
        kafka_settings, 20, interval=1, say=said.append, renewal=failing_renewal(kafka_settings), renew_at=100
    )
    store(kafka_settings, 60)  # past the warning threshold, below the renewal one
    watch.check(consumer)
    consumer.close()
    assert said == []


def test_when_renewals_fail_it_says_so_once_and_warns_with_what_to_do(kafka_settings):
    said: list[str] = []
    consumer = Consumer(client_config(kafka_settings, "watch-test") | {"group.id": f"w{uuid.uuid4().hex}"})
    watch = BrokerWatch(
        kafka_settings, 20, interval=1, say=said.append, renewal=failing_renewal(kafka_settings), renew_at=30
    )
    store(kafka_settings, 35)
    for _ in range(3):
        watch.check(consumer)
    consumer.close()
    assert len(said) == 2 and watch.renewals == []
    assert "was not renewed" in said[0] and "messages behind" in said[0]
    assert "wait until nothing is pending" in said[1]
