"""Looking into the broker the way an auditor would: every record of a topic, a group's committed offsets."""

from __future__ import annotations

import time
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Message, Producer, TopicPartition

from infra.runtime.kafka import KafkaSettings, consumer_config, producer_config


def read_messages(kafka_settings: KafkaSettings, topic: str, timeout: float = 10) -> list[Message]:
    """Every message in ``topic`` right now (acked writes are all there), read without a consumer group.

    Reads until every partition reports its end: Tansu's ListOffsets answers a wrong high watermark
    for partitions written in multi-record batches, its fetch responses do not.
    """
    config = consumer_config(
        kafka_settings, "test-reader", f"reader-{uuid.uuid4().hex}", **{"enable.partition.eof": True}
    )
    consumer = Consumer(config)
    try:
        partitions = consumer.list_topics(topic, timeout=timeout).topics[topic].partitions
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        messages, ended, deadline = [], set(), time.monotonic() + timeout
        while len(ended) < len(partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: partitions {sorted(set(partitions) - ended)} not read to the end")
            for message in consumer.consume(500, 0.2):
                if message.error() is None:
                    messages.append(message)
                elif message.error().code() == KafkaError._PARTITION_EOF:
                    ended.add(message.partition())
        return messages
    finally:
        consumer.close()


def committed_offsets(kafka_settings: KafkaSettings, group: str, topic: str) -> dict[int, int]:
    """``partition -> offset`` the group has committed on ``topic`` (partitions without a commit left out).

    Asked with the group's id but without joining it, so a running member is not disturbed.
    """
    consumer = Consumer(consumer_config(kafka_settings, "test-offsets", group))
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        committed = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
        return {tp.partition: tp.offset for tp in committed if tp.offset >= 0}
    finally:
        consumer.close()


def values_at(kafka_settings: KafkaSettings, positions: list[tuple[str, int, int]]) -> list[bytes]:
    """The values of the records at ``(topic, partition, offset)`` positions."""
    wanted = {(topic, partition, offset) for topic, partition, offset in positions}
    by_position = {
        (m.topic(), m.partition(), m.offset()): m.value()
        for topic in {t for t, _, _ in wanted}
        for m in read_messages(kafka_settings, topic)
    }
    return [by_position[position] for position in wanted]


def write_one_batch(
    kafka_settings: KafkaSettings, topic: str, values: list[bytes], partition: int = 0, headers=None
) -> None:
    """``values`` written to one partition as a single record batch (one producer, a 200 ms linger, one
    flush). Tansu 0.6.0 answers ListOffsets(latest) for such a partition with the batch's first offset + 1,
    not one past its last record: what infra/runtime/partition_ends.py reads around."""
    producer = Producer(producer_config(kafka_settings, "one-batch", **{"linger.ms": 200}))
    for value in values:
        producer.produce(topic, value=value, key=b"k", partition=partition, headers=headers)
    assert producer.flush(10) == 0
