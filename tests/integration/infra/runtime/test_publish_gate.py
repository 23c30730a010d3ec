"""The publish gate: a supervisor closes it for every publisher of every process, and waits for the
writes under way (infra/runtime/publish_gate.py). Real file locks, real threads and a real second process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from infra.runtime.publish_gate import GateBusy, PublishGate


def test_without_a_path_the_gate_is_always_open_and_needs_no_file(tmp_path):
    gate = PublishGate("")
    with gate.passage():
        with gate.passage():
            pass
    assert list(tmp_path.iterdir()) == []


def test_closing_waits_for_the_write_under_way_and_holds_new_ones_until_it_opens(tmp_path):
    path = tmp_path / "run" / "gate"
    publisher, supervisor = PublishGate(path), PublishGate(path)
    events: list[str] = []
    in_write, finish_write = threading.Event(), threading.Event()

    def write_under_way():
        with publisher.passage():
            in_write.set()
            finish_write.wait(5)
            events.append("first write acknowledged")

    def close_gate():
        with supervisor.closed(timeout=5):
            events.append("gate closed")
            time.sleep(0.3)
            events.append("gate opening")

    def next_write():
        with publisher.passage():
            events.append("next write")

    writer = threading.Thread(target=write_under_way)
    writer.start()
    assert in_write.wait(5)
    closer = threading.Thread(target=close_gate)
    closer.start()
    time.sleep(0.2)
    assert events == []  # the supervisor waits for the write under way
    finish_write.set()
    writer.join(5)
    time.sleep(0.1)
    late = threading.Thread(target=next_write)
    late.start()
    for thread in (closer, late):
        thread.join(5)
    assert events == ["first write acknowledged", "gate closed", "gate opening", "next write"]


def test_many_threads_of_one_process_each_hold_the_gate_for_their_own_write(tmp_path):
    """A lock belongs to an open file: threads sharing one descriptor would release each other's."""
    path = tmp_path / "gate"
    publisher, supervisor = PublishGate(path), PublishGate(path)
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    second_out = threading.Event()

    def first():
        with publisher.passage():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with publisher.passage():
            second_in.set()
            first_out.wait(5)
            time.sleep(0.2)  # still writing after the first thread left the gate
        second_out.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_out.wait(5)
    with supervisor.closed(timeout=5):
        assert second_out.is_set()
    for thread in threads:
        thread.join(5)


def test_a_write_that_outlasts_the_timeout_leaves_the_gate_open(tmp_path):
    path = tmp_path / "gate"
    holding = threading.Event()
    release = threading.Event()

    def long_write():
        with PublishGate(path).passage():
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=long_write)
    thread.start()
    holding.wait(5)
    with pytest.raises(GateBusy, match="a write held the gate past the timeout"):
        with PublishGate(path).closed(timeout=0.2):
            pass
    with PublishGate(path).passage():  # still open for everyone else
        pass
    release.set()
    thread.join(5)


def test_a_publisher_in_another_process_waits_while_the_gate_is_closed(tmp_path):
    path = tmp_path / "gate"
    code = (
        "import sys, time; from infra.runtime.publish_gate import PublishGate\n"
        "t = time.monotonic()\n"
        f"with PublishGate({str(path)!r}).passage(): print(round(time.monotonic() - t, 2))\n"
    )
    with PublishGate(path).closed(timeout=5):
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        time.sleep(1.0)
        assert child.poll() is None  # still waiting at the gate
    out, _ = child.communicate(timeout=10)
    assert child.returncode == 0 and float(out) >= 0.5
