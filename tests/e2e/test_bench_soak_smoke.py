"""`make bench-soak` works end to end in 20 seconds: the embedded stack as `make run` starts it, two
10-second "minutes" at a low rate. No timing is asserted: only that it prints its table and ends with
nothing pending, and that the moment each decision was recorded in the ledger is found for every
followed transaction (it comes before a GET can see it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from benchmarks.open_loop import percentile
from benchmarks.soak import Options, soak
from tests.support.stack import processes_marked

pytestmark = pytest.mark.slow


def test_a_short_soak_prints_a_row_per_minute_with_every_process_and_leaves_nothing_pending(tmp_path, capsys):
    minutes = soak(Options(rate=20, minutes=2, window_seconds=10, sample_every=5), tmp_path)
    printed = capsys.readouterr().out
    assert [m.result.accepted for m in minutes] == [200, 200]
    assert all(m.result.failed == 0 and m.result.decided_after for m in minutes)
    assert "| minute | accepted |" in printed and "broker us/tx" in printed and "processor us/tx" in printed
    assert printed.count("\n| 1 | 200 |") == 1 and printed.count("\n| 2 | 200 |") == 1
    assert "pending at the end: none" in printed
    assert "| recorded p50 / p99 ms |" in printed
    for minute in minutes:  # every followed decision has its ledger event, written before a GET could see it
        assert len(minute.recorded_after) == len(minute.result.decided_after) > 0
        assert percentile(list(minute.recorded_after), 0.5) <= percentile(minute.result.decided_after, 0.5)
    assert "machine: sum(range(1000)) x 20,000 in " in printed  # how fast the machine was, to compare runs


def test_a_benchmark_stopped_with_sigterm_stops_the_stack_it_started():
    """``timeout``, a CI job's time limit or ``kill`` end a benchmark with SIGTERM. Python's default then
    exits without leaving ``with Stack(...)``, and the services and the broker (each in a session of its
    own) ran on, holding their ports and CPU (benchmarks/stopping.py)."""
    mark = f"soak-stop-{uuid.uuid4().hex}"  # every process the soak starts inherits its environment
    env = os.environ | {"BENCH_SOAK_TEST_MARK": mark, "BENCH_SOAK_RATE": "5", "BENCH_SOAK_MINUTES": "5"}
    with subprocess.Popen(
        [sys.executable, "-m", "benchmarks.soak"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as soak:
        try:
            assert soak.stdout is not None
            header = next((line for line in soak.stdout if line.startswith("| minute |")), None)
            assert header is not None, f"the soak ended before its table (exit {soak.wait(10)})"
            assert (
                len(processes_marked("BENCH_SOAK_TEST_MARK", mark)) >= 5
            )  # broker, API, processor, results, webhooks, panel...

            soak.send_signal(signal.SIGTERM)

            exit_code = soak.wait(60)
            deadline = time.monotonic() + 10
            while processes_marked("BENCH_SOAK_TEST_MARK", mark) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert processes_marked("BENCH_SOAK_TEST_MARK", mark) == []
            assert exit_code == 128 + signal.SIGTERM  # stopped, not killed
        finally:
            soak.kill()
            for pid in processes_marked("BENCH_SOAK_TEST_MARK", mark):
                os.kill(pid, signal.SIGKILL)
