"""Liveness and readiness of the workers (processor, results consumer, webhook dispatcher), served with /metrics.

Liveness is the consumer loop's heartbeat: the loop beats once per turn (a poll, a batch, a backoff
wait), so a loop stuck in a call that never returns (a hung database or broker call, a deadlock)
stops beating and /healthz turns 503 after ``stall_after`` seconds; the kubelet then restarts the
container and the uncommitted batch is redelivered. A metrics thread that merely answers cannot
tell that. Readiness adds the service's own checks (its database is at this code's migration head).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from sqlalchemy import Engine

from infra.runtime.db import schema_is_current

log = logging.getLogger(__name__)


class Heartbeat:
    """When the loop last showed it was turning."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._last = clock()

    def beat(self) -> None:
        self._last = self._clock()

    def age(self) -> float:
        return self._clock() - self._last


@dataclass
class Probes:
    heartbeat: Heartbeat
    stall_after: float
    # Named checks that raise (or return False) when the worker cannot do its job yet.
    ready_checks: Sequence[tuple[str, Callable[[], bool]]] = field(default_factory=tuple)

    def liveness(self) -> tuple[bool, dict]:
        age = self.heartbeat.age()
        alive = age <= self.stall_after
        return alive, {
            "status": "ok" if alive else "stuck",
            "loop_heartbeat_age_seconds": round(age, 3),
            "stall_after_seconds": self.stall_after,
        }

    def readiness(self) -> tuple[bool, dict]:
        alive, _ = self.liveness()
        checks = {"loop": "ok" if alive else "stuck"}
        for name, check in self.ready_checks:
            checks[name] = _run(name, check)
        ready = all(value == "ok" for value in checks.values())
        return ready, {"status": "ready" if ready else "unavailable", "checks": checks}


def schema_check(engine: Engine, script_location: str, version_table: str) -> tuple[str, Callable[[], bool]]:
    """Ready only once the database is at this code's migration head (or a later compatible one)."""
    return "database_schema", lambda: schema_is_current(engine, script_location, version_table)


def _run(name: str, check: Callable[[], bool]) -> str:
    try:
        return "ok" if check() else "not ready"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the class goes to the log
        log.warning("readiness check failed", extra={"check": name, "error_class": type(exc).__name__})
        return "unavailable"


def serve_worker_http(
    port: int, probes: Probes, registry: CollectorRegistry = REGISTRY, host: str = "0.0.0.0"
) -> ThreadingHTTPServer | None:
    """/metrics, /healthz (liveness) and /readyz (readiness) on ``port`` (0: not served)."""
    if port <= 0:
        return None
    server = ThreadingHTTPServer((host, port), _handler(probes, registry))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-http", daemon=True).start()
    return server


def _handler(probes: Probes, registry: CollectorRegistry):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path in ("/healthz", "/readyz"):
                ok, body = probes.liveness() if path == "/healthz" else probes.readiness()
                self._send(200 if ok else 503, json.dumps(body).encode(), "application/json")
            else:
                self._send(404, b'{"status": "not found"}', "application/json")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args):  # probes every few seconds: not worth a log line each
            pass

    return Handler
