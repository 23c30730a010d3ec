"""How every background worker process runs: the processor, the results consumer, the webhook dispatcher.

JSON logs, a graceful stop on SIGTERM/SIGINT, the worker built by its service's composition root,
/metrics, /healthz and /readyz served from its probes (``infra.runtime.health``), then its loop until stopped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from infra.runtime.consumer_loop import stop_on_signals
from infra.runtime.health import Probes, serve_worker_http
from infra.runtime.logs import configure_logging
from infra.runtime.settings import WorkerSettings


class Worker(Protocol):
    probes: Probes

    def run(self, stop: threading.Event) -> None: ...


S = TypeVar("S", bound=WorkerSettings)


def run_worker(
    service: str, settings: S, build: Callable[[S], Worker], started: Callable[[S], None] = lambda _settings: None
) -> None:
    """Run the worker ``build(settings)`` until SIGTERM/SIGINT; ``started`` logs what it started with."""
    configure_logging(service, settings.log_level)
    stop = threading.Event()
    stop_on_signals(stop)
    worker = build(settings)
    serve_worker_http(settings.metrics_port, worker.probes)
    started(settings)
    worker.run(stop)
