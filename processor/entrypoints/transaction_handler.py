"""The batch handler the consumer loop calls for ``transactions``."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from confluent_kafka import Message

from infra.kernel.contracts import DeadLetter
from infra.runtime.dead_letters import DeadLetterPublisher, dead_letter
from infra.runtime.poison import OutageOrPoison, apply_isolating, poison_reason

from processor.adapters.metrics import ProcessorMetrics
from processor.entrypoints.card_data import CardDataReader
from processor.entrypoints.decoding import Unusable, decode
from processor.use_cases.process_transactions import ProcessedBatch, ProcessTransactions, TransactionInput

log = logging.getLogger(__name__)


class TransactionBatchHandler:
    """Decode a polled batch, process it in one go, send what can never be processed to the DLQ.

    Raising means "not done": the loop retries the whole batch and commits nothing, and the use
    case's idempotence makes the retry safe. It raises only for an outage (``infra.runtime.poison``): a
    message that cannot be decoded, or fails alone while the database answers, is dead-lettered.
    """

    def __init__(
        self,
        use_case: ProcessTransactions,
        dead_letters: DeadLetterPublisher,
        metrics: ProcessorMetrics,
        cards: CardDataReader,
        judge: OutageOrPoison,
    ):
        self._use_case = use_case
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._cards = cards
        self._judge = judge

    def __call__(self, messages: Sequence[Message]) -> None:
        started = time.perf_counter()
        self._cards.failures.clear()
        try:
            decoded, letters = _split(messages, self._cards)
            batches, poison = apply_isolating(decoded, self._process, self._judge)
            letters += [dead_letter(message, reason) for (message, _), reason in poison]
            if letters:
                self._dead_letters.publish(letters)
            batch = ProcessedBatch([o for b in batches for o in b.outcomes], [o for b in batches for o in b.decided])
        except Exception:
            self._metrics.batch_failures.inc()
            raise
        elapsed = time.perf_counter() - started
        self._metrics.record_batch(batch, len(messages), len(letters), elapsed)
        log.info(
            "batch processed",
            extra={
                "messages": len(messages),
                "decided": len(batch.decided),
                "replayed": len(batch.outcomes) - len(batch.decided),
                "dead_letters": len(letters),
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
        if self._cards.failures:
            # Key ids and causes only: a wrong CARD_DATA_KEYS shows here before merchants call.
            log.warning("card data could not be decrypted", extra={"causes": dict(self._cards.failures)})

    def _process(self, decoded: Sequence[tuple[Message, TransactionInput]]) -> ProcessedBatch:
        return self._use_case([item for _, item in decoded])


def _split(
    messages: Sequence[Message],
    cards: CardDataReader,
) -> tuple[list[tuple[Message, TransactionInput]], list[DeadLetter]]:
    decoded, letters = [], []
    for message in messages:
        try:
            decoded.append((message, decode(message.value(), cards)))
        except Unusable as exc:
            letters.append(dead_letter(message, str(exc)))
        except Exception as exc:  # noqa: BLE001 - whatever a message holds, the batch goes on
            letters.append(dead_letter(message, poison_reason(exc)))
    return decoded, letters
