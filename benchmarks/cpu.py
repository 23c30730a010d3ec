"""CPU time of process trees, read from Linux's /proc: the per-component budget of `make bench-api`.

A component is a process and all its descendants (a gunicorn master and its workers): its CPU is
the user + system time of every live process of the tree, plus what each of them has collected from
children it reaped (a worker gunicorn replaced). Threads are counted by their process. Measure a
window with :class:`CpuMeter`: ``start()`` before, ``stop()`` after, CPU seconds per component.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessCpu:
    pid: int
    ppid: int
    seconds: float  # its own utime + stime, and that of the children it reaped (cutime + cstime)


def read_process(pid: int) -> ProcessCpu | None:
    """None when the process is gone (or /proc is not Linux's)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: the fields start after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return ProcessCpu(pid, int(fields[1]), (utime + stime + cutime + cstime) / CLOCK_TICKS)


def all_processes() -> dict[int, ProcessCpu]:
    found = (read_process(int(entry.name)) for entry in PROC.iterdir() if entry.name.isdigit())
    return {process.pid: process for process in found if process is not None}


def tree_seconds(root: int, processes: dict[int, ProcessCpu]) -> float:
    """CPU seconds of ``root`` and every descendant of it in ``processes``."""
    children: dict[int, list[int]] = {}
    for process in processes.values():
        children.setdefault(process.ppid, []).append(process.pid)
    total, todo = 0.0, [root] if root in processes else []
    while todo:
        pid = todo.pop()
        total += processes[pid].seconds
        todo.extend(children.get(pid, ()))
    return total


def reaped_children_seconds() -> float:
    """CPU of this process's children that have exited and been waited for (a finished wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_seconds() -> float:
    """This process's CPU, every thread (the stack's log relay runs here)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU seconds per named process tree over a window, plus the client run in it and this process.

    ``client`` is a child this process starts and waits for inside the window (wrk): it is measured
    through the children this process reaped, so nothing else should exit and be waited for then.
    """

    def __init__(
        self,
        trees: dict[str, int] | Callable[[], dict[str, int]],
        client: str = "wrk",
        this_process: str | None = None,
        retired: Callable[[], dict[str, float]] = dict,
    ):
        """``trees`` may be a function, read at every sample: a part replaced while it runs (the
        embedded broker, renewed) is followed to its new process. ``retired``: the CPU seconds of
        the replaced processes, per part; this process reaped them, so they are taken out of the
        client's figure and counted as their part's."""
        self._trees = trees if callable(trees) else (lambda fixed=dict(trees): fixed)
        self.client = client
        self.this_process = this_process
        self._retired = retired
        self._before: dict[str, float] = {}

    @property
    def trees(self) -> dict[str, int]:
        return self._trees()

    def _sample(self) -> dict[str, float]:
        processes = all_processes()
        retired = self._retired()
        trees = self.trees
        sample = {
            name: (tree_seconds(trees[name], processes) if name in trees else 0.0) + retired.get(name, 0.0)
            for name in set(trees) | set(retired)
        }
        sample[self.client] = reaped_children_seconds() - sum(retired.values())
        if self.this_process:
            sample[self.this_process] = own_seconds()
        return sample

    def start(self) -> None:
        self._before = self._sample()

    def stop(self) -> dict[str, float]:
        after = self._sample()
        return {name: max(after[name] - self._before.get(name, 0.0), 0.0) for name in after}


def machine_speed() -> str:
    """How fast this machine runs CPython now, one core: a fixed loop, the fastest of 5 runs.

    Figures from two benchmark runs compare only on machines of similar speed. Measured here: 608 ms
    on 2026-12-07 at 00:50 UTC, on a machine where the bare-Flask ceiling cost 715-1,022 us per request
    instead of the previous session's 328-391."""
    import timeit

    seconds = min(timeit.repeat("sum(range(1000))", number=20_000, repeat=5))
    return f"machine: sum(range(1000)) x 20,000 in {seconds * 1000:.0f} ms (fastest of 5; lower is faster)"
