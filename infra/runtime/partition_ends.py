"""Where a partition ends, as a fetch sees it, and everything up to there.

Tansu 0.6.0 answers ListOffsets(latest), which ``Consumer.get_watermark_offsets`` asks, with the
partition's last record *batch*'s first offset + 1, not one past its last record. Measured: 16
records written as batches of 1, 2, 3, 5, 1 and 4 records gave ends 1, 2, 4, 7, 12 and 13. Its fetch
answers carry the right end. So the broker's answer is only a lower bound here. A producer that
batches (the API's group commit, any producer with ``linger.ms``) ends a partition with such a batch
every time it writes two records or more at once.

:class:`EndReader` reads from that bound until the high watermark of the fetch answers. On Apache
Kafka both agree, and the extra fetch returns one record.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from infra.runtime.kafka import KafkaSettings, client_config
from infra.runtime.offset_gaps import Key, position

log = logging.getLogger(__name__)


class EndReader:
    """A consumer of its own, outside any group: it only assigns partitions and never commits."""

    def __init__(self, settings: KafkaSettings, client_id: str, timeout: float = 5.0):
        self._timeout = timeout
        self._consumer = Consumer(
            client_config(settings, client_id)
            | {"logger": log}
            | {
                "group.id": f"{client_id}-{uuid.uuid4().hex[:8]}",  # never joined: assign() only
                "enable.auto.commit": False,
                # A fetch left waiting at a partition's end holds the connection: the next ListOffsets
                # waited behind it for librdkafka's 500 ms default (measured: 500 ms after each read).
                "fetch.wait.max.ms": 10,
            }
        )

    def __enter__(self) -> EndReader:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self._consumer.close()

    def watermarks(self, partitions: Iterable[TopicPartition]) -> dict[Key, tuple[int, int]]:
        """The broker's answer, cheap: each partition's earliest offset, and its end or (Tansu) less."""
        return {
            (tp.topic, tp.partition): self._consumer.get_watermark_offsets(
                TopicPartition(tp.topic, tp.partition), self._timeout
            )
            for tp in partitions
        }

    def ends(self, partitions: Iterable[TopicPartition]) -> dict[Key, int]:
        """One past each partition's last record: a fetch from each partition that holds any."""
        ends, _messages = self._read(partitions, keep=False)
        return ends

    def read_to_end(self, partitions: Iterable[TopicPartition]) -> list[Message]:
        """Every record stored on ``partitions``, from the earliest, in offset order per partition."""
        _ends, messages = self._read(partitions, keep=True)
        return messages

    def _read(self, partitions: Iterable[TopicPartition], keep: bool) -> tuple[dict[Key, int], list[Message]]:
        ends: dict[Key, int] = {}
        starts = []
        for (topic, partition), (low, high) in self.watermarks(partitions).items():
            if high <= low:  # empty: a stored batch makes the bound pass the earliest offset
                ends[(topic, partition)] = high
            else:
                starts.append(TopicPartition(topic, partition, low if keep else high - 1))
        messages: list[Message] = []
        if starts:
            self._consumer.assign(starts)
            try:
                self._poll_to_the_ends({(tp.topic, tp.partition) for tp in starts}, ends, messages if keep else None)
            finally:
                self._consumer.unassign()
        return ends, messages

    def _poll_to_the_ends(self, unread: set[Key], ends: dict[Key, int], messages: list[Message] | None) -> None:
        """Read each partition up to the high watermark its fetch answers give. (librdkafka's
        end-of-partition event would say the same, but only once per offset: a second look at a
        partition that did not move would wait for it in vain.)"""
        deadline = time.monotonic() + self._timeout
        while unread:
            message = self._consumer.poll(max(deadline - time.monotonic(), 0))
            if message is None:
                raise KafkaException(
                    KafkaError(KafkaError._TIMED_OUT, f"no end of {sorted(unread)} within {self._timeout} s")
                )
            error = message.error()
            if error is not None:
                if error.fatal():
                    raise KafkaException(error)
                continue
            key, offset = position(message)
            if key not in unread:
                continue
            if messages is not None:
                messages.append(message)
            _low, high = self._consumer.get_watermark_offsets(TopicPartition(*key), cached=True)
            if offset + 1 >= high:
                ends[key] = max(high, offset + 1)
                unread.discard(key)
