"""The CPU budget of `make bench-api` reads real processes' CPU from /proc: a tree's CPU includes its
children (gunicorn workers under their master), and a client run inside the window is counted."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from benchmarks.cpu import CpuMeter, all_processes, machine_speed, read_process, tree_seconds

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads Linux's /proc")

BURN = "import time\nend = time.process_time() + {seconds}\nwhile time.process_time() < end: pass\n"
# A parent that starts a child burning CPU, then waits to be stopped: like a gunicorn master.
PARENT = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', {burn!r} + 'time.sleep(60)'])\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def parent_with_busy_child():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(burn=BURN.format(seconds=0.4))], stdout=subprocess.PIPE, text=True
    )
    child_pid = int(parent.stdout.readline())
    yield parent.pid, child_pid
    os.kill(child_pid, signal.SIGTERM)
    parent.kill()
    parent.wait(5)
    parent.stdout.close()


def test_a_tree_counts_the_cpu_of_its_children(parent_with_busy_child):
    parent_pid, child_pid = parent_with_busy_child
    meter = CpuMeter({"tree": parent_pid})
    meter.start()
    deadline = time.monotonic() + 10
    while read_process(child_pid).seconds < 0.4 and time.monotonic() < deadline:
        time.sleep(0.05)
    spent = meter.stop()
    processes = all_processes()
    assert tree_seconds(parent_pid, processes) >= read_process(child_pid).seconds >= 0.4
    assert spent["tree"] > 0.2


def test_a_client_waited_for_in_the_window_is_counted():
    meter = CpuMeter({}, client="client", this_process="me")
    meter.start()
    subprocess.run([sys.executable, "-c", BURN.format(seconds=0.3)], check=True)
    spent = meter.stop()
    assert spent["client"] >= 0.3
    assert spent["me"] < spent["client"]


def test_a_gone_process_reads_as_none():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    assert read_process(process.pid) is None


def test_the_machine_speed_line_gives_the_probe_s_time_in_milliseconds():
    line = machine_speed()
    milliseconds = int(line.removeprefix("machine: sum(range(1000)) x 20,000 in ").split(" ms")[0])
    assert milliseconds > 0 and line.endswith("(fastest of 5; lower is faster)")
