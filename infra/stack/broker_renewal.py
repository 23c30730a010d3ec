"""Starts the embedded broker afresh, without losing or deciding twice anything in flight.

Tansu 0.6.0's memory storage lists every batch a partition stores on each fetch that returns data
and keeps everything (infra/stack/broker_watch.py): the broker's CPU per transaction grows with
uptime. What it stores is only ever needed until every consumer has read it, so the development
stack swaps it for an empty one whenever its busiest partition passes a threshold:

1. close the publish gate (infra/runtime/publish_gate.py): the API's writes under way finish and are
   acknowledged, new ones wait;
2. wait until every consumer group has committed everything on the broker (the processor, then the
   results consumer: nothing accepted is unread, nothing decided is unapplied);
3. read the dead letters (nobody consumes them; they are evidence), kill the broker, start an empty
   one on the same port with the same topics, write the dead letters back;
4. wait until every consumer has found its place on the new broker, so that what is accepted next
   is decided at once. The stack's consumers read without a group (``KAFKA_STATIC_ASSIGNMENT``,
   ``BatchConsumerLoop.subscribe``): each sees a partition's end fall below its position within
   ~0.1 s and reads it again from its first offset. A group member would join again instead: the
   group is unknown there, it notices at its next heartbeat and joins, ~1 s on Tansu;
5. open the gate: the waiting writes go to the new broker.

Consumers find their place by themselves: their fetch positions are past the new broker's end
(a static reader starts those partitions again from their first offset; a group member, after
joining, from the earliest offset, ``auto.offset.reset``). What one reads before it notices the swap
and could not commit is read again after: idempotent handling makes that harmless. Producers must not be idempotent (``KafkaSettings.idempotent_producer``): an idempotent
producer's sequence numbers do not survive the swap and it stops delivering.

Writes wait while the consumers catch up, so a renewal starts only when they are close behind
(``max_behind`` messages, checked with the gate open); if they still do not catch up within
``drain_timeout`` (overloaded, or a consumer died meanwhile), nothing is swapped: the gate opens
again and the next check tries again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from typing import NamedTuple

from confluent_kafka import Consumer, KafkaException, Message, Producer, TopicPartition

from infra.runtime.kafka import KafkaSettings, client_config, producer_config
from infra.runtime.offset_gaps import position
from infra.runtime.partition_ends import EndReader
from infra.runtime.publish_gate import GateBusy, PublishGate
from infra.stack.embedded_broker import EmbeddedBroker

log = logging.getLogger(__name__)


class NotDrained(RuntimeError):
    """A consumer group still had unread or uncommitted messages when time ran out."""


@dataclass(frozen=True)
class Renewal:
    """What one swap took: how long writes waited, and what it carried over."""

    held_ms: float  # the gate closed: how long new writes waited
    drain_ms: float  # of which: waiting for the consumers to commit everything
    swap_ms: float  # of which: stop, start, topics, dead letters written back
    rejoin_ms: float  # of which: waiting for the consumers to own their partitions again
    dead_letters: int
    rejoined: bool  # False: some consumer had not rejoined by rejoin_timeout (the gate opened anyway)


class Assignments(NamedTuple):
    owned: int  # partitions a consumer owns now (0 while it rejoins)
    given: int  # how many times it has been given partitions since it started


class BrokerRenewal:
    def __init__(
        self,
        broker: EmbeddedBroker,
        gate: PublishGate,
        groups: Mapping[str, Sequence[str]],
        assignments: Sequence[Callable[[], Assignments]] = (),
        drain_timeout: float = 3.0,
        rejoin_timeout: float = 5.0,
        max_behind: int = 1000,
    ):
        """``groups``: every consumer group of the stack and the topics it reads. ``assignments``: one
        probe per consumer process, how many partitions it owns now and how many times it has been
        given partitions so far."""
        self._broker = broker
        self._gate = gate
        self._groups = dict(groups)
        self._probes = list(assignments)
        self._drain_timeout = drain_timeout
        self._rejoin_timeout = rejoin_timeout
        self._max_behind = max_behind

    @property
    def settings(self) -> KafkaSettings:
        return self._broker.settings

    def renew(self) -> Renewal:
        """Swap the broker for an empty one; raise :class:`NotDrained` or ``GateBusy`` (nothing swapped)."""
        behind = self._behind()
        if behind > self._max_behind:
            raise NotDrained(f"the consumers are {behind} messages behind")
        started = time.monotonic()
        with self._gate.closed(timeout=self._drain_timeout):
            closed = time.monotonic()
            self._wait_until_drained(closed + self._drain_timeout)
            drained = time.monotonic()
            dead_letters = self._read_all(self.settings.topics.dlq)
            read = [self._has_read(group, topics) for group, topics in self._groups.items()]
            before = [probe() for probe in self._probes]
            self._broker.restart()
            self._write_back(dead_letters)
            swapped = time.monotonic()
            rejoined = self._wait_until_rejoined(before, read, swapped + self._rejoin_timeout)
            opened = time.monotonic()
        return Renewal(
            held_ms=(opened - started) * 1000,
            drain_ms=(drained - closed) * 1000,
            swap_ms=(swapped - drained) * 1000,
            rejoin_ms=(opened - swapped) * 1000,
            dead_letters=len(dead_letters),
            rejoined=rejoined,
        )

    # -- steps -----------------------------------------------------------------------------------

    def _behind(self) -> int:
        with closing(self._each_group()) as groups:
            return sum(unread() for _group, unread in groups)

    def _each_group(self) -> Generator[tuple[str, Callable[[], int]], None, None]:
        """Each group in the order of the flow, with what counts the messages it has not committed yet
        (asked again at each call)."""
        with self._end_reader() as ends:
            for group, topics in self._groups.items():
                consumer = self._group_reader(group)
                try:
                    yield group, partial(self._unread, consumer, ends, topics)
                finally:
                    consumer.close()

    def _end_reader(self) -> EndReader:
        return EndReader(self.settings, "stack-broker-renewal")

    def _group_reader(self, group: str) -> Consumer:
        """A client that reads a group's committed offsets without joining it."""
        return Consumer(
            client_config(self.settings, "stack-broker-renewal")
            | {"logger": log}
            | {"group.id": group, "enable.auto.commit": False}
        )

    def _wait_until_drained(self, deadline: float) -> None:
        """Groups in the order of the flow: once the first has committed everything, what it wrote
        for the next is on the broker before the next is checked."""
        with closing(self._each_group()) as groups:
            for group, unread in groups:
                while (behind := unread()) > 0:
                    if time.monotonic() >= deadline:
                        raise NotDrained(f"{group} still had {behind} messages to read or commit")
                    time.sleep(0.01)

    def _wait_until_rejoined(self, before: list[Assignments], read: list[bool], deadline: float) -> bool:
        """Each consumer has been given partitions since the swap and owns some. Counting assignments,
        not watching for the moment a consumer owns none, means a rejoin faster than a probe is not
        missed (a loaded machine takes longer to read a /metrics page than a consumer to rejoin).

        The stack's consumers read without a group (``KAFKA_STATIC_ASSIGNMENT``): one is given its
        partitions again when it sees their ends fall below its positions, which only happens if its
        group had read something (``read``); one that had read nothing has nothing to follow."""
        while time.monotonic() < deadline:
            now = [probe() for probe in self._probes]
            if all(n.owned > 0 and (n.given > b.given or not r) for b, n, r in zip(before, now, read)):
                return True
            time.sleep(0.005)
        return False

    def _has_read(self, group: str, topics: Sequence[str]) -> bool:
        consumer = self._group_reader(group)
        try:
            return any(committed.offset > 0 for committed in consumer.committed(self._partitions(topics), timeout=5))
        finally:
            consumer.close()

    def _partitions(self, topics: Sequence[str]) -> list[TopicPartition]:
        return [TopicPartition(topic, p) for topic in topics for p in range(self.settings.partitions)]

    def _unread(self, consumer: Consumer, ends: EndReader, topics: Sequence[str]) -> int:
        """Messages a group has not committed yet. The broker's ends are cheap but, on Tansu, short of
        a partition's last batch (partition_ends): once they say nothing is left, a fetch from each
        partition says where it really ends (on a partition holding thousands of batches, each such
        fetch costs Tansu milliseconds, so not on every check of the drain)."""
        partitions = self._partitions(topics)
        watermarks = ends.watermarks(partitions)
        starts = {
            (c.topic, c.partition): c.offset if c.offset >= 0 else watermarks[(c.topic, c.partition)][0]
            for c in consumer.committed(partitions, timeout=5)
        }
        at_least = sum(max(high - starts[key], 0) for key, (_low, high) in watermarks.items())
        if at_least:
            return at_least
        return sum(max(end - starts[key], 0) for key, end in ends.ends(partitions).items())

    def _read_all(self, topic: str) -> list[Message]:
        """Every message on ``topic``, partition by partition."""
        with self._end_reader() as reader:
            return reader.read_to_end(TopicPartition(topic, p) for p in range(self.settings.partitions))

    def _write_back(self, messages: list[Message]) -> None:
        if not messages:
            return
        producer = Producer(producer_config(self.settings, "stack-broker-renewal", logger=log))
        for message in messages:
            (topic, partition), _offset = position(message)
            producer.produce(
                topic, value=message.value(), key=message.key(), partition=partition, headers=message.headers()
            )
        left = producer.flush(30)
        if left:
            log.error("dead letters not written back to the new broker", extra={"lost": left})


def renew_or_explain(renewal: BrokerRenewal) -> tuple[Renewal | None, str]:
    """One renewal, and one line for the user of `make run` either way."""
    try:
        done = renewal.renew()
    except (NotDrained, GateBusy, KafkaException) as exc:
        return None, f"the embedded broker was not renewed: {exc}; trying again later"
    return done, (
        f"renewed the embedded broker (its memory storage slows down as it fills): writes waited "
        f"{done.held_ms:.0f} ms ({done.drain_ms:.0f} ms for the consumers to catch up, {done.swap_ms:.0f} ms "
        f"to swap, {done.rejoin_ms:.0f} ms for them to rejoin"
        + ("" if done.rejoined else ", not all did")
        + f"), {done.dead_letters} dead letters carried over"
    )
