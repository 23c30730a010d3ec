"""This process's id, read without a system call.

``os.getpid()`` is a system call, and the request path asked for it about eight times per request:
prometheus_client's multiprocess values check it on every ``inc`` and ``observe`` (a fork changes
the file a value writes to), every log line records it, the SQLite rate-limit store checks it
before each use of its connection. On this project's VMs a system call costs ~1 us or more
(docs/benchmarks-api.md). The id is kept here instead and renewed in the child of every
``os.fork()`` (gunicorn forks its workers so; ``os.register_at_fork`` runs for ``os.fork``,
``os.forkpty`` and multiprocessing's fork), so a forked child never reports its parent's id.

:func:`use_for_multiprocess_metrics` makes prometheus_client's multiprocess values read it.
"""

from __future__ import annotations

import os

_pid = os.getpid()


def _forked() -> None:
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


def current_pid() -> int:
    return _pid


def use_for_multiprocess_metrics() -> None:
    """In multiprocess mode (PROMETHEUS_MULTIPROC_DIR set before prometheus_client was imported),
    values made from now on find their process's file by :func:`current_pid`. Idempotent."""
    from prometheus_client import values

    current = values.ValueClass
    if getattr(current, "_multiprocess", False) and not getattr(current, "_cached_pid", False):
        cached = values.MultiProcessValue(process_identifier=current_pid)
        cached._cached_pid = True
        values.ValueClass = cached
