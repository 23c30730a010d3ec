"""Audit entries for the configuration changes made through the API, and where a request came from.

``@audited(action, object_type, object_id=..., account_id=...)`` goes under ``@requires`` (it reads
the caller from ``g``): the change is recorded once it succeeded, or with the error it failed with
(``failed: not_found``...), then the answer goes out. ``request_id`` is the caller's
``X-Request-Id`` when it is a plain token of at most 64 characters, a fresh one otherwise; every
answer carries it back and the access log line holds it.
"""

from __future__ import annotations

import functools
import re
import secrets

from flask import Flask, current_app, g, request
from werkzeug.exceptions import HTTPException

from infra.kernel.identifiers import loggable

from gateway_api.domain.audit import BOOTSTRAP, MERCHANT, OPERATOR, Actor, AuditRecord, Origin
from gateway_api.domain.errors import GatewayError
from gateway_api.domain.operators import BOOTSTRAP_NAME
from gateway_api.web.auth import ADMIN

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def new_request_id() -> str:
    """32 random hex digits, whole in every log line (infra.kernel.identifiers)."""
    return loggable(lambda: secrets.token_hex(16))


def request_id_from(given: str) -> str:
    """The caller's X-Request-Id when it is a plain token, a fresh one otherwise."""
    return given if _REQUEST_ID.fullmatch(given) else new_request_id()


def track_request_ids(app: Flask) -> None:
    @app.before_request
    def _request_id():
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER, ""))

    @app.after_request
    def _echo(response):
        if "request_id" in g:
            response.headers[REQUEST_ID_HEADER] = g.request_id
        return response


def request_id() -> str | None:
    return g.get("request_id")


def current_actor() -> Actor:
    principal, credential = g.principal, g.get("credential", "")
    if principal.kind == ADMIN:
        kind = BOOTSTRAP if principal.name == BOOTSTRAP_NAME else OPERATOR
        return Actor(kind, principal.name, credential)
    return Actor(MERCHANT, principal.account_id, credential, principal.account_id)


def origin() -> Origin:
    return Origin(request_id(), (request.remote_addr or "")[:64] or None)


def record(
    action: str, object_type: str, object_id: str | None, outcome: str = "succeeded", account_id: str | None = None
) -> None:
    """One audit entry for a change the current caller made (or tried to)."""
    audit = current_app.extensions["gateway_api"].audit
    audit.record(AuditRecord(current_actor(), action, object_type, object_id, origin(), outcome, account_id))


def audited(action: str, object_type: str, object_id=None, account_id=None):
    """``object_id(kwargs, result)`` and ``account_id(kwargs, result)`` name the object and the
    merchant account it belongs to (``result`` is None when the change failed)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            try:
                result = view(*args, **kwargs)
            except (GatewayError, HTTPException) as exc:
                record(
                    action,
                    object_type,
                    _call(object_id, kwargs, None),
                    f"failed: {_code(exc)}",
                    _call(account_id, kwargs, None),
                )
                raise
            record(
                action, object_type, _call(object_id, kwargs, result), "succeeded", _call(account_id, kwargs, result)
            )
            return result

        return wrapper

    return decorator


def _call(function, kwargs, result):
    try:
        value = function(kwargs, result) if function else None
    except (KeyError, TypeError, AttributeError):
        return None
    return str(value)[:200] if value is not None else None


def _code(exc: Exception) -> str:
    if isinstance(exc, HTTPException):
        return str(exc.code)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(exc).__name__).lower()
