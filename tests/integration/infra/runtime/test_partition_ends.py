"""Where a partition ends, against the real broker (infra/runtime/partition_ends.py)."""

from confluent_kafka import Producer, TopicPartition

from infra.runtime.kafka import producer_config
from infra.runtime.partition_ends import EndReader


def write_batch(producer: Producer, topic: str, size: int) -> None:
    for n in range(size):
        producer.produce(topic, value=f"r{n}".encode(), partition=0)
    assert producer.flush(10) == 0


def test_the_end_is_one_past_the_last_record_whatever_the_size_of_the_last_batch(kafka_settings):
    topic = kafka_settings.topics.results
    producer = Producer(producer_config(kafka_settings, "batches", **{"linger.ms": 200}))
    partition = [TopicPartition(topic, 0)]
    with EndReader(kafka_settings, "ends-test") as reader:
        assert reader.ends(partition) == {(topic, 0): 0}  # empty
        written = 0
        for size in (1, 2, 3, 5, 1, 4):
            write_batch(producer, topic, size)
            written += size
            assert reader.ends(partition) == {(topic, 0): written}
            assert reader.ends(partition) == {(topic, 0): written}  # asked again, nothing new: same answer


def test_reading_to_the_end_returns_every_record_of_the_last_batch(kafka_settings):
    topic = kafka_settings.topics.dlq
    producer = Producer(producer_config(kafka_settings, "batches", **{"linger.ms": 200}))
    write_batch(producer, topic, 1)
    write_batch(producer, topic, 3)
    partitions = [TopicPartition(topic, p) for p in range(kafka_settings.partitions)]

    with EndReader(kafka_settings, "ends-test") as reader:
        read = reader.read_to_end(partitions)

    assert [(m.partition(), m.offset(), m.value()) for m in read] == [
        (0, 0, b"r0"),
        (0, 1, b"r0"),
        (0, 2, b"r1"),
        (0, 3, b"r2"),
    ]
