"""One JSON log line per request: method, route, status, duration. Never bodies, headers or secrets.

Probes and scrapes (Prometheus every few seconds, the kubelet's health checks) are logged at DEBUG:
at INFO they were a third of `make run`'s console and pushed its banner out of sight. A failing
readiness check logs its own warning (web/health.py)."""
from __future__ import annotations

import logging
import time

from flask import Flask, g, request

log = logging.getLogger("gateway_api.access")
PROBES = frozenset({"/metrics", "/healthz", "/readyz"})


def log_requests(app: Flask) -> None:
    @app.before_request
    def _start():
        g._log_started = time.perf_counter()

    @app.after_request
    def _log(response):
        started = g.pop("_log_started", None)
        principal = g.get("principal")
        level = logging.DEBUG if request.path in PROBES else logging.INFO
        log.log(level, "request", extra={
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else "unmatched",
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "account_id": principal.account_id if principal else None,
        })
        return response
