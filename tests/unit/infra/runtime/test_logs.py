"""``log_fields`` writes the line a record with these ``extra`` fields would give, without the record
when the JSON handler is the only one, and through a record otherwise (pytest's caplog)."""

from __future__ import annotations

import io
import json
import logging
import time
import uuid

import pytest

from infra.runtime.logs import BatchedStreamHandler, JsonFormatter, log_fields

from tests.support import wait_until

FIELDS = {
    "method": "POST",
    "route": "/v1/transactions",
    "status": 202,
    "duration_ms": 1.25,
    "account_id": None,
    "note": "card 4111111111111111",
}


@pytest.fixture
def json_logger():
    """A logger whose only handler on the way is the JSON one (it does not propagate), and its lines."""
    stream = io.StringIO()
    handler = BatchedStreamHandler(stream, interval=60)
    handler.setFormatter(JsonFormatter("test"))
    logger = logging.getLogger(f"test.{uuid.uuid4().hex}")
    logger.propagate, logger.handlers = False, [handler]
    logger.setLevel(logging.INFO)

    def lines() -> list[dict]:
        handler.flush()
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    return logger, lines


def test_the_line_is_the_one_a_record_gives(json_logger):
    logger, lines = json_logger
    logger.log(logging.INFO, "request", extra=FIELDS)
    log_fields(logger, logging.INFO, "request", FIELDS)
    by_record, direct = lines()
    assert by_record.pop("ts")[:16] == direct.pop("ts")[:16] and by_record == direct
    assert list(by_record) == list(direct) and "4111111111111111" not in json.dumps(direct)  # same order, masked


def test_below_the_level_nothing_is_written(json_logger):
    logger, lines = json_logger
    log_fields(logger, logging.DEBUG, "request", FIELDS)
    assert lines() == []


def test_any_other_handler_gets_a_record(caplog):
    logger = logging.getLogger("test.log_fields.caplog")
    with caplog.at_level(logging.INFO, logger=logger.name):
        log_fields(logger, logging.INFO, "request", FIELDS)
    (record,) = caplog.records
    assert (record.getMessage(), record.status, record.route) == ("request", 202, "/v1/transactions")


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


def queued_handler() -> tuple[BatchedStreamHandler, CountingStream]:
    stream = CountingStream()
    handler = BatchedStreamHandler(stream, interval=30)
    handler.setFormatter(JsonFormatter("test"))
    return handler, stream


def written(handler: BatchedStreamHandler, stream: CountingStream) -> list[dict]:
    handler.flush()
    return [json.loads(line) for line in stream.flushed.splitlines()]


def test_an_access_line_is_formatted_when_written_with_the_time_and_order_it_was_logged_at():
    handler, stream = queued_handler()
    handler.write_fields(handler.formatter, logging.INFO, "access", "request", FIELDS)
    logged_at = time.time()
    assert stream.flushed == "" and not isinstance(handler._lines[0], str)  # queued as fields, not a line
    time.sleep(0.05)
    handler.write_line(handler.formatter.format_fields(logging.INFO, "access", "after it", {}), logging.INFO)
    first, second = written(handler, stream)
    assert (first["msg"], second["msg"]) == ("request", "after it")
    assert abs(_epoch(first["ts"]) - logged_at) < 0.04  # the time it was logged at, not written at
    assert first["note"] == "card ************1111"


def test_a_line_that_cannot_be_formatted_is_reported_and_the_others_are_written():
    class Unprintable:
        def __str__(self):
            raise ValueError("no")

    handler, stream = queued_handler()
    handler.write_fields(handler.formatter, logging.INFO, "access", "request", {"bad": Unprintable()})
    handler.write_fields(handler.formatter, logging.INFO, "access", "request", FIELDS)
    bad, good = written(handler, stream)
    assert bad == {"level": "error", "msg": "a log line could not be formatted", "error_class": "ValueError"}
    assert good["route"] == "/v1/transactions"


def test_a_forked_child_starts_with_free_locks_and_without_the_parent_s_lines():
    stream = CountingStream()
    log = logger_writing_to(stream, interval=30)
    (handler,) = log.handlers
    log.info("the parent's")
    handler._writing.acquire()  # as if the parent's flusher was writing when a worker was forked
    handler._after_fork_in_child()
    log.warning("the child's")
    assert stream.flushed.count("\n") == 1 and "the child's" in stream.flushed


def _epoch(ts: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(ts).timestamp()
