"""Turning a batch of `transactions_result` messages into one ledger write (``ApplyResults``).

Nothing a message contains can block a partition: results that break the contract are
dead-lettered before the write (``decoding``), and if the batch still fails while the database
answers (a data error or any other exception, not an outage: ``infra.runtime.poison``), its results are
applied one by one and only the failing ones are dead-lettered. An outage (connection lost, database
or broker down) raises, and the loop retries the batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from confluent_kafka import Message

from infra.kernel.contracts import DeadLetter, TransactionResult
from infra.runtime.dead_letters import DeadLetterPublisher, dead_letter
from infra.runtime.poison import OutageOrPoison, apply_isolating, poison_reason

from gateway_api.adapters.metrics import ResultsMetrics
from gateway_api.entrypoints.result_decoding import Unusable, decode_result
from gateway_api.use_cases.apply_results import ApplyResults
from gateway_api.use_cases.ports import LedgerRefused

log = logging.getLogger(__name__)

Decoded = tuple[Message, TransactionResult]


class ResultBatchHandler:
    """The batch handler of the results consumer: decode, dead-letter, ``ApplyResults`` (one DB transaction)."""

    def __init__(
        self,
        apply_results: ApplyResults,
        dead_letters: DeadLetterPublisher,
        metrics: ResultsMetrics,
        judge: OutageOrPoison,
    ):
        self._apply_results = apply_results
        self._judge = judge
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
        log.info(
            "applied results",
            extra={"results": len(applied), "messages": len(messages), "dead_letters": len(letters) + len(refused)},
        )

    def _apply(self, decoded: list[Decoded]) -> tuple[list[TransactionResult], list[DeadLetter]]:
        applied, poison = apply_isolating(decoded, self._apply_all, self._judge, _refusal)
        refused = [dead_letter(message, reason) for (message, _), reason in poison]
        return [result for results in applied for result in results], refused

    def _apply_all(self, decoded: Sequence[Decoded]) -> list[TransactionResult]:
        results = [result for _, result in decoded]
        self._apply_results(results)
        return results

    def _record(self, applied: list[TransactionResult], letters: list[DeadLetter]) -> None:
        for result in applied:
            self._metrics.applied.labels(result.status).inc()
        if letters:
            self._metrics.dead_letters.inc(len(letters))
            for letter in letters:
                log.warning(
                    "result dead-lettered",
                    extra={
                        "reason": letter.reason,
                        "partition": letter.source_partition,
                        "offset": letter.source_offset,
                    },
                )


def _split(messages: Sequence[Message]) -> tuple[list[Decoded], list[DeadLetter]]:
    decoded, letters = [], []
    for message in messages:
        try:
            decoded.append((message, decode_result(message.value())))
        except Unusable as exc:
            letters.append(dead_letter(message, str(exc)))
        except Exception as exc:  # noqa: BLE001 - whatever a message holds, the batch goes on
            letters.append(dead_letter(message, poison_reason(exc)))
    return decoded, letters


def _refusal(exc: BaseException) -> str:
    """The database's error class (``LedgerRefused`` carries it), never its text."""
    return f"refused by the ledger: {exc if isinstance(exc, LedgerRefused) else type(exc).__name__}"
