"""The reaper (infra/stack/reaper.py) on real processes: what it stops, when, and what it leaves alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from infra.stack.reaper import start_time, stop_all


def wait_until_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while start_time(pid) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    return start_time(pid) is None


def supervisor_running(script: str) -> subprocess.Popen:
    """``script`` (Python, with the repository importable) in a process of its own, its output read here."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": os.getcwd()},
    )


def session_with_a_child() -> tuple[subprocess.Popen, int]:
    """A session leader (as the stack's services are) with a child of its own: its pid and the child's."""
    leader = subprocess.Popen(
        ["bash", "-c", "sleep 60 & echo $!; wait"], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert leader.stdout is not None
    return leader, int(leader.stdout.readline())


def test_stopping_a_session_leader_stops_its_whole_group():
    leader, child = session_with_a_child()
    with leader:
        start = start_time(leader.pid)
        assert start is not None

        stop_all({leader.pid: start}, grace=5)

        assert leader.wait(5) is not None
        assert wait_until_gone(child)


def test_what_ignores_sigterm_is_killed_after_the_grace_period():
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print(1, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        start_new_session=True,
    ) as stubborn:
        assert stubborn.stdout is not None and stubborn.stdout.readline()  # its handler is in place
        stop_all({stubborn.pid: start_time(stubborn.pid) or ""}, grace=0.3)
        assert stubborn.wait(5) == -signal.SIGKILL


def test_a_pid_that_started_at_another_time_is_another_program_and_is_left_alone():
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        stop_all({other.pid: "1"}, grace=0.1)  # as if the watched process had ended and its pid been reused
        time.sleep(0.2)
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_what_a_process_watched_outlives_it_only_until_the_reaper_stops_it():
    # A supervisor that starts a service in a session of its own, tells its reaper, then is killed outright.
    with supervisor_running(
        """
        import subprocess, time
        from infra.stack import reaper
        service = subprocess.Popen(["sleep", "60"], start_new_session=True)
        reaper.watch(service)
        print(service.pid, flush=True)
        time.sleep(60)
        """
    ) as supervisor:
        assert supervisor.stdout is not None
        service = int(supervisor.stdout.readline())
        assert start_time(service) is not None

        supervisor.kill()
        supervisor.wait(5)

        assert wait_until_gone(service)


def test_a_process_that_stopped_what_it_started_releases_its_reaper_before_it_ends():
    # make run after Ctrl-C: its services stopped, the reaper ends with it instead of after it.
    with supervisor_running(
        """
        import subprocess, time
        from infra.stack import reaper
        service = subprocess.Popen(["sleep", "60"], start_new_session=True)
        reaper.watch(service)
        print(reaper._reaper_pid, flush=True)
        service.kill()
        service.wait()
        reaper.release()
        print("released", flush=True)
        time.sleep(60)
        """
    ) as supervisor:
        try:
            assert supervisor.stdout is not None
            reaper_pid = int(supervisor.stdout.readline())
            assert supervisor.stdout.readline().strip() == "released"
            assert start_time(reaper_pid) is None  # ended and waited for, while its starter still runs
        finally:
            supervisor.kill()
