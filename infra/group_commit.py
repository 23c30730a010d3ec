"""Group commit: the small DB writes of concurrent requests share one transaction and one statement.

A web worker answers many requests at once, and each needs a short write (a ledger row, an
idempotency key) committed before it answers. One transaction per request makes them queue for the
database's write lock (SQLite: one writer per file, with a busy handler that sleeps 1-100 ms; MySQL:
a round trip per statement and a log flush per commit). Here each process has one writer thread: a
request hands it its write and waits; the thread takes every write queued meanwhile, gives each kind
of write (a :class:`Batch`) all of its items at once (one multi-row statement instead of one per
request), commits, and wakes the requests. Under load a commit carries tens of writes; an idle
request waits for its own commit only. Nobody is answered before the commit that holds their write,
so read-your-writes and "nothing written unless the caller was told so" hold exactly as with a
transaction per request.

Writes must be idempotent: a failed commit is rolled back and each of its items is retried in a
transaction of its own, so one bad item fails only its own request.
"""
from __future__ import annotations

import abc
import logging
import queue
import threading
from collections.abc import Sequence
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)
Item = TypeVar("Item")
Result = TypeVar("Result")


class Batch(abc.ABC, Generic[Item, Result]):
    """One kind of write: how to write many items in one go on an open transaction."""

    @abc.abstractmethod
    def write(self, connection: Connection, items: Sequence[Item]) -> Sequence[Result]:
        """Write ``items``; return one result per item, in order."""


class _Pending:
    __slots__ = ("batch", "item", "done", "result", "error")

    def __init__(self, batch: Batch, item):
        self.batch = batch
        self.item = item
        self.done = threading.Event()
        self.result = None
        self.error: BaseException | None = None


class GroupCommit:
    """``run(batch, item)`` returns the item's result once the transaction that wrote it committed."""

    def __init__(self, engine: Engine, max_items: int = 500, name: str = "group-commit"):
        self._engine = engine
        self._max_items = max_items
        self._name = name
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def run(self, batch: Batch[Item, Result], item: Item) -> Result:
        pending = _Pending(batch, item)
        self._queue.put(pending)
        self._ensure_writer()
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.result

    def _ensure_writer(self) -> None:
        # Started on first use, in the process that uses it (gunicorn forks workers after import).
        if self._thread is None or not self._thread.is_alive():
            with self._start_lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._write_forever, name=self._name, daemon=True)
                    self._thread.start()

    def _write_forever(self) -> None:
        while True:
            taken = [self._queue.get()]
            while len(taken) < self._max_items:
                try:
                    taken.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(taken)

    def _commit(self, taken: list[_Pending]) -> None:
        try:
            self._write_in_one_transaction(taken)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting requests, never lost
            if len(taken) == 1:
                taken[0].error = exc
            else:
                log.warning("group commit failed, retrying its writes one by one",
                            extra={"writes": len(taken), "error_class": type(exc).__name__})
                for pending in taken:
                    self._commit_alone(pending)
        for pending in taken:
            pending.done.set()

    def _write_in_one_transaction(self, taken: list[_Pending]) -> None:
        by_batch: dict[Batch, list[_Pending]] = {}
        for pending in taken:
            by_batch.setdefault(pending.batch, []).append(pending)
        with self._engine.begin() as connection:
            for batch, group in by_batch.items():
                results = batch.write(connection, [pending.item for pending in group])
                for pending, result in zip(group, results, strict=True):
                    pending.result = result

    def _commit_alone(self, pending: _Pending) -> None:
        try:
            self._write_in_one_transaction([pending])
        except Exception as exc:  # noqa: BLE001 - this request's own failure
            pending.error = exc


def write_alone(engine: Engine, batch: Batch[Item, Result], item: Item) -> Result:
    """The same write in a transaction of its own (a process without a group commit: CLI, tests)."""
    with engine.begin() as connection:
        return batch.write(connection, [item])[0]
