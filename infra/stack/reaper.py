"""The local stack's services stop when the process that started them dies, even by SIGKILL.

Every service runs in a session of its own (Ctrl-C reaches only the supervisor, which stops them in
order), so a supervisor killed outright (``kill -9``, the OOM killer, a closed terminal's SIGHUP) left
them running, holding the stack's ports: the next ``make run`` found them taken. The reaper is a
small process of its own, started with the first service; the supervisor tells it, through a pipe,
each process it starts. When the pipe closes, however the supervisor ended, the reaper sends SIGTERM
to each one still alive (its whole process group when it leads one: gunicorn's workers with their
master) and SIGKILL to what is left after ``GRACE_SECONDS``. A supervisor that stopped its services
itself leaves it nothing to do.

A process is identified by its pid and its start time, so a pid the kernel gave to another program
since is left alone. Linux's ``PR_SET_PDEATHSIG`` was not enough: it follows the thread that started
a child, not its process (the broker renewal starts brokers from a thread of its own), and setting
it needs ``preexec_fn``, which is unsafe in a process with threads.

    python infra/stack/reaper.py     (started by :func:`watch`, as a script: the standard library
                                     only, not the stack's packages; reads "pid start-time" lines)
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import threading
import time
from typing import IO

GRACE_SECONDS = 10.0

_lock = threading.Lock()
_pipe: IO[str] | None = None
_reaper_pid = 0
_owner = 0  # the process the pipe belongs to (a forked child starts its own reaper)


def watch(process: subprocess.Popen) -> None:
    """Stop ``process`` (with its process group when it leads one) once this process has died."""
    global _pipe, _reaper_pid, _owner
    start = start_time(process.pid)
    if start is None:
        return  # already gone
    with _lock:
        if _pipe is None or _owner != os.getpid():
            _reaper_pid, _pipe = _start_reaper()
            _owner = os.getpid()
            atexit.register(_pipe.close)  # the end, as a kill's: what still runs is stopped
        assert _pipe is not None, "set above"
        try:
            _pipe.write(f"{process.pid} {start}\n")
            _pipe.flush()
        except OSError:  # the reaper was killed: the stack still runs, it only loses this safety net
            _pipe = None


def release(timeout: float = 5.0) -> None:
    """For a process about to end that has stopped what it started (``make run`` after Ctrl-C): the
    reaper is told now, finds nothing left to stop and ends within ``timeout``, so the process leaves
    nothing behind. Not for one that keeps running: every process still watched would be stopped."""
    global _pipe
    with _lock:
        pipe, _pipe = _pipe, None
        if pipe is None or _owner != os.getpid():
            return
        pipe.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if os.waitpid(_reaper_pid, os.WNOHANG)[0]:
                    return
            except ChildProcessError:
                return
            time.sleep(0.02)


def _start_reaper() -> tuple[int, IO[str]]:
    """The reaper, in a session of its own (the terminal's Ctrl-C and SIGHUP are the supervisor's to
    handle), reading the pipe whose writing end this returns; its output goes nowhere, so a caller
    that reads the stack's output to its end waits for no reaper. Spawned, not a Popen: nothing here
    waits for it, it ends after this process."""
    reading, writing = os.pipe()  # both close-on-exec: the reaper gets the reading end as its stdin only
    pid = os.posix_spawn(
        sys.executable,
        [sys.executable, os.path.abspath(__file__)],
        os.environ,
        file_actions=[
            (os.POSIX_SPAWN_DUP2, reading, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,
    )
    os.close(reading)
    return pid, os.fdopen(writing, "w")


def start_time(pid: int) -> str | None:
    """When ``pid`` started (clock ticks since boot), or None if no such process is alive."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()  # the name, in parentheses, may hold spaces
    except OSError:
        return None
    return None if fields[0] == "Z" else fields[19]  # state, then starttime (the 22nd field)


def stop_all(watched: dict[int, str], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM to every watched process still alive (its group when it leads one), SIGKILL after ``grace``."""
    alive = _signal_alive(watched, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = {pid: start for pid, start in alive.items() if start_time(pid) == start}
    _signal_alive(alive, signal.SIGKILL)


def _signal_alive(watched: dict[int, str], signum: int) -> dict[int, str]:
    alive = {}
    for pid, start in watched.items():
        if start_time(pid) != start:
            continue  # ended, or the pid is another program's now
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signum)
            else:
                os.kill(pid, signum)
            alive[pid] = start
        except ProcessLookupError:
            continue
    return alive


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    watched: dict[int, str] = {}
    for line in sys.stdin:  # until the supervisor's end of the pipe closes
        pid, _, start = line.strip().partition(" ")
        if pid.isdigit() and start.isdigit():
            watched[int(pid)] = start
    stop_all(watched)
    return 0


if __name__ == "__main__":
    sys.exit(main())
