"""Never move past an offset that was not seen.

Tansu 0.6.0 (the embedded broker) can serve a partition's later records before an earlier one is
readable while several producers append to it at once: a consumer then jumps over the record and,
once it commits past it, loses it for good (measured: 1 acknowledged write in ~10,000-30,000 under
4 concurrent producers). Apache Kafka leaves no such holes in our topics (no compaction, no
transactions), so there a gap is only ever re-read once.

:class:`OffsetGaps` remembers the next offset expected per partition and cuts a batch at the first
gap of each partition: the messages from the gap on are dropped and the partition is re-read from
the missing offset. A gap that is still there after ``give_up_after`` seconds (a record really gone,
e.g. deleted by retention, or a transaction marker on a foreign topic) is accepted and logged.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence

from confluent_kafka import Message, TopicPartition

log = logging.getLogger(__name__)

Key = tuple[str, int]


class OffsetGaps:
    def __init__(self, give_up_after: float = 5.0, clock: Callable[[], float] = time.monotonic):
        self._next: dict[Key, int] = {}
        self._first_seen: dict[tuple[Key, int], float] = {}
        self._give_up_after = give_up_after
        self._clock = clock
        self.accepted = 0  # gaps given up on, for tests and logs

    def forget(self, keys: Iterable[Key]) -> None:
        """Partitions whose position is no longer ours to know (revoked, or newly assigned)."""
        for key in keys:
            self._next.pop(key, None)

    def cut(self, batch: Sequence[Message]) -> tuple[list[Message], list[TopicPartition]]:
        """The messages before each partition's first gap, and where to re-read gapped partitions."""
        kept, rewinds, gapped = [], [], set()
        for message in batch:
            key = (message.topic(), message.partition())
            if key in gapped:
                continue
            expected = self._next.get(key)
            if expected is not None and message.offset() > expected and not self._accept(key, expected, message):
                gapped.add(key)
                rewinds.append(TopicPartition(key[0], key[1], expected))
                continue
            kept.append(message)
            self._next[key] = max(message.offset() + 1, expected or 0)
        return kept, rewinds

    def _accept(self, key: Key, expected: int, message: Message) -> bool:
        first_seen = self._first_seen.setdefault((key, expected), self._clock())
        if self._clock() - first_seen < self._give_up_after:
            log.warning("offset gap: re-reading", extra={
                "topic": key[0], "partition": key[1], "expected": expected, "got": message.offset()})
            return False
        del self._first_seen[(key, expected)]
        self.accepted += 1
        log.warning("offset gap accepted: the missing offsets are not readable", extra={
            "topic": key[0], "partition": key[1], "missing_from": expected, "resumed_at": message.offset()})
        return True
