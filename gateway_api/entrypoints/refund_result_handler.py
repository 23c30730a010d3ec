"""Turning a batch of ``refunds_result`` messages into ledger writes (``ApplyRefundResults``), like
``ResultBatchHandler`` for payments: results that break the contract are dead-lettered, a batch the
database refuses is applied one by one and only the refused results are dead-lettered, an outage raises
and the loop retries."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from confluent_kafka import Message

from infra.kernel.contracts import DeadLetter, RefundResult
from infra.runtime.dead_letters import DeadLetterPublisher, dead_letter

from gateway_api.adapters.metrics import ResultsMetrics
from gateway_api.domain.refunds import Refund
from gateway_api.entrypoints.refund_result_decoding import decode_refund_result
from gateway_api.entrypoints.result_decoding import Unusable
from gateway_api.use_cases.apply_results import ApplyRefundResults
from gateway_api.use_cases.ports import LedgerRefused

log = logging.getLogger(__name__)


class RefundResultBatchHandler:
    """The batch handler of ``refunds_result`` in the results consumer."""

    def __init__(self, apply_results: ApplyRefundResults, dead_letters: DeadLetterPublisher, metrics: ResultsMetrics):
        self._apply_results = apply_results
        self._dead_letters = dead_letters
        self._metrics = metrics

    def __call__(self, messages: Sequence[Message]) -> None:
        try:
            decoded, letters = _split(messages)
            decided, refused = self._apply(decoded)
            if letters + refused:
                self._dead_letters.publish(letters + refused)
        except Exception:
            self._metrics.batch_failures.inc()
            raise
        for refund in decided:
            self._metrics.refunds_applied.labels(refund.status).inc()
        if letters + refused:
            self._metrics.dead_letters.inc(len(letters + refused))
        log.info(
            "applied refund results",
            extra={"results": len(decoded), "decided": len(decided), "dead_letters": len(letters + refused)},
        )

    def _apply(self, decoded: list[tuple[Message, RefundResult]]) -> tuple[list[Refund], list[DeadLetter]]:
        try:
            return self._apply_results([result for _, result in decoded]), []
        except LedgerRefused as exc:
            log.warning("the ledger refused a refund batch; applying one by one", extra={"error_class": str(exc)})
        decided, refused = [], []
        for message, result in decoded:
            try:
                decided += self._apply_results([result])
            except LedgerRefused as exc:
                refused.append(dead_letter(message, f"refused by the ledger: {exc}"))
        return decided, refused


def _split(messages: Sequence[Message]) -> tuple[list[tuple[Message, RefundResult]], list[DeadLetter]]:
    decoded, letters = [], []
    for message in messages:
        try:
            decoded.append((message, decode_refund_result(message.value())))
        except Unusable as exc:
            letters.append(dead_letter(message, str(exc)))
    return decoded, letters
