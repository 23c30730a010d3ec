"""A benchmark stopped with SIGTERM (``timeout``, a CI job's time limit, ``kill``) stops what it started.

Python's default for SIGTERM ends the process at once, without leaving its ``with`` blocks: the stack's
services (each in a session of its own, ``infra/stack/processes.py``) and the embedded broker went on
running with nobody left to stop them, holding their ports and a share of the CPU that the next
benchmark then measured. SIGTERM now ends the benchmark the way an error does, so every
``with Stack(...)`` and ``with EmbeddedBroker(...)`` stops its processes on the way out."""

from __future__ import annotations

import signal

EXIT_ON_SIGTERM = 128 + signal.SIGTERM


def stop_cleanly_on_sigterm() -> None:
    """Call first thing in a benchmark's ``main`` (the main thread: only it may set handlers)."""
    signal.signal(signal.SIGTERM, _exit)


def _exit(signum: int, _frame) -> None:
    raise SystemExit(EXIT_ON_SIGTERM)
