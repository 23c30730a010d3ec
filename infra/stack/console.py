"""What `make run` shows in a terminal: one readable line per log event instead of the JSON.

The services always write JSON lines (what a log pipeline parses; the stack's log files keep them
as written). The console shows them as ``time level message key=value ...`` when it is a terminal
(``LOG_FORMAT=auto``, the default) or with ``LOG_FORMAT=text``; ``LOG_FORMAT=json`` shows them raw.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

LOG_FORMATS = ("auto", "text", "json")
# Every line has these; the console's prefix already names the process, the rest is noise there.
_HIDDEN = frozenset({"ts", "level", "service", "pid", "logger", "msg", "exception"})


def console_formatter(log_format: str, console: TextIO | None) -> Callable[[str], str]:
    """The function `make run` passes each service's output line through on its way to ``console``."""
    if log_format == "json" or (log_format == "auto" and not _is_terminal(console)):
        return _as_written
    return readable


def readable(line: str) -> str:
    """``12:00:01.234 INFO  request POST /v1/transactions 202 3.1 ms account_id=acct_1``, from a JSON
    line; anything else (a traceback, a broker's own output) as written."""
    entry = _json_object(line)
    if entry is None or "msg" not in entry:
        return line
    parts = [_time(entry.get("ts")), f"{str(entry.get('level', '')).upper():<5}", str(entry["msg"])]
    if entry["msg"] == "request" and "route" in entry:
        parts += [str(entry.get("method")), str(entry.get("path")), str(entry.get("status"))]
        if entry.get("duration_ms") is not None:
            parts.append(f"{entry['duration_ms']} ms")
        shown = _HIDDEN | {"method", "path", "status", "duration_ms", "route"}
    else:
        shown = _HIDDEN
    parts += [f"{key}={_value(value)}" for key, value in entry.items() if key not in shown and value is not None]
    text = " ".join(parts)
    if entry.get("exception"):
        text += "\n" + "\n".join("    " + row for row in str(entry["exception"]).splitlines())
    return text


def _as_written(line: str) -> str:
    return line


def _is_terminal(console: TextIO | None) -> bool:
    try:
        return console is not None and console.isatty()
    except (AttributeError, ValueError):  # a closed or fake stream
        return False


def _json_object(line: str) -> dict | None:
    if not line.startswith("{"):
        return None
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def _time(ts) -> str:
    """``2026-12-06T12:00:01.234+00:00`` -> ``12:00:01.234`` (the console is read live: the date is today)."""
    text = str(ts or "")
    return text[11:23] if len(text) >= 23 else text


def _value(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return json.dumps(text) if (" " in text or text == "") else text
