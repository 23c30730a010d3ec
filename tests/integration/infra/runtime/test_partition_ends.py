"""Where a partition ends, against the real broker (infra/runtime/partition_ends.py)."""

from confluent_kafka import TopicPartition

from infra.runtime.partition_ends import EndReader

from tests.support.kafka import write_one_batch


def records(size: int) -> list[bytes]:
    return [f"r{n}".encode() for n in range(size)]


def test_the_end_is_one_past_the_last_record_whatever_the_size_of_the_last_batch(kafka_settings):
    topic = kafka_settings.topics.results
    partition = [TopicPartition(topic, 0)]
    with EndReader(kafka_settings, "ends-test") as reader:
        assert reader.ends(partition) == {(topic, 0): 0}  # empty
        written = 0
        for size in (1, 2, 3, 5, 1, 4):
            write_one_batch(kafka_settings, topic, records(size))
            written += size
            assert reader.ends(partition) == {(topic, 0): written}
            assert reader.ends(partition) == {(topic, 0): written}  # asked again, nothing new: same answer


def test_reading_to_the_end_returns_every_record_of_the_last_batch(kafka_settings):
    topic = kafka_settings.topics.dlq
    write_one_batch(kafka_settings, topic, records(1))
    write_one_batch(kafka_settings, topic, records(3))
    partitions = [TopicPartition(topic, p) for p in range(kafka_settings.partitions)]

    with EndReader(kafka_settings, "ends-test") as reader:
        read = reader.read_to_end(partitions)

    assert [(m.partition(), m.offset(), m.value()) for m in read] == [
        (0, 0, b"r0"),
        (0, 1, b"r0"),
        (0, 2, b"r1"),
        (0, 3, b"r2"),
    ]
