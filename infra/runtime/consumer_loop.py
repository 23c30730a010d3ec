"""The at-least-once batch loop shared by every Kafka consumer in the gateway.

Poll a batch, hand it to the service, and commit offsets only after the service says the batch is
durably done. While the service fails (database or broker down), the same batch is retried with
backoff and nothing is committed, so a crash at any point means redelivery, never loss; the
services make redelivery harmless by being idempotent.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from infra.runtime.health import Heartbeat
from infra.runtime.offset_gaps import OffsetGaps, position

log = logging.getLogger(__name__)

BatchHandler = Callable[[Sequence[Message]], None]
# Called with "polled" (batch in hand) and "handled" (batch done, offsets not committed yet): a test
# seam (infra/runtime/hold_points.py) that lets crash tests act inside those windows. None in production.
Checkpoint = Callable[[str, Sequence[Message]], None]


STATIC_CHECK_SECONDS = 0.02


@dataclass(frozen=True)
class LoopSettings:
    batch_size: int = 2000
    poll_timeout: float = 0.5
    first_backoff: float = 0.2
    max_backoff: float = 5.0
    checkpoint: Checkpoint | None = None


class BatchConsumerLoop:
    def __init__(
        self,
        consumer: Consumer,
        handle_batch: BatchHandler,
        settings: LoopSettings = LoopSettings(),
        gaps: OffsetGaps | None = None,
        heartbeat: Heartbeat | None = None,
    ):
        self._consumer = consumer
        self._handle_batch = handle_batch
        self._settings = settings
        self._gaps = gaps if gaps is not None else OffsetGaps()
        # Beaten once per turn of the loop: its age is the liveness probe (infra.runtime.health).
        self.heartbeat = heartbeat or Heartbeat()
        self._static: list[TopicPartition] = []  # every partition read, when read without a group
        self._next_static_check = 0.0
        self._assigned = self._assignments = None

    def subscribe(self, topics: Sequence[str], assigned=None, assignments=None, static: bool = False) -> None:
        """Join the group on ``topics``. On every assignment the gap guard learns where each partition
        starts; ``assigned`` (a gauge, optional) counts the partitions owned: the readiness signal for
        operators and `make run` (until the group has formed, messages are accepted but nobody
        decides them yet); ``assignments`` (a counter, optional) counts the times partitions were
        given (how `make run` sees a consumer follow a renewed broker).

        ``static``: read every partition of ``topics`` without joining the group (offsets are still
        committed under the group's id). Only for the development stack, which runs one consumer per
        group and starts its embedded broker afresh now and then (infra/stack/broker_renewal.py): a
        group member would have to join again, ~1 s on Tansu, while writes wait; a static reader goes
        back to the start of a partition whose end fell below its position (:meth:`_follow_lost_data`).
        """
        self._assigned, self._assignments = assigned, assignments
        if static:
            self._static = [TopicPartition(topic, p) for topic in topics for p in partitions_of(self._consumer, topic)]
            self._assign(starting_positions(self._consumer, self._static))
            return

        def on_assign(consumer, partitions):
            self._gaps.seed(starting_positions(consumer, partitions))
            self._count_assignment(len(partitions))

        def on_revoke(_consumer, partitions):
            self._gaps.forget((tp.topic, tp.partition) for tp in partitions)
            if assigned is not None:
                assigned.set(0)

        self._consumer.subscribe(list(topics), on_assign=on_assign, on_revoke=on_revoke, on_lost=on_revoke)

    def _count_assignment(self, partitions: int) -> None:
        if self._assigned is not None:
            self._assigned.set(partitions)
        if self._assignments is not None:
            self._assignments.inc()

    def _assign(self, positions: list[TopicPartition]) -> None:
        self._gaps.forget((tp.topic, tp.partition) for tp in self._static)
        self._gaps.seed(positions)
        self._consumer.assign(positions or self._static)
        self._count_assignment(len(self._static))

    def _follow_lost_data(self) -> None:
        """A static reader whose position is past a partition's end: the broker lost what was read
        (the development stack renewed its embedded broker, or a Kafka lost an unclean leader's log),
        and no group join resets the position as ``auto.offset.reset`` would. Start that partition
        again from its first offset. Checked at most every STATIC_CHECK_SECONDS, off cached figures."""
        now = time.monotonic()
        if not self._static or now < self._next_static_check:
            return
        self._next_static_check = now + STATIC_CHECK_SECONDS
        lost = []
        for tp in self._consumer.position(self._static):
            _low, high = self._consumer.get_watermark_offsets(tp, cached=True)
            if tp.offset > 0 and 0 <= high < tp.offset:
                lost.append(tp)
        if not lost:
            return
        log.warning(
            "partitions end before the position read: starting them again from their first offset",
            extra={"partitions": [f"{tp.topic}[{tp.partition}]@{tp.offset}" for tp in lost]},
        )
        restart = {(tp.topic, tp.partition) for tp in lost}
        positions = []
        for tp in self._consumer.position(self._static):
            if (tp.topic, tp.partition) in restart:
                # The log start the broker gave with its answer (asking it again would wait behind a fetch).
                low, _high = self._consumer.get_watermark_offsets(tp, cached=True)
                tp = TopicPartition(tp.topic, tp.partition, max(low, 0))
            positions.append(tp)  # a partition not read yet keeps OFFSET_INVALID: its committed offset
        self._assign(positions)

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set; the batch in hand is finished and committed first."""
        try:
            while not stop.is_set():
                self.heartbeat.beat()
                self._follow_lost_data()
                batch = self._poll_batch()
                if not batch:
                    continue
                self._checkpoint("polled", batch)
                if self._handle_until_done(batch, stop):
                    self._checkpoint("handled", batch)
                    self._commit(batch)
        finally:
            self._consumer.close()

    def _checkpoint(self, point: str, batch: list[Message]) -> None:
        if self._settings.checkpoint is not None:
            self._settings.checkpoint(point, batch)

    def _poll_batch(self) -> list[Message]:
        # A static reader wakes up often enough to see a renewed broker soon (_follow_lost_data).
        timeout = (
            min(self._settings.poll_timeout, STATIC_CHECK_SECONDS) if self._static else self._settings.poll_timeout
        )
        return fetch_batch(self._consumer, self._gaps, self._settings.batch_size, timeout)

    def _handle_until_done(self, batch: list[Message], stop: threading.Event) -> bool:
        backoff = self._settings.first_backoff
        while True:
            self.heartbeat.beat()  # retrying with backoff is the loop working as designed
            try:
                self._handle_batch(batch)
                return True
            except Exception:  # noqa: BLE001 - any failure means: retry the same batch later
                log.exception("batch failed, will retry", extra={"batch_size": len(batch), "retry_in_s": backoff})
            if self._wait_paused(backoff, stop):
                return False
            backoff = min(backoff * 2, self._settings.max_backoff)

    def _wait_paused(self, seconds: float, stop: threading.Event) -> bool:
        """Wait while staying a live group member (poll keeps max.poll.interval satisfied)."""
        assignment = self._consumer.assignment()
        self._consumer.pause(assignment)
        try:
            stopped = stop.wait(seconds)
            self._consumer.poll(0)
            return stopped
        finally:
            self._consumer.resume(assignment)

    def _commit(self, batch: Sequence[Message]) -> None:
        try:
            self._consumer.commit(offsets=next_offsets(batch), asynchronous=False)
        except KafkaException as exc:
            # Typically a rebalance took the partitions away; their new owner re-reads the
            # uncommitted messages and idempotent handling makes that harmless.
            log.warning("offset commit failed", extra={"error": str(exc)})


def fetch_batch(consumer: Consumer, gaps: OffsetGaps, max_messages: int, timeout: float) -> list[Message]:
    """The readable messages of one fetch, every consumer of the gateway reads this way.

    Block only until the first message, then take what is already fetched: under load the batches
    fill up, and a lone message is handled at once instead of after the timeout. Consumer errors
    are logged and left out; the batch is cut at a partition's first offset gap and the consumer
    rewound there (``infra.runtime.offset_gaps``).
    """
    first = consumer.poll(timeout)
    if first is None:
        return []
    batch = []
    for message in [first] + consumer.consume(max_messages - 1, 0):
        error = message.error()
        if error is None:
            batch.append(message)
        elif error.code() != KafkaError._PARTITION_EOF:
            log.warning("consumer error", extra={"error": str(error)})
    batch, rewinds = gaps.cut(batch)
    for rewind in rewinds:
        consumer.seek(rewind)
    return batch


def next_offsets(batch: Sequence[Message]) -> list[TopicPartition]:
    """The offset to resume from for each partition in the batch (last offset + 1)."""
    highest: dict[tuple[str, int], int] = {}
    for message in batch:
        key, offset = position(message)
        highest[key] = max(highest.get(key, -1), offset)
    return [TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in highest.items()]


def starting_positions(
    consumer: Consumer, partitions: Sequence[TopicPartition], timeout: float = 10
) -> list[TopicPartition]:
    """Where reading starts on newly assigned partitions: the committed offset, or, when none was
    committed, the earliest one (``auto.offset.reset=earliest``, as ``consumer_config`` sets).

    Asked inside the assignment callback, before the first fetch. If the broker cannot say, the gap
    guard starts at the first offset read, and the failure is logged.
    """
    try:
        positions = []
        for committed in consumer.committed(list(partitions), timeout=timeout):
            offset = committed.offset
            if offset < 0:
                offset, _high = consumer.get_watermark_offsets(
                    TopicPartition(committed.topic, committed.partition), timeout=timeout
                )
            positions.append(TopicPartition(committed.topic, committed.partition, offset))
        return positions
    except KafkaException as exc:
        log.warning(
            "starting offsets unknown: the gap guard starts at the first offset read", extra={"error": str(exc)}
        )
        return []


def partitions_of(consumer: Consumer, topic: str, timeout: float = 10) -> list[int]:
    """The partition numbers of ``topic``, from the broker's metadata."""
    metadata = consumer.list_topics(topic, timeout=timeout).topics[topic]
    if metadata.error is not None:
        raise KafkaException(metadata.error)
    return sorted(metadata.partitions)


def stop_on_signals(stop: threading.Event) -> None:
    """Turn SIGTERM and SIGINT into a graceful stop of the loop."""

    def request_stop(signum, _frame):
        log.info("stopping", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
