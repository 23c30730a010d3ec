"""When the current request started: measured once, read by every hook that needs it (the HTTP
metrics of ``infra.runtime.metrics.instrument_flask``, the API's access log)."""

from __future__ import annotations

import time

from flask import Flask, g

_EXTENSION = "request_timing"


def time_requests(app: Flask) -> None:
    """Start the clock of every request of ``app`` (once, however many hooks ask for it)."""
    if app.extensions.get(_EXTENSION):
        return
    app.extensions[_EXTENSION] = True
    app.before_request(_start)


def _start() -> None:
    g.request_started = time.perf_counter()


def request_seconds() -> float | None:
    """Seconds since the current request started; None when an earlier hook answered before the clock."""
    started = g.get("request_started")
    return None if started is None else time.perf_counter() - started
