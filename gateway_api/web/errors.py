"""The one place where errors become HTTP answers: ``{"error": {"type", "code", "message", "param"}}``.

No stack trace, no exception text from a library and no request data ever reaches a client.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from infra.runtime.errors import error_body

from gateway_api.domain.errors import (
    AuthenticationFailed,
    BrokerUnavailable,
    GatewayError,
    IdempotencyConflict,
    InvalidParameter,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ResendLimitReached,
    SecondFactorRequired,
    TransactionNotApproved,
    UnknownParameter,
)

log = logging.getLogger(__name__)

_DOMAIN = {
    AuthenticationFailed: (401, "authentication_error", "unauthorized"),
    PermissionDenied: (403, "permission_error", "forbidden"),
    SecondFactorRequired: (403, "permission_error", "second_factor_required"),
    NotFound: (404, "invalid_request_error", "resource_missing"),
    # One status per code: every parameter_* error is a 422, wherever the parameter was (body, query, header).
    InvalidParameter: (422, "invalid_request_error", "parameter_invalid"),
    UnknownParameter: (422, "invalid_request_error", "parameter_unknown"),
    IdempotencyConflict: (409, "idempotency_error", "idempotency_key_reused"),
    LimitExceeded: (400, "invalid_request_error", "limit_exceeded"),
    ResendLimitReached: (409, "invalid_request_error", "resend_limit_reached"),
    BrokerUnavailable: (503, "api_error", "broker_unavailable"),
    TransactionNotApproved: (409, "invalid_request_error", "transaction_not_approved"),
}

_HTTP = {
    400: ("invalid_request_error", "invalid_request", "The request could not be understood."),
    404: ("invalid_request_error", "resource_missing", "Unrecognized request URL."),
    405: ("invalid_request_error", "method_not_allowed", "Method not allowed for this URL."),
    413: ("invalid_request_error", "payload_too_large", "The request body is too large."),
    415: ("invalid_request_error", "unsupported_media_type", "Send the body as Content-Type: application/json."),
}


# An error as an answer, before it is a Flask response: (status, body, headers). The merchant fast
# path (web/merchant_fast_path.py) sends the same ones without Flask.
Answer = tuple[int, dict, dict]


def error_response(status: int, type_: str, code: str, message: str, param: str | None = None, headers=None):
    return jsonify(error_body(type_, code, message, param)), status, headers or {}


def domain_answer(error: GatewayError, retry_after_seconds: int) -> Answer:
    status, type_, code = _DOMAIN.get(type(error), (400, "invalid_request_error", "invalid_request"))
    headers = {"Retry-After": str(retry_after_seconds)} if status == 503 else {}
    if isinstance(error, AuthenticationFailed):
        headers["WWW-Authenticate"] = f'{error.scheme} realm="gateway", charset="UTF-8"'
    return status, error_body(type_, code, error.message, error.param), headers


def database_answer(error: DBAPIError, retry_after_seconds: int) -> Answer:
    log.error("database unavailable", extra={"error_class": type(error.orig).__name__})
    message = "The ledger database is unavailable; retry later."
    return 503, error_body("api_error", "database_unavailable", message), {"Retry-After": str(retry_after_seconds)}


def unexpected_answer() -> Answer:
    """For the error nothing expected: logged with its trace here, never shown to the caller."""
    log.exception("unhandled error")
    return 500, error_body("api_error", "internal_error", "Something went wrong on our side."), {}


def register_error_handlers(app: Flask, retry_after_seconds: int) -> None:
    @app.errorhandler(GatewayError)
    def _domain(error: GatewayError):
        return _flask(domain_answer(error, retry_after_seconds))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        # Flask hands an HTTPException without a code (abort(response)) back as it is, never to a handler.
        assert error.code is not None, "Flask's handle_http_exception returns code-less ones unhandled"
        if error.code == 422:
            return _validation(error)
        type_, code, message = _HTTP.get(error.code, ("invalid_request_error", "invalid_request", error.name))
        if error.code == 400 and _messages(error):
            code, message = "invalid_json", "The request body is not valid JSON."
        if error.code >= 500:
            type_, code, message = "api_error", "internal_error", "Something went wrong on our side."
        return error_response(error.code, type_, code, message, headers=_allowed_methods(error))

    @app.errorhandler(DBAPIError)
    def _database(error: DBAPIError):
        return _flask(database_answer(error, retry_after_seconds))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        return _flask(unexpected_answer())


def _flask(answer: Answer):
    status, body, headers = answer
    return jsonify(body), status, headers


def _allowed_methods(error: HTTPException) -> dict:
    allowed = getattr(error, "valid_methods", None)
    return {"Allow": ", ".join(allowed)} if allowed else {}


def _validation(error: HTTPException):
    """webargs/marshmallow messages, e.g. {"json": {"credit_card": {"cvv": ["..."]}}}, to one error."""
    path, message = _first_message(_messages(error))
    param = ".".join(part for part in path[1:] if part != "_schema") or None
    code = "parameter_invalid"
    if message == "Missing data for required field.":
        code = "parameter_missing"
    elif message == "Unknown field.":
        code = "parameter_unknown"
    text = f"{param}: {message}" if param else message
    return error_response(422, "invalid_request_error", code, text, param)


def _messages(error: HTTPException) -> dict:
    data = getattr(error, "data", None)
    return data.get("messages", {}) if isinstance(data, dict) else {}


def _first_message(messages, path=()) -> tuple[tuple, str]:
    if isinstance(messages, dict) and messages:
        key = sorted(messages, key=str)[0]
        return _first_message(messages[key], path + (str(key),))
    if isinstance(messages, list) and messages:
        return path, str(messages[0])
    return path, "Invalid request."
