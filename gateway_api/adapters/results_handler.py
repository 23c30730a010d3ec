"""Turning a batch of `transactions_result` messages into one ledger write.

Nothing a message contains can block a partition: results that break the contract are
dead-lettered before the write (``decoding``), and if the database still refuses the batch (a data
error, not an outage), its results are applied one by one and only the refused ones are
dead-lettered. An outage (connection lost, broker down) raises, and the loop retries the batch.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from confluent_kafka import Message

from infra.contracts import DeadLetter, TransactionResult
from infra.dead_letters import DeadLetterPublisher, dead_letter

from gateway_api.adapters.result_decoding import Unusable, decode_result
from gateway_api.adapters.metrics import ResultsMetrics
from gateway_api.use_cases.ports import Ledger, LedgerRefused

log = logging.getLogger(__name__)

Decoded = tuple[Message, TransactionResult]


class ApplyResults:
    """The batch handler of the results consumer: one DB transaction per batch."""

    def __init__(self, ledger: Ledger, dead_letters: DeadLetterPublisher, metrics: ResultsMetrics):
        self._ledger = ledger
        self._dead_letters = dead_letters
        self._metrics = metrics

    def __call__(self, messages: Sequence[Message]) -> None:
        started = time.perf_counter()
        try:
            decoded, letters = _split(messages)
            applied, refused = self._apply(decoded)
            if letters + refused:
                self._dead_letters.publish(letters + refused)
        except Exception:
            self._metrics.batch_failures.inc()
            raise
        self._metrics.batch_duration.observe(time.perf_counter() - started)
        self._record(applied, letters + refused)
        log.info("applied results", extra={"results": len(applied), "messages": len(messages),
                                           "dead_letters": len(letters) + len(refused)})

    def _apply(self, decoded: list[Decoded]) -> tuple[list[TransactionResult], list[DeadLetter]]:
        results = [result for _, result in decoded]
        try:
            self._ledger.apply_results(results)
            return results, []
        except LedgerRefused as exc:
            log.warning("the ledger refused a batch; applying its results one by one", extra={"error_class": str(exc)})
        applied, refused = [], []
        for message, result in decoded:
            try:
                self._ledger.apply_results([result])
                applied.append(result)
            except LedgerRefused as exc:
                refused.append(dead_letter(message, f"refused by the ledger: {exc}"))
        return applied, refused

    def _record(self, applied: list[TransactionResult], letters: list[DeadLetter]) -> None:
        for result in applied:
            self._metrics.applied.labels(result.status).inc()
        if letters:
            self._metrics.dead_letters.inc(len(letters))
            for letter in letters:
                log.warning("result dead-lettered", extra={
                    "reason": letter.reason, "partition": letter.source_partition, "offset": letter.source_offset})


def _split(messages: Sequence[Message]) -> tuple[list[Decoded], list[DeadLetter]]:
    decoded, letters = [], []
    for message in messages:
        try:
            decoded.append((message, decode_result(message.value())))
        except Unusable as exc:
            letters.append(dead_letter(message, str(exc)))
    return decoded, letters
