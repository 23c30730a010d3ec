"""Never move past an offset that was not seen.

Tansu 0.6.0 (the embedded broker) can serve a partition's later records before an earlier one is
readable while several producers append to it at once: a consumer then jumps over the record and,
once it commits past it, loses it for good (measured: 1 acknowledged write in ~10,000-30,000 under
4 concurrent producers). Apache Kafka leaves no such holes in our topics (no compaction, no
transactions), so there a gap is only ever re-read once.

:class:`OffsetGaps` knows the next offset expected per partition and cuts a batch at the first gap
of each partition: the messages from the gap on are dropped and the partition is re-read from the
missing offset. The expectation is seeded when a partition is assigned, from where reading starts
(the committed offset, or the assigned one), so a hole at the very first offset after a (re)start
or a rebalance is caught too. A gap that is still there ``give_up_after`` seconds after it was
first seen (a record really gone, e.g. deleted by retention) is accepted: logged and counted
(``on_accept``, exported as ``<service>_offset_gaps_accepted_total``, which an alert watches).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

from confluent_kafka import Message, TopicPartition

log = logging.getLogger(__name__)

Key = tuple[str, int]


def position(message: Message) -> tuple[Key, int]:
    """Where a consumed record sits: its (topic, partition) and offset.

    confluent-kafka answers None for these only on error events, which ``fetch_batch`` leaves out of
    every batch; a record read from a partition always has all three."""
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    assert topic is not None and partition is not None and offset is not None, "an error event, not a record"
    return (topic, partition), offset


class OffsetGaps:
    def __init__(
        self,
        give_up_after: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        on_accept: Callable[[], None] = lambda: None,
    ):
        self._next: dict[Key, int] = {}
        self._open: dict[Key, tuple[int, float]] = {}  # a partition's unfilled gap: its offset, first seen
        self._give_up_after = give_up_after
        self._clock = clock
        self._on_accept = on_accept
        self.accepted = 0  # gaps given up on, for tests and logs

    def seed(self, positions: Iterable[TopicPartition]) -> None:
        """Where reading starts on newly assigned partitions: the first offset that must be seen."""
        for position in positions:
            key = (position.topic, position.partition)
            self.forget([key])
            if position.offset >= 0:  # not a logical offset (OFFSET_END...) nor "unknown"
                self._next[key] = position.offset

    def forget(self, keys: Iterable[Key]) -> None:
        """Partitions whose position is no longer ours to know (revoked, or lost)."""
        for key in keys:
            self._next.pop(key, None)
            self._open.pop(key, None)

    def cut(self, batch: Sequence[Message]) -> tuple[list[Message], list[TopicPartition]]:
        """The messages before each partition's first gap, and where to re-read gapped partitions."""
        kept, rewinds, gapped = [], [], set()
        for message in batch:
            key, offset = position(message)
            if key in gapped:
                continue
            expected = self._next.get(key)
            if expected is not None and offset > expected and not self._accept(key, expected, message):
                gapped.add(key)
                rewinds.append(TopicPartition(key[0], key[1], expected))
                continue
            if expected is not None and offset >= expected:
                self._open.pop(key, None)  # the gap, if any, is filled (or was just accepted)
            kept.append(message)
            self._next[key] = max(offset + 1, expected or 0)
        return kept, rewinds

    def _accept(self, key: Key, expected: int, message: Message) -> bool:
        now = self._clock()
        offset, first_seen = self._open.get(key, (None, now))
        if offset != expected:  # a new gap: its clock starts now, whatever came before
            first_seen = now
            self._open[key] = (expected, now)
            log.warning(
                "offset gap: re-reading",
                extra={"topic": key[0], "partition": key[1], "expected": expected, "got": message.offset()},
            )
        if now - first_seen < self._give_up_after:
            return False
        del self._open[key]
        self.accepted += 1
        self._on_accept()
        log.error(
            "offset gap accepted: the missing offsets are not readable",
            extra={"topic": key[0], "partition": key[1], "missing_from": expected, "resumed_at": message.offset()},
        )
        return True
