"""The services' log lines are written in batches (one write per batch, not per request), warnings at once."""
from __future__ import annotations

import io
import logging
import time

from infra.runtime.logs import BatchedStreamHandler, JsonFormatter
from tests.support import wait_until


class CountingStream(io.StringIO):
    """An unbuffered stream (as with PYTHONUNBUFFERED): what is written is what the reader gets."""

    def __init__(self):
        super().__init__()
        self.writes = 0

    def write(self, text):
        self.writes += 1
        return super().write(text)

    @property
    def flushed(self) -> str:
        return self.getvalue()


def logger_writing_to(stream: CountingStream, interval: float) -> logging.Logger:
    handler = BatchedStreamHandler(stream, interval=interval)
    handler.setFormatter(JsonFormatter("test"))
    log = logging.getLogger(f"test.batched.{id(stream)}")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
    return log


def test_info_lines_of_many_requests_are_written_together_within_the_interval():
    stream = CountingStream()
    log = logger_writing_to(stream, interval=0.2)
    for n in range(50):
        log.info("request", extra={"n": n})
    assert stream.writes <= 1
    wait_until(lambda: stream.flushed.count("\n") == 50, 5, message="the 50 lines flushed")
    assert stream.writes <= 2


def test_a_warning_is_written_at_once_with_the_lines_before_it():
    stream = CountingStream()
    log = logger_writing_to(stream, interval=30)
    log.info("request")
    log.warning("broker unavailable")
    assert stream.flushed.count("\n") == 2 and '"level": "warning"' in stream.flushed


def test_lines_logged_after_a_write_are_written_too():
    stream = CountingStream()
    log = logger_writing_to(stream, interval=0.05)
    log.info("first")
    wait_until(lambda: stream.flushed.count("\n") == 1, 5, message="the first line flushed")
    time.sleep(0.1)
    log.info("second")
    wait_until(lambda: stream.flushed.count("\n") == 2, 5, message="the second line flushed")
