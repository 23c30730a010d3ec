"""The batch handler the consumer loop calls for ``refunds``."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from confluent_kafka import Message

from infra.kernel.contracts import DeadLetter
from infra.runtime.dead_letters import DeadLetterPublisher, dead_letter

from processor.adapters.metrics import ProcessorMetrics
from processor.domain.refunds import RefundRequest
from processor.entrypoints.decoding import Unusable
from processor.entrypoints.refund_decoding import decode_refund
from processor.use_cases.process_refunds import ProcessRefunds

log = logging.getLogger(__name__)


class RefundBatchHandler:
    """Decode refund requests, dead-letter the unusable, decide the rest in one DB transaction."""

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
            batch = self._use_case(requests)
        except Exception:
            self._metrics.batch_failures.inc()
            raise
        self._metrics.record_refunds(batch, len(letters))
        log.info(
            "refunds processed",
            extra={
                "messages": len(messages),
                "decided": len(batch.decided),
                "dead_letters": len(letters),
                "replayed": len(batch.outcomes) - len(batch.decided),
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )


def _split(messages: Sequence[Message]) -> tuple[list[RefundRequest], list[DeadLetter]]:
    requests, letters = [], []
    for message in messages:
        try:
            requests.append(decode_refund(message.value()))
        except Unusable as exc:
            letters.append(dead_letter(message, str(exc)))
    return requests, letters
