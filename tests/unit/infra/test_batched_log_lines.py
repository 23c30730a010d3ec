"""The services' log lines are flushed in batches (one write per batch, not per request), warnings at once."""
from __future__ import annotations

import io
import logging
import time

from infra.logs import BatchedStreamHandler, JsonFormatter
from tests.support import wait_until


class CountingStream(io.StringIO):
    def __init__(self):
        super().__init__()
        self.flushes = 0
        self.flushed = ""

    def flush(self):
        self.flushes += 1
        self.flushed = self.getvalue()


def logger_writing_to(stream: CountingStream, interval: float) -> logging.Logger:
    handler = BatchedStreamHandler(stream, interval=interval)
    handler.setFormatter(JsonFormatter("test"))
    log = logging.getLogger(f"test.batched.{id(stream)}")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.INFO)
    return log


def test_info_lines_of_many_requests_are_flushed_together_within_the_interval():
    stream = CountingStream()
    log = logger_writing_to(stream, interval=0.2)
    for n in range(50):
        log.info("request", extra={"n": n})
    assert stream.flushes <= 1
    wait_until(lambda: stream.flushed.count("\n") == 50, 5, message="the 50 lines flushed")
    assert stream.flushes <= 2


def test_a_warning_is_flushed_at_once_with_the_lines_before_it():
    stream = CountingStream()
    log = logger_writing_to(stream, interval=30)
    log.info("request")
    log.warning("broker unavailable")
    assert stream.flushed.count("\n") == 2 and '"level": "warning"' in stream.flushed


def test_lines_logged_after_a_flush_are_flushed_too():
    stream = CountingStream()
    log = logger_writing_to(stream, interval=0.05)
    log.info("first")
    wait_until(lambda: stream.flushed.count("\n") == 1, 5, message="the first line flushed")
    time.sleep(0.1)
    log.info("second")
    wait_until(lambda: stream.flushed.count("\n") == 2, 5, message="the second line flushed")
