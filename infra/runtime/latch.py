"""A one-shot signal between threads, for the request path's waits (an ack, a group commit)."""

from __future__ import annotations

import _thread


class Latch:
    """``threading.Event`` for a signal set once: a bare lock, held until ``set``.

    ``Event.wait`` builds a waiter lock and goes through a ``Condition`` on every call, and an
    Event is three objects: ~3 us per request even when the signal came first, more when it waits.
    Here a wait is one acquire. ``set`` may be called again (it does nothing then), but not by two
    threads at once: the callers here set under a lock of their own, or from the one leader.
    """

    __slots__ = ("_lock", "_set")

    def __init__(self):
        self._lock = _thread.allocate_lock()
        self._lock.acquire()
        self._set = False

    def set(self) -> None:
        if not self._set:
            self._set = True
            self._lock.release()

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        """True once set; False if ``timeout`` seconds passed first."""
        if self._set:
            return True
        if self._lock.acquire(True, -1 if timeout is None else timeout):
            self._lock.release()  # stays open for any other waiter
            return True
        return self._set
