"""The threads that send: claimed deliveries in through one queue, finished attempts out through another.

Plain queues rather than an executor's futures: at a thousand deliveries a second the futures'
locks, conditions and ``wait()`` cost more CPU than the bookkeeping they would save here.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

from gateway_api.use_cases.ports import AttemptRecord, ClaimedDelivery

log = logging.getLogger(__name__)


class Senders:
    """``count`` threads running ``attempt``. Only the dispatcher's loop thread calls the methods."""

    def __init__(self, attempt: Callable[[ClaimedDelivery], AttemptRecord], count: int):
        self._attempt = attempt
        self._todo: queue.SimpleQueue = queue.SimpleQueue()
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self.in_flight = 0  # handed to the threads and not collected yet (queued or being sent)
        self._threads = [threading.Thread(target=self._work, name=f"webhook-{n}", daemon=True) for n in range(count)]
        for thread in self._threads:
            thread.start()

    def submit(self, deliveries: Sequence[ClaimedDelivery]) -> None:
        for delivery in deliveries:
            self._todo.put(delivery)
        self.in_flight += len(deliveries)

    def collect(self, wait_s: float = 0.0, gather_s: float = 0.0) -> list[AttemptRecord]:
        """The finished attempts: waits up to ``wait_s`` for the first, then up to ``gather_s``
        more for others, so that their outcomes go to the database together."""
        finished = self._drain()
        if not finished and wait_s > 0 and self.in_flight:
            try:
                finished.append(self._done.get(timeout=wait_s))
            except queue.Empty:
                return []
            deadline = time.monotonic() + gather_s
            while (remaining := deadline - time.monotonic()) > 0 and len(finished) < self.in_flight:
                try:
                    finished.append(self._done.get(timeout=remaining))
                except queue.Empty:
                    break
            finished += self._drain()
        self.in_flight -= len(finished)
        return [record for record in finished if record is not None]

    def unstarted(self) -> list[ClaimedDelivery]:
        """Take back what no thread has started yet (on shutdown: their leases can be given back)."""
        taken = []
        while True:
            try:
                taken.append(self._todo.get_nowait())
            except queue.Empty:
                break
        self.in_flight -= len(taken)
        return taken

    def finish(self, timeout_s: float) -> list[AttemptRecord]:
        """Everything still being sent, waiting at most ``timeout_s``."""
        finished, deadline = [], time.monotonic() + timeout_s
        while self.in_flight and (remaining := deadline - time.monotonic()) > 0:
            finished += self.collect(wait_s=remaining)
        return finished

    def close(self) -> None:
        for _ in self._threads:
            self._todo.put(None)

    def _drain(self) -> list:
        finished = []
        while True:
            try:
                finished.append(self._done.get_nowait())
            except queue.Empty:
                return finished

    def _work(self) -> None:
        while (delivery := self._todo.get()) is not None:
            record = None
            try:
                record = self._attempt(delivery)
            except Exception:  # noqa: BLE001 - a bug must not stall the loop: the lease brings it back
                log.exception(
                    "sending a webhook failed unexpectedly",
                    extra={"delivery_id": getattr(delivery, "delivery_id", None)},
                )
            finally:
                self._done.put(record)  # counted as finished either way
