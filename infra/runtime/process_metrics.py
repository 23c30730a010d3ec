"""process_cpu_seconds_total and process_resident_memory_bytes of a gunicorn service: its workers' sum.

prometheus_client's ProcessCollector reports the process that answers the scrape. Under gunicorn
that is whichever worker the kernel handed the connection: the CPU counter then jumps between
workers, and rate() reads every jump down as a counter reset. Here each worker writes its own CPU
time into a multiprocess counter (and its memory into a ``livesum`` gauge) every ``interval``
seconds and when it answers a scrape; /metrics sums them. A dead worker's CPU stays counted (a
counter never goes down); its memory drops out (``child_exit`` marks it dead).
"""

from __future__ import annotations

import os
import resource
import threading

from prometheus_client import Counter, Gauge

from infra.runtime.process_id import use_for_multiprocess_metrics

use_for_multiprocess_metrics()
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class WorkerProcessMetrics:
    def __init__(self):
        # registry=None: in multiprocess mode the values live in the worker's files, which /metrics reads.
        self._cpu = Counter(
            "process_cpu_seconds", "Total user and system CPU time of the workers in seconds", registry=None
        )
        self._memory = Gauge(
            "process_resident_memory_bytes",
            "Resident memory of the live workers in bytes",
            registry=None,
            multiprocess_mode="livesum",
        )
        self._counted = 0.0
        self._lock = threading.Lock()

    def update(self) -> None:
        times = os.times()
        with self._lock:
            used = times.user + times.system
            self._cpu.inc(max(used - self._counted, 0.0))
            self._counted = max(used, self._counted)
        self._memory.set(_resident_bytes())

    def run_every(self, interval: float, stop: threading.Event) -> threading.Thread:
        def loop():
            while not stop.wait(interval):
                self.update()

        self.update()
        thread = threading.Thread(target=loop, name="process-metrics", daemon=True)
        thread.start()
        return thread


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except OSError:  # not Linux: the peak instead
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


_worker: WorkerProcessMetrics | None = None


def start_in_worker(interval: float = 1.0) -> None:
    """Called by the gunicorn configs' post_worker_init (PROMETHEUS_MULTIPROC_DIR is set by then)."""
    global _worker
    _worker = WorkerProcessMetrics()
    _worker.run_every(interval, threading.Event())


def update_this_worker() -> None:
    """Before answering a scrape: this worker's figures are current, the others' at most ``interval`` old."""
    if _worker is not None:
        _worker.update()
