"""``log_fields`` writes the line a record with these ``extra`` fields would give, without the record
when the JSON handler is the only one, and through a record otherwise (pytest's caplog)."""
from __future__ import annotations

import io
import json
import logging
import uuid

import pytest

from infra.runtime.logs import BatchedStreamHandler, JsonFormatter, log_fields

FIELDS = {"method": "POST", "route": "/v1/transactions", "status": 202, "duration_ms": 1.25, "account_id": None,
          "note": "card 4111111111111111"}


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
