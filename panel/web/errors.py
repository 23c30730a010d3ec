"""The one place where failures become responses: JSON for scripts, a short page for people."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException

from infra.runtime.errors import error_body

from panel.use_cases.ports import GatewayRefused, GatewayUnavailable, NotAuthenticated

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/stream")) or request.accept_mimetypes.best == "application/json"


def _respond(status: int, body: dict):
    if _wants_json():
        return jsonify(body), status
    return render_template("error.html", status=status, message=body["error"]["message"]), status


def on_gateway_refusal(exc: GatewayRefused):
    if isinstance(exc, NotAuthenticated):
        # The secret was rotated or the account disabled since sign-in: the session is worthless.
        session.clear()
        if not _wants_json():
            return redirect(url_for("auth.login"))
    if isinstance(exc, GatewayUnavailable):
        log.warning("gateway unavailable", extra={"detail": exc.detail, "path": request.path})
    return _respond(exc.status, exc.body)


def on_http_error(exc: HTTPException):
    code = (exc.name or "error").lower().replace(" ", "_")
    type_ = "invalid_request_error" if exc.code and exc.code < 500 else "api_error"
    return _respond(exc.code or 500, error_body(type_, code, exc.description or exc.name))


def on_unexpected(exc: Exception):
    log.exception("unhandled error", extra={"path": request.path})
    return _respond(500, error_body("api_error", "internal_error", "Something went wrong on our side."))


def init_errors(app: Flask) -> None:
    app.register_error_handler(GatewayRefused, on_gateway_refusal)
    app.register_error_handler(HTTPException, on_http_error)
    app.register_error_handler(Exception, on_unexpected)
