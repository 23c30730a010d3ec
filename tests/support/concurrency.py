"""Races that provably happen: threads released together by a barrier, and the calls' time spans.

A "concurrent" test whose calls ran one after another proves nothing about concurrency, so the
tests assert on :func:`most_in_flight`, computed from when each call entered and left.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

Span = tuple[float, float]


class Spans:
    """Wraps callables and records the (entered, left) span of every call, from any thread."""

    def __init__(self, function: Callable | None = None):
        self._function = function
        self._lock = threading.Lock()
        self.spans: list[Span] = []

    def __call__(self, *args, **kwargs):
        return self._timed(self._function, *args, **kwargs)

    def wrapping(self, function: Callable) -> Callable:
        """``function`` timed into these same spans (several callables, one record)."""
        return lambda *args, **kwargs: self._timed(function, *args, **kwargs)

    def _timed(self, function: Callable, *args, **kwargs):
        entered = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            with self._lock:
                self.spans.append((entered, time.perf_counter()))


def race(function: Callable[[int], object], racers: int) -> tuple[list, list[Span]]:
    """Call ``function(i)`` for i in range(racers), all threads released at once; results and spans."""
    barrier = threading.Barrier(racers)
    timed = Spans(function)

    def run(index: int):
        barrier.wait(timeout=30)
        return timed(index)

    with ThreadPoolExecutor(racers) as pool:
        results = list(pool.map(run, range(racers)))
    return results, timed.spans


def most_in_flight(spans: list[Span]) -> int:
    """The largest number of calls that were running at one moment."""
    # At equal times a call that left is counted out before one that entered is counted in.
    events = sorted([(left, -1) for _, left in spans] + [(entered, 1) for entered, _ in spans])
    running = most = 0
    for _, change in events:
        running += change
        most = max(most, running)
    return most
