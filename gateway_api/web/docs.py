"""OpenAPI at /openapi.json and Swagger UI at /docs, with the UI's assets served from the
swagger-ui-bundle package (no CDN: works offline)."""

from __future__ import annotations

from flask import Flask, jsonify, send_from_directory
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

from gateway_api.web.schemas import ErrorSchema

ASSETS = "/docs/assets/"
INDEX = {
    "name": "Payment gateway API",
    "version": "v1",
    "links": {
        "docs": "/docs",
        "openapi": "/openapi.json",
        "health": "/healthz",
        "ready": "/readyz",
        "transactions": "/v1/transactions",
    },
}


def openapi_config() -> dict:
    return {
        "API_TITLE": "Payment gateway API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": ASSETS,
    }


class GatewayApi(Api):
    """flask-smorest's Api documenting the error body this API really sends (``web.errors``)."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" answer: each operation lists the statuses it really gives.
    DEFAULT_ERROR_RESPONSE_NAME = None


def register_docs(app: Flask, api: Api) -> None:
    api.spec.components.security_scheme(
        "basicAuth", {"type": "http", "scheme": "basic", "description": "account id : secret"}
    )
    api.spec.components.security_scheme(
        "adminToken", {"type": "http", "scheme": "bearer", "description": "GATEWAY_ADMIN_TOKEN"}
    )
    api.spec.components.security_scheme(
        "panelSession",
        {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A token from POST /v1/sessions (the live panel's): read-only, void after DELETE /v1/sessions/current, "
                "its expiry, or a change of the credential that opened it"
            ),
        },
    )

    @app.get("/")
    def index():
        """Where a person who opens the API's address in a browser goes next."""
        return jsonify(INDEX)

    @app.get(ASSETS + "<path:filename>")
    def swagger_ui_asset(filename):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)


# What each error status means on this API, with the codes it carries (``web.errors`` sends them).
_ERROR_TEXTS = {
    400: "invalid_json (the body is not JSON, or nested too deeply), invalid_request, limit_exceeded",
    401: "unauthorized: missing or wrong credentials (an unknown account and a wrong secret look the same)",
    403: "forbidden: credentials of the wrong kind (merchant or admin), or a read-only panel session",
    404: "resource_missing: no such object (another merchant's is not found either)",
    409: (
        "idempotency_key_reused: the Idempotency-Key was used with another body; resend_limit_reached: the "
        "event was resent as often as it may be; transaction_not_approved (POST /v1/refunds): the payment is "
        "pending or rejected"
    ),
    413: "payload_too_large: the body is larger than 16 KiB",
    415: "unsupported_media_type: send the body as Content-Type: application/json",
    422: "parameter_missing, parameter_invalid or parameter_unknown; `param` names the field "
    "(e.g. credit_card.cvv) or query parameter",
    429: "rate_limit_exceeded: over the account's (or, without valid credentials, the client address's) "
    "rate limit; retry after Retry-After seconds",
    503: "broker_unavailable or database_unavailable: retry after Retry-After seconds "
    "(POST /v1/transactions: with the same Idempotency-Key)",
}
_ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"description": 'Basic or Bearer, realm="gateway"', "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "seconds to wait before retrying", "schema": {"type": "integer"}}},
    429: {
        "Retry-After": {
            "description": "seconds until the exceeded limit's window resets",
            "schema": {"type": "integer"},
        },
        "RateLimit-Policy": {
            "description": 'the policies counted, e.g. "account";q=200;w=2 (draft-ietf-httpapi-ratelimit-headers)',
            "schema": {"type": "string"},
        },
        "RateLimit": {"description": 'what each policy has left, e.g. "account";r=0;t=1', "schema": {"type": "string"}},
    },
}
# Every authenticated operation can answer these: no or wrong credentials, the wrong kind, over the
# rate limit, the ledger down.
AUTHENTICATED = (401, 403, 429, 503)
# ... and those that take a JSON body these too.
JSON_BODY = (400, 413, 415, 422)


def error_responses(blp, *statuses: int):
    """Document the error answers a view can give, each in the API's error JSON with its headers."""

    def decorate(view):
        for status in sorted(set(statuses)):
            view = blp.alt_response(
                status,
                schema=GatewayApi.ERROR_SCHEMA,
                description=_ERROR_TEXTS[status],
                headers=_ERROR_HEADERS.get(status),
            )(view)
        return view

    return decorate
