"""`make run`'s console: readable lines in a terminal, the JSON as written otherwise (infra/stack/console.py)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from infra.runtime.logs import JsonFormatter
from infra.runtime.settings import ConfigurationError, EnvReader
from infra.stack.console import console_formatter, readable
from infra.stack.settings import StackSettings


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def json_line(message: str, exc_info=None, **fields) -> str:
    record = logging.LogRecord("gateway_api.access", logging.INFO, __file__, 1, message, None, exc_info)
    record.__dict__.update(fields)
    return JsonFormatter("gateway_api").format(record)


def test_an_access_line_reads_as_time_level_request_and_the_fields_that_matter():
    line = json_line(
        "request",
        method="POST",
        route="/v1/transactions",
        path="/v1/transactions",
        status=202,
        duration_ms=3.14,
        account_id="acct_1",
        operator=None,
        request_id="req 1",
    )

    shown = readable(line)

    assert shown[12:] == ' INFO  request POST /v1/transactions 202 3.14 ms account_id=acct_1 request_id="req 1"'
    assert shown[2] == shown[5] == ":" and shown[8] == "."  # HH:MM:SS.mmm


def test_other_lines_show_their_message_and_fields_and_an_exception_below():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        line = json_line("batch failed", exc_info=sys.exc_info(), batch_size=3, retry_in_s=0.5)

    first, *rest = readable(line).splitlines()

    assert first.endswith(" INFO  batch failed batch_size=3 retry_in_s=0.5")
    assert rest[0].startswith("    Traceback") and rest[-1] == "    ValueError: boom"


@pytest.mark.parametrize("line", ["plain text from a broker", "{not json", '["a", "list"]', json.dumps({"a": 1})])
def test_what_is_not_a_service_log_line_is_shown_as_written(line):
    assert readable(line) == line


@pytest.mark.parametrize(
    "log_format, console, readable_lines",
    [
        ("auto", Terminal(), True),
        ("auto", io.StringIO(), False),
        ("auto", None, False),
        ("text", io.StringIO(), True),
        ("json", Terminal(), False),
    ],
)
def test_the_console_is_readable_in_a_terminal_or_when_asked(log_format, console, readable_lines):
    line = json_line("started")

    assert (console_formatter(log_format, console)(line) != line) is readable_lines


def test_log_format_is_read_from_the_environment_and_checked():
    assert StackSettings.from_env(EnvReader({"LOG_FORMAT": "JSON"})).log_format == "json"
    assert StackSettings.from_env(EnvReader({})).log_format == "auto"
    with pytest.raises(ConfigurationError, match="LOG_FORMAT must be one of auto, text, json, got 'yaml'"):
        StackSettings.from_env(EnvReader({"LOG_FORMAT": "yaml"}))
