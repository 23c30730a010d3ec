"""Publishing accepted transactions to Kafka with the shared acked producer."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

from confluent_kafka import KafkaException, Producer

from infra.runtime.kafka import AckedProducer, DeliveryError, KafkaSettings, Record, producer_config
from infra.runtime.publish_gate import PublishGate

from gateway_api.domain.errors import BrokerUnavailable
from gateway_api.use_cases.ports import RefundPublisher, TransactionPublisher

_librdkafka_log = logging.getLogger("gateway_api.kafka")  # JSON lines instead of raw stderr


class KafkaTransactionPublisher(TransactionPublisher, RefundPublisher):
    """Created lazily on first use, so building the app (or a CLI command) connects to nothing."""

    def __init__(
        self,
        settings: KafkaSettings,
        delivery_timeout: float,
        on_publish: Callable[[float, bool], None] = lambda seconds, ok: None,
        linger_ms: int = 5,
    ):
        self._settings = settings
        self._linger_ms = linger_ms
        self._delivery_timeout_ms = max(int(delivery_timeout * 1000), 1000)
        self._on_publish = on_publish
        self._producer: Producer | None = None
        self._acked: AckedProducer | None = None
        self._lock = threading.Lock()
        self._gate = PublishGate(settings.publish_gate)

    def publish(self, key: str, message: dict, timeout: float) -> None:
        self._send(Record(self._settings.topics.transactions, json.dumps(message).encode(), key.encode()), timeout)

    def publish_refund(self, key: str, message: dict, timeout: float) -> None:
        """Refund requests share the producer: keyed by account like payments, on ``refunds``."""
        self._send(Record(self._settings.topics.refunds, json.dumps(message).encode(), key.encode()), timeout)

    def _send(self, record: Record, timeout: float) -> None:
        started = time.perf_counter()
        try:
            with self._gate.passage():
                self._acked_producer().send([record], timeout=timeout)
        except (DeliveryError, KafkaException, BufferError) as exc:
            self._on_publish(time.perf_counter() - started, False)
            raise BrokerUnavailable(
                "The transaction could not be handed to the broker in time; retry with the same Idempotency-Key."
            ) from exc
        self._on_publish(time.perf_counter() - started, True)

    def _acked_producer(self) -> AckedProducer:
        with self._lock:
            if self._acked is None:
                # librdkafka gives up on a message about when the request does, so a message the
                # merchant was told failed (503) is rarely delivered late. The linger gathers the
                # records of concurrent requests into one produce request: the embedded broker
                # stores each as an object and scans them on every fetch, so fewer, fuller batches
                # keep it fast; a lone request waits that long for its ack, no more.
                config = producer_config(
                    self._settings,
                    "gateway-api",
                    logger=_librdkafka_log,
                    **{"delivery.timeout.ms": self._delivery_timeout_ms, "linger.ms": self._linger_ms},
                )
                self._producer = Producer(config)
                # Many request threads wait on one ack each: one thread serves the reports.
                self._acked = AckedProducer(self._producer, serve_reports_in_background=True)
            return self._acked

    def ping(self, timeout: float) -> None:
        """Raise if the broker does not answer a metadata request for the transactions topic."""
        self._acked_producer()
        assert self._producer is not None, "created by _acked_producer, never unset"
        self._producer.list_topics(self._settings.topics.transactions, timeout=timeout)

    def close(self, timeout: float = 5) -> None:
        with self._lock:
            if self._acked is not None:
                self._acked.close(timeout)
                self._acked = None
