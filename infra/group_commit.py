"""Group commit: the small DB writes of concurrent requests share one transaction.

A web worker answers many requests at once, and each needs a short write (a ledger row, an
idempotency key) committed before it answers. One transaction per request makes them queue for the
database's write lock (SQLite: one writer per file, with a busy handler that sleeps 1-100 ms; MySQL:
one log flush per commit). Here each process has one writer thread: a request hands it its write
and waits; the thread takes every write queued meanwhile, runs them in one transaction, commits and
wakes their requests. Under load a commit carries tens of writes; an idle request waits for its own
commit only. Nobody is answered before the commit that holds their write, so read-your-writes and
"nothing written unless the caller was told so" stay exactly as with a transaction per request.

A write must be idempotent (it may run twice: a batch that fails is rolled back and each of its
writes is retried in a transaction of its own, so one bad write fails only its own request).
"""
from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)
T = TypeVar("T")
Write = Callable[[Connection], T]


class _Pending(Generic[T]):
    __slots__ = ("write", "done", "result", "error")

    def __init__(self, write: Write):
        self.write = write
        self.done = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """``run(write)`` returns ``write(connection)``'s result once the transaction that ran it committed."""

    def __init__(self, engine: Engine, max_batch: int = 500, name: str = "group-commit"):
        self._engine = engine
        self._max_batch = max_batch
        self._name = name
        self._queue: queue.SimpleQueue[_Pending] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def run(self, write: Write[T]) -> T:
        pending = _Pending(write)
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
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            self._run_in_one_transaction(batch)
        except Exception as exc:  # noqa: BLE001 - handed to the waiting requests, never lost
            if len(batch) == 1:
                batch[0].error = exc
            else:
                log.warning("group commit failed, retrying its writes one by one",
                            extra={"writes": len(batch), "error_class": type(exc).__name__})
                for pending in batch:
                    self._commit_alone(pending)
        for pending in batch:
            pending.done.set()

    def _run_in_one_transaction(self, batch: list[_Pending]) -> None:
        with self._engine.begin() as connection:
            for pending in batch:
                pending.result = pending.write(connection)

    def _commit_alone(self, pending: _Pending) -> None:
        pending.result = None
        try:
            self._run_in_one_transaction([pending])
        except Exception as exc:  # noqa: BLE001 - this request's own failure
            pending.error = exc
