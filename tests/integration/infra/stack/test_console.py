"""A service's output on its way to `make run`'s console and to its log file (infra/stack/processes.py)."""

from __future__ import annotations

import io
import json
import sys

from infra.stack.console import console_formatter
from infra.stack.processes import ManagedProcess

SERVICE = (
    "import logging; from infra.runtime.logs import configure_logging; configure_logging('processor'); "
    "logging.getLogger('processor').info('decided', extra={'transaction_id': 'tx_1', 'status': 'approved'})"
)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_readable_lines_and_the_log_file_keeps_the_json(tmp_path):
    console = Terminal()
    process = ManagedProcess(
        "processor",
        [sys.executable, "-c", SERVICE],
        {"PYTHONPATH": "."},
        tmp_path,
        console,
        console_formatter("auto", console),
    ).start()
    assert process.wait(30)

    shown = console.getvalue().splitlines()
    written = json.loads(process.log_path.read_text().splitlines()[0])
    assert len(shown) == 1 and shown[0].startswith("processor | ")
    assert shown[0].endswith(" INFO  decided transaction_id=tx_1 status=approved")
    assert written["msg"] == "decided" and written["transaction_id"] == "tx_1" and written["service"] == "processor"


def test_a_pipe_gets_the_json_as_written(tmp_path):
    console = io.StringIO()
    process = ManagedProcess(
        "processor",
        [sys.executable, "-c", SERVICE],
        {"PYTHONPATH": "."},
        tmp_path,
        console,
        console_formatter("auto", console),
    ).start()
    assert process.wait(30)

    assert json.loads(console.getvalue().removeprefix("processor | "))["status"] == "approved"


def test_a_line_written_in_pieces_is_shown_whole_and_the_file_keeps_every_byte(tmp_path):
    pieces = (
        "import sys, time; w = sys.stdout.buffer; "
        "[(w.write(p), w.flush(), time.sleep(0.05)) for p in (b'one ', b'line\\nsecond\\nno newline at the end')]"
    )
    console = io.StringIO()
    process = ManagedProcess("panel", [sys.executable, "-c", pieces], {}, tmp_path, console).start()
    assert process.wait(30)

    assert console.getvalue().splitlines() == [
        "panel     | one line",
        "panel     | second",
        "panel     | no newline at the end",
    ]
    assert process.log_path.read_bytes() == b"one line\nsecond\nno newline at the end"
