"""Forgetting idempotency keys once they expire: by command, and hourly in the results consumer."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from gateway_api.use_cases.ports import IdempotencyStore

log = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 3600


class PurgeExpiredKeys:
    """Delete the keys older than the API's TTL: exactly those the API would no longer replay."""

    def __init__(self, keys: IdempotencyStore, now: Callable[[], datetime], ttl: timedelta):
        self._keys = keys
        self._now = now
        self._ttl = ttl

    def __call__(self) -> int:
        return self._keys.purge(self._now() - self._ttl)


def purge_periodically(
    purge: PurgeExpiredKeys, stop: threading.Event, interval: float = PURGE_INTERVAL_SECONDS
) -> None:
    """Purge now and then every ``interval`` seconds until ``stop``; a failure waits for the next round."""
    while True:
        try:
            log.info("purged expired idempotency keys", extra={"purged": purge()})
        except Exception:  # noqa: BLE001 - the database may be down: the next round catches up
            log.warning("purging expired idempotency keys failed; will retry", exc_info=True)
        if stop.wait(interval):
            return
