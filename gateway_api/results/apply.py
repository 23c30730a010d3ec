"""Turning a batch of `transactions_result` messages into one ledger write."""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from infra.contracts import FINAL_STATUSES, TransactionResult

from gateway_api.use_cases.ports import Ledger

log = logging.getLogger(__name__)


def decode(raw: bytes | None) -> TransactionResult | None:
    """The result in a message, or None (logged, without the payload) if it is not one."""
    try:
        result = TransactionResult.from_json(raw or b"")
    except (ValueError, TypeError):
        log.warning("skipping a message that is not a transaction result")
        return None
    if not isinstance(result.id, str) or not result.id or result.status not in FINAL_STATUSES:
        log.warning("skipping a result without id or final status", extra={"status": str(result.status)[:20]})
        return None
    return result


class ApplyResults:
    """The batch handler of the results consumer: one DB transaction per batch."""

    def __init__(self, ledger: Ledger, metrics):
        self._ledger = ledger
        self._metrics = metrics

    def __call__(self, messages: Sequence) -> None:
        started = time.perf_counter()
        results = [result for result in (decode(m.value()) for m in messages) if result is not None]
        try:
            self._ledger.apply_results(results)
        except Exception:
            self._metrics.BATCH_FAILURES.inc()
            raise
        self._metrics.BATCH_DURATION.observe(time.perf_counter() - started)
        for result in results:
            self._metrics.APPLIED.labels(result.status).inc()
        log.info("applied results", extra={"results": len(results), "messages": len(messages)})
