"""A gate every process's publishers pass through, which one supervisor can close for all of them.

The embedded broker keeps everything in memory and grows slower with what it stores
(infra/stack/broker_renewal.py); the development stack starts it afresh now and then. For that
nothing acknowledged may still be unread when it stops: the supervisor closes the gate (no new
write starts, the writes under way finish and are acknowledged), waits until every consumer has
committed what is on the broker, swaps the broker and opens the gate again.

It is a file lock (``flock``): a publisher holds it shared for the duration of one write and its
acknowledgement, the supervisor takes it exclusively. The kernel lets the exclusive holder in only
once every shared holder has left, and releases the lock of a process that dies. Linux grants new
shared locks while an exclusive one waits, so under steady writes their holds overlap and the
supervisor would wait forever: a second lock, the entry, held exclusively for an instant by every
publisher on its way in and for the whole swap by the supervisor, stops new writes from starting
while the ones under way finish. A lock belongs to an open file, so each thread opens the files
once and keeps them. With no path (production, Apache Kafka) the gate is always open and costs
nothing.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class GateBusy(RuntimeError):
    """The gate could not be closed in time: a write under way did not finish."""


class PublishGate:
    def __init__(self, path: str | os.PathLike | None):
        self.path = str(path) if path else ""
        self._local = threading.local()

    @contextmanager
    def passage(self) -> Iterator[None]:
        """Hold the gate open (shared) while the body writes; wait here while the gate is closed."""
        if not self.path:
            yield
            return
        entry, gate = self._descriptors()
        fcntl.flock(entry, fcntl.LOCK_EX)
        try:
            fcntl.flock(gate, fcntl.LOCK_SH)
        finally:
            fcntl.flock(entry, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)

    @contextmanager
    def closed(self, timeout: float) -> Iterator[None]:
        """Close the gate for the body: once every write under way has left, none starts until the end.

        Raises :class:`GateBusy` if a write still holds the gate after ``timeout`` seconds (the gate
        stays open then)."""
        entry, gate = os.open(self._ensure(self._entry_path), os.O_RDWR), os.open(self._ensure(self.path), os.O_RDWR)
        deadline = time.monotonic() + timeout
        try:
            _lock_before(entry, deadline, "a write kept entering")
            try:
                _lock_before(gate, deadline, "a write held the gate")
                try:
                    yield
                finally:
                    fcntl.flock(gate, fcntl.LOCK_UN)
            finally:
                fcntl.flock(entry, fcntl.LOCK_UN)
        finally:
            os.close(entry)
            os.close(gate)

    @property
    def _entry_path(self) -> str:
        return self.path + ".entry"

    def _descriptors(self) -> tuple[int, int]:
        fds = getattr(self._local, "fds", None)
        if fds is None:
            fds = self._local.fds = (
                os.open(self._ensure(self._entry_path), os.O_RDWR),
                os.open(self._ensure(self.path), os.O_RDWR),
            )
        return fds

    @staticmethod
    def _ensure(path: str) -> str:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        return path


def _lock_before(fd: int, deadline: float, what: str) -> None:
    """An exclusive lock, or :class:`GateBusy` at the deadline (flock itself waits forever)."""
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise GateBusy(f"{what} past the timeout") from None
            time.sleep(0.001)
