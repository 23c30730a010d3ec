"""The panel's own reader of ``transactions_result`` and ``refunds_result``: every process sees every
result, payment or refund.

No consumer group takes part: its Kafka consumer assigns itself every partition, starting at the current
end, and never commits. A message that cannot be shown (on either topic) is skipped and counted
(``on_unusable``); nothing it holds stops the reader. So each gunicorn worker of each replica receives the whole stream, and a
restart costs nothing (what happened meanwhile is in the gateway API's ledger, where the browser
resynchronises from).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from collections.abc import Callable

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from infra.kernel.contracts import RefundResult, TransactionResult
from infra.runtime.consumer_loop import fetch_batch
from infra.runtime.kafka import KafkaSettings, consumer_config
from infra.runtime.offset_gaps import OffsetGaps
from infra.runtime.partition_ends import EndReader

from panel.entrypoints.refund_results import decode_refund, is_sendable_text

log = logging.getLogger(__name__)

ResultHandler = Callable[[TransactionResult], None]
RefundHandler = Callable[[RefundResult], None]
FETCH_MAX_MESSAGES = 501
FETCH_TIMEOUT_SECONDS = 0.5


class ResultsReader:
    """A thread every panel process runs: it reads every result and hands each to ``on_result``
    (refund decisions to ``on_refund``)."""

    def __init__(
        self,
        settings: KafkaSettings,
        on_result: ResultHandler,
        retry_seconds: float = 1.0,
        on_gap_accepted: Callable[[], None] = lambda: None,
        on_refund: RefundHandler | None = None,
        on_unusable: Callable[[], None] = lambda: None,
    ):
        self._settings = settings
        self._on_result = on_result
        self._on_refund = on_refund
        self._on_unusable = on_unusable
        self._on_gap_accepted = on_gap_accepted
        self._retry_seconds = retry_seconds
        self._stop = threading.Event()
        self.ready = threading.Event()  # set once partitions are assigned at the end of the topic
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="panel-results", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._consume_until_stopped()
            except Exception:  # noqa: BLE001 - the live view must outlive a broker outage
                log.exception("results reader failed, restarting", extra={"retry_in_s": self._retry_seconds})
                self.ready.clear()
                self._stop.wait(self._retry_seconds)

    def _consume_until_stopped(self) -> None:
        consumer = Consumer(self._config())
        try:
            assignment = self._end_of_every_partition(consumer)
            consumer.assign(assignment)
            # With several processors, Tansu may serve a result late: re-read it, from the first offset on.
            gaps = OffsetGaps(on_accept=self._on_gap_accepted)
            gaps.seed(assignment)
            self.ready.set()
            log.info("consuming results", extra={"topics": self._topics()})
            while not self._stop.is_set():
                # Returns as soon as one result arrives: latency matters.
                self.handle_batch(fetch_batch(consumer, gaps, FETCH_MAX_MESSAGES, FETCH_TIMEOUT_SECONDS))
        finally:
            consumer.close()

    def _config(self) -> dict:
        # group.id is required by the client but unused: assign() joins no group and nothing is committed.
        group = f"panel-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        return consumer_config(
            self._settings, "panel", group, **{"auto.offset.reset": "latest", "fetch.wait.max.ms": 100}
        )

    def _topics(self) -> list[str]:
        topics = self._settings.topics
        return [topics.results] + ([topics.refunds_result] if self._on_refund is not None else [])

    def _end_of_every_partition(self, consumer: Consumer) -> list[TopicPartition]:
        partitions = []
        for topic in self._topics():
            metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
            if metadata is None or metadata.error is not None or not metadata.partitions:
                raise KafkaException(KafkaError(KafkaError.UNKNOWN_TOPIC_OR_PART, f"topic {topic} not found"))
            partitions += [TopicPartition(topic, partition) for partition in sorted(metadata.partitions)]
        # Not the broker's ListOffsets answer, which Tansu gives short of a partition's last batch.
        with EndReader(self._settings, "panel-ends", timeout=10) as reader:
            ends = reader.ends(partitions)
        return [TopicPartition(tp.topic, tp.partition, ends[(tp.topic, tp.partition)]) for tp in partitions]

    def handle_batch(self, messages: list[Message]) -> None:
        """Every message is shown or skipped on its own: no content stops the live view."""
        on_refund = self._on_refund
        refunds = self._settings.topics.refunds_result if on_refund is not None else None
        for message in messages:
            try:
                if on_refund is not None and message.topic() == refunds:
                    on_refund(decode_refund(message.value()))
                else:
                    self._on_result(decode_result(message.value()))
            except Exception as exc:  # noqa: BLE001 - the class only: texts may quote the payload
                self._on_unusable()
                log.warning(
                    "unusable result skipped",
                    extra={
                        "topic": message.topic(),
                        "partition": message.partition(),
                        "offset": message.offset(),
                        "error_class": type(exc).__name__,
                    },
                )


def decode_result(raw: bytes | None) -> TransactionResult:
    """A result whose fields are all text (or null): what the live page and every stream filter expect.

    Raises ``ValueError`` for anything else (a result the gateway's results consumer dead-letters too).
    """
    data = json.loads(raw or b"")
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    fields = {name: data.get(name) for name in TransactionResult.__dataclass_fields__}
    if not all(value is None or is_sendable_text(value) for value in fields.values()) or not fields["id"]:
        raise ValueError("a field is not text")
    return TransactionResult(**fields)


def result_to_event(result: TransactionResult) -> dict:
    """A result in the API's transaction shape (``GET /v1/transactions/{id}``, what /api/recent and
    /api/transactions relay): the live page reads one shape, whether a row came live or from the ledger."""
    return {
        "id": result.id,
        "status": result.status,
        "amount": result.amount,
        "card": {"brand": result.card_brand, "last4": result.card_last4},
        "created_at": result.created_at,
        "account_id": result.account_id,
        "description": None,  # not in results: the ledger's copy fills it in
        "error_message": result.error_message,
        "processed_at": result.processed_at,
    }
