"""Kafka side of refunds: the batch handler for ``refunds`` and the ``refunds_result`` publisher."""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import orjson
from confluent_kafka import Message

from infra.kernel.clock import rfc3339
from infra.kernel.contracts import DeadLetter, RefundResult
from infra.runtime.dead_letters import DeadLetterPublisher, dead_letter
from infra.runtime.kafka import AckedProducer, Record

from processor.adapters.decoding import Unidentifiable
from processor.adapters.metrics import ProcessorMetrics
from processor.adapters.refund_decoding import decode_refund
from processor.domain.refunds import RefundOutcome, RefundRequest
from processor.use_cases.ports import RefundResultPublisher
from processor.use_cases.process_refunds import ProcessRefunds

log = logging.getLogger(__name__)


def present_refund(outcome: RefundOutcome) -> RefundResult:
    return RefundResult(
        id=outcome.id, transaction_id=outcome.transaction_id, account_id=outcome.account_id, status=outcome.status,
        amount=None if outcome.amount is None else str(outcome.amount), failure_reason=outcome.failure_reason,
        amount_refunded=str(outcome.amount_refunded), processed_at=rfc3339(outcome.processed_at))


class KafkaRefundResultPublisher(RefundResultPublisher):
    """Keyed by account id, like the requests."""

    def __init__(self, producer: AckedProducer, topic: str, timeout: float):
        self._producer = producer
        self._topic = topic
        self._timeout = timeout

    def publish(self, outcomes: Sequence[RefundOutcome]) -> None:
        records = [Record(self._topic, orjson.dumps(vars(present_refund(o))), o.account_id.encode() or None)
                   for o in outcomes]
        if records:
            self._producer.send(records, self._timeout)


class RefundBatchHandler:
    """Decode refund requests, dead-letter the unidentifiable, decide the rest in one DB transaction."""

    def __init__(self, use_case: ProcessRefunds, dead_letters: DeadLetterPublisher, metrics: ProcessorMetrics):
        self._use_case = use_case
        self._dead_letters = dead_letters
        self._metrics = metrics

    def __call__(self, messages: Sequence[Message]) -> None:
        started = time.perf_counter()
        try:
            requests, letters = _split(messages)
            if letters:
                self._dead_letters.publish(letters)
            batch = self._use_case.execute(requests)
        except Exception:
            self._metrics.batch_failures.inc()
            raise
        self._metrics.record_refunds(batch, len(letters))
        log.info("refunds processed", extra={
            "messages": len(messages), "decided": len(batch.decided), "dead_letters": len(letters),
            "replayed": len(batch.outcomes) - len(batch.decided),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)})


def _split(messages: Sequence[Message]) -> tuple[list[RefundRequest], list[DeadLetter]]:
    requests, letters = [], []
    for message in messages:
        try:
            requests.append(decode_refund(message.value()))
        except Unidentifiable as exc:
            letters.append(dead_letter(message, str(exc)))
    return requests, letters
