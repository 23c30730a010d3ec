"""Liveness and readiness probes."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

log = logging.getLogger(__name__)
blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    """Alive: the process answers. Deliberately checks nothing else (restarts would not help)."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """Ready: the ledger database and the broker both answer."""
    checks = {"database": _check(_database), "broker": _check(_broker)}
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503


def _database() -> None:
    with current_app.extensions["gateway_api"].engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def _broker() -> None:
    current_app.extensions["gateway_api"].publisher.ping(timeout=2)


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready; the reason goes to the log
        log.warning("readiness check failed", extra={"check": probe.__name__.strip("_"), "error_class": type(exc).__name__})
        return "unavailable"
