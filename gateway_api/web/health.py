"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify

from infra.runtime.db import schema_is_current

from gateway_api.migrations import SCRIPT_LOCATION, VERSION_TABLE

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """Alive: the process answers. Deliberately checks nothing else (restarts would not help)."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """Ready to serve: the ledger is at this release's migration head (so a pod of a new release
    takes no traffic before its migration Job ran) and the broker answers."""
    checks = {"database": _check(_database), "broker": _check(_broker)}
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503


class SchemaNotCurrent(RuntimeError):
    pass


def _database() -> None:
    if not schema_is_current(current_app.extensions["gateway_api"].engine, SCRIPT_LOCATION, VERSION_TABLE):
        raise SchemaNotCurrent("the ledger is not at this release's migration head")


def _broker() -> None:
    current_app.extensions["gateway_api"].publisher.ping(timeout=2)


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason goes to the log
        log.warning(
            "readiness check failed", extra={"check": probe.__name__.strip("_"), "error_class": type(exc).__name__}
        )
        return "unavailable"
