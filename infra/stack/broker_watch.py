"""Tells the user of `make run` when the embedded broker has stored enough to slow the stack down.

Tansu 0.6.0's memory storage reads the list of every batch a partition stores on each fetch that
returns data, keeps everything (it ignores ``retention.ms``; this build answers DeleteRecords by
closing the connection, and a topic deleted under a subscribed consumer crashes librdkafka): the
broker's CPU per transaction, hence accept -> decided latency, grows with the messages stored on
the busiest partition (docs/benchmarks.md, Soak). The API stores about one batch per transaction,
all of one merchant's on one partition. This thread reads the partitions' high watermarks every
``interval`` seconds. With a ``renewal`` (infra/stack/broker_renewal.py) it starts the broker afresh
once the busiest passes ``renew_at`` messages; otherwise, or if renewing keeps failing, it warns,
with what to do, when the busiest passes ``threshold`` messages, and again each time it doubles.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaException, TopicPartition

from infra.runtime.kafka import KafkaSettings, client_config
from infra.stack.broker_renewal import BrokerRenewal, renew_or_explain

# Its client's lines are "connection refused" while the broker is renewed: expected, so kept out of
# the terminal; a read that fails shows as an exception in _busiest, and the check is skipped.
_librdkafka_log = logging.getLogger("infra.stack.kafka")
_librdkafka_log.setLevel(logging.CRITICAL)

WARNING = (
    "the embedded broker holds {messages:,} messages on {topic}[{partition}]: Tansu's memory storage reads "
    "every stored batch on each fetch, so broker CPU and accept -> decided latency grow with what it has "
    "stored (x4 at 5,000, x10 at 15,000 per message). To start afresh: stop sending, wait until nothing "
    "is pending (GET /v1/transactions?status=pending), then stop (Ctrl-C) and `make run` again: the ledgers "
    "in var/ stay, the broker starts empty. Long runs: a real Kafka, KAFKA_BOOTSTRAP_SERVERS=... "
    "(docs/benchmarks.md, Soak)."
)


class BrokerWatch:
    def __init__(
        self,
        settings: KafkaSettings,
        threshold: int,
        interval: float,
        say: Callable[[str], None],
        renewal: BrokerRenewal | None = None,
        renew_at: int = 0,
    ):
        self._settings = settings
        self._renewal = renewal
        self._renew_at = renew_at
        self.renewals: list = []  # every Renewal done, in order
        self._failing = False
        self._threshold = threshold
        self._interval = interval
        self._say = say
        self._next_warning = threshold
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="broker-watch", daemon=True)

    def start(self) -> "BrokerWatch":
        if self._threshold > 0 or self._renewal is not None:
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        consumer = Consumer(
            client_config(self._settings, "stack-broker-watch")
            | {"group.id": f"stack-broker-watch-{uuid.uuid4().hex[:8]}", "logger": _librdkafka_log}
        )
        try:
            while not self._stop.wait(self._interval):
                self.check(consumer)
        finally:
            consumer.close()

    def check(self, consumer: Consumer) -> None:
        busiest = self._busiest(consumer)
        if busiest is None:
            return
        if self._renewal is not None:
            # Renewals keep the broker small: the warning is for when they fail (a consumer down, or
            # the stack too busy to catch up), and each streak of failures is told once.
            if busiest[0] < self._renew_at:
                return
            done, line = renew_or_explain(self._renewal)
            if done is not None or not self._failing:
                self._say(line)
            self._failing = done is None
            if done is not None:
                self.renewals.append(done)
                self._next_warning = self._threshold
                return
        self._warn_if_due(busiest)

    def _warn_if_due(self, busiest: tuple[int, str, int]) -> None:
        if self._threshold <= 0 or busiest[0] < self._next_warning:
            return
        messages, topic, partition = busiest
        self._say(WARNING.format(messages=messages, topic=topic, partition=partition))
        while self._next_warning <= messages:
            self._next_warning *= 2

    def _busiest(self, consumer: Consumer) -> tuple[int, str, int] | None:
        """(stored messages, topic, partition) of the partition holding the most, None if unreadable."""
        found = []
        try:
            # Dead letters are never fetched, so they cost nothing (and a swap carries them over).
            for topic in (t for t in self._settings.topics.names() if t != self._settings.topics.dlq):
                for partition in range(self._settings.partitions):
                    low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=2)
                    found.append((high - low, topic, partition))
        except KafkaException:
            return None
        return max(found, default=None)
