"""One JSON log line per request: method, route, status, duration. Never bodies, headers or secrets."""
from __future__ import annotations

import logging
import time

from flask import Flask, g, request

log = logging.getLogger("gateway_api.access")


def log_requests(app: Flask) -> None:
    @app.before_request
    def _start():
        g._log_started = time.perf_counter()

    @app.after_request
    def _log(response):
        started = g.pop("_log_started", None)
        principal = g.get("principal")
        log.info("request", extra={
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else "unmatched",
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "account_id": principal.account_id if principal else None,
        })
        return response
