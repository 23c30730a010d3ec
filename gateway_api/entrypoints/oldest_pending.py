"""How long the oldest transaction has been pending: the metric behind "transactions stuck pending".

A transaction the processor never decided (a record lost by the broker, an accepted offset gap, a
result dead-lettered) stays pending in the ledger forever and nothing else would say so. The
results consumer reads the oldest pending row's age every ``interval`` seconds (one indexed MIN
query) into a gauge; ``TransactionsPendingTooLong`` fires when it passes a few minutes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from gateway_api.use_cases.ports import Ledger

log = logging.getLogger(__name__)

REFRESH_SECONDS = 15.0


class OldestPending:
    def __init__(self, ledger: Ledger, gauge, now: Callable[[], datetime], interval: float = REFRESH_SECONDS):
        self._ledger = ledger
        self._gauge = gauge
        self._now = now
        self._interval = interval

    def refresh(self) -> None:
        oldest = self._ledger.oldest_pending_created_at()
        self._gauge.set(0 if oldest is None else max((self._now() - oldest).total_seconds(), 0))

    def run(self, stop: threading.Event) -> None:
        """Refresh until ``stop`` is set; a failed read keeps the last value (the DB alerts of its own)."""
        while True:
            try:
                self.refresh()
            except Exception as exc:  # noqa: BLE001 - a monitor must not die with the database
                log.warning("oldest pending transaction unknown", extra={"error_class": type(exc).__name__})
            if stop.wait(self._interval):
                return
