"""Group commit: the small DB writes of concurrent requests share one transaction and one statement.

A web worker answers many requests at once, and each needs a short write (a ledger row, an
idempotency key) committed before it answers. One transaction per request makes them queue for the
database's write lock (SQLite: one writer per file, with a busy handler that sleeps 1-100 ms; MySQL:
a round trip per statement and a log flush per commit). Here the writes of a process are committed
by a *leader*: the first request that finds nobody committing leads, in its own thread; the
requests that arrive meanwhile queue their write and wait. When the leader's commit ends it wakes
the requests it carried and, if writes queued meanwhile, commits them too until its own write is
in (a request never waits for more than the commits ahead of its own), then hands the lead to the
oldest waiting request, if any. Each kind of write (a :class:`Batch`) gets all of its items at
once (one multi-row statement instead of one per request). Under load a commit carries tens of
writes; an idle request commits its own, in its own thread, with no thread hand-off at all (a
writer thread cost two wake-ups per request: measured in docs/benchmarks-api.md). Nobody is answered
before the commit that holds their write, so read-your-writes and "nothing written unless the
caller was told so" hold exactly as with a transaction per request.

Writes must be idempotent: a failed commit is rolled back and each of its items is retried in a
transaction of its own, so one bad item fails only its own request.
"""

from __future__ import annotations

import abc
import collections
import logging
import threading
import time
from collections.abc import Sequence
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

from infra.runtime.latch import Latch

log = logging.getLogger(__name__)
Item = TypeVar("Item")
Result = TypeVar("Result")
# A connection idle longer than this goes back to the pool, whose checkout checks it again
# (pool_pre_ping, pool_recycle on MySQL) before the next commit uses it.
HOLD_SECONDS = 1.0


class Batch(abc.ABC, Generic[Item, Result]):
    """One kind of write: how to write many items in one go on an open transaction."""

    @abc.abstractmethod
    def write(self, connection: Connection, items: Sequence[Item]) -> Sequence[Result]:
        """Write ``items``; return one result per item, in order."""


class _Pending:
    __slots__ = ("batch", "item", "wake", "finished", "result", "error")

    def __init__(self, batch: Batch, item):
        self.batch = batch
        self.item = item
        self.wake = Latch()  # set when finished, or when handed the lead
        self.finished = False
        self.result = None
        self.error: BaseException | None = None


class GroupCommit:
    """``run(batch, item)`` returns the item's result once the transaction that wrote it committed."""

    def __init__(self, engine: Engine, max_items: int = 500, name: str = "group-commit"):
        self._engine = engine
        self._max_items = max_items
        self._name = name
        self._lock = threading.Lock()
        self._queue: collections.deque[_Pending] = collections.deque()
        self._leading = False
        self._held: Connection | None = None  # used by the leader only: one leader at a time
        self._last_commit = 0.0

    def run(self, batch: Batch[Item, Result], item: Item) -> Result:
        pending = _Pending(batch, item)
        with self._lock:
            self._queue.append(pending)
            lead = not self._leading
            self._leading = True
        if not lead:
            pending.wake.wait()  # finished by a leader, or handed the lead
        if not pending.finished:
            self._lead(pending)
        if pending.error is not None:
            raise pending.error
        return pending.result

    def waiting(self) -> int:
        """Writes queued for the next commit."""
        with self._lock:
            return len(self._queue)

    def _lead(self, own: _Pending) -> None:
        try:
            while not own.finished:
                self._commit(self._take())
        finally:
            self._hand_over()

    def _take(self) -> list[_Pending]:
        with self._lock:
            return [self._queue.popleft() for _ in range(min(len(self._queue), self._max_items))]

    def _hand_over(self) -> None:
        with self._lock:
            if self._queue:
                self._queue[0].wake.set()  # it wakes unfinished: it leads next
            else:
                self._leading = False

    def _commit(self, taken: list[_Pending]) -> None:
        ended = False
        try:
            self._commit_or_retry(taken)
            ended = True
        finally:  # even when the leader's thread is interrupted, nobody it carried waits forever
            for pending in taken:
                if not ended and pending.error is None:
                    pending.error = RuntimeError(f"{self._name}: the commit was interrupted")
                pending.finished = True
                pending.wake.set()

    def _commit_or_retry(self, taken: list[_Pending]) -> None:
        try:
            self._write_in_one_transaction(taken)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting requests, never lost
            if len(taken) == 1:
                taken[0].error = exc
                return
            log.warning(
                "group commit failed, retrying its writes one by one",
                extra={"writes": len(taken), "error_class": type(exc).__name__},
            )
            for pending in taken:
                self._commit_alone(pending)

    def _write_in_one_transaction(self, taken: list[_Pending]) -> None:
        by_batch: dict[Batch, list[_Pending]] = {}
        for pending in taken:
            by_batch.setdefault(pending.batch, []).append(pending)
        connection = self._connection()
        try:
            with connection.begin():
                for batch, group in by_batch.items():
                    results = batch.write(connection, [pending.item for pending in group])
                    for pending, result in zip(group, results, strict=True):
                        pending.result = result
        except BaseException:
            self.release()  # whatever failed (a lost connection...), the next commit starts afresh
            raise
        self._last_commit = time.monotonic()

    def _connection(self) -> Connection:
        if self._held is not None and time.monotonic() - self._last_commit > HOLD_SECONDS:
            self.release()
        if self._held is None:
            self._held = self._engine.connect()
        return self._held

    def release(self) -> None:
        """Hand the held connection back to the pool (an app that stops; before ``engine.dispose()``)."""
        held, self._held = self._held, None
        if held is not None:
            held.close()

    def _commit_alone(self, pending: _Pending) -> None:
        try:
            self._write_in_one_transaction([pending])
        except Exception as exc:  # noqa: BLE001 - this request's own failure
            pending.error = exc


def write_alone(engine: Engine, batch: Batch[Item, Result], item: Item) -> Result:
    """The same write in a transaction of its own (a process without a group commit: CLI, tests)."""
    with engine.begin() as connection:
        return batch.write(connection, [item])[0]
