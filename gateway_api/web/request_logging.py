"""One JSON log line per request: method, route, status, duration, who (the merchant's account id,
or the operator's name: ``bootstrap`` for GATEWAY_ADMIN_TOKEN) and the request id the audit trail
records. Never bodies, headers or secrets. Written without a LogRecord where nothing needs one
(``infra.runtime.logs.log_fields``).

Probes and scrapes (Prometheus every few seconds, the kubelet's health checks) are logged at DEBUG:
at INFO they were a third of `make run`'s console and pushed its banner out of sight. A failing
readiness check logs its own warning (web/health.py)."""

from __future__ import annotations

import logging

from flask import Flask, g, request

from infra.runtime.logs import log_fields
from infra.runtime.request_timing import request_seconds, time_requests

log = logging.getLogger("gateway_api.access")
PROBES = frozenset({"/metrics", "/healthz", "/readyz"})


def log_requests(app: Flask) -> None:
    time_requests(app)

    @app.after_request
    def _log(response):
        seconds = request_seconds()
        principal = g.get("principal")
        level = logging.DEBUG if request.path in PROBES else logging.INFO
        log_fields(
            log,
            level,
            "request",
            {
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else "unmatched",
                "path": request.path,
                "status": response.status_code,
                "duration_ms": None if seconds is None else round(seconds * 1000, 2),
                "account_id": (principal.account_id or None) if principal else None,
                "operator": (principal.name or None) if principal and principal.is_admin else None,
                "request_id": g.get("request_id"),
            },
        )
        return response
