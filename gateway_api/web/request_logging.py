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

from infra.kernel.principals import Principal
from infra.runtime.logs import log_fields
from infra.runtime.request_timing import request_seconds, time_requests

log = logging.getLogger("gateway_api.access")
PROBES = frozenset({"/metrics", "/healthz", "/readyz"})


def log_requests(app: Flask) -> None:
    time_requests(app)

    @app.after_request
    def _log(response):
        route = request.url_rule.rule if request.url_rule else "unmatched"
        log_request(
            request.method,
            route,
            request.path,
            response.status_code,
            request_seconds(),
            g.get("principal"),
            g.get("request_id"),
        )
        return response


def log_request(
    method: str,
    route: str,
    path: str,
    status: int,
    seconds: float | None,
    principal: Principal | None,
    request_id: str | None,
) -> None:
    log_fields(
        log,
        logging.DEBUG if path in PROBES else logging.INFO,
        "request",
        {
            "method": method,
            "route": route,
            "path": path,
            "status": status,
            "duration_ms": None if seconds is None else round(seconds * 1000, 2),
            "account_id": (principal.account_id or None) if principal else None,
            "operator": (principal.name or None) if principal and principal.is_admin else None,
            "request_id": request_id,
        },
    )
