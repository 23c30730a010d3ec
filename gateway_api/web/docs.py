"""OpenAPI at /openapi.json and Swagger UI at /docs, with the UI's assets served from the
swagger-ui-bundle package (no CDN: works offline)."""
from __future__ import annotations

from flask import Flask, send_from_directory
from flask_smorest import Api
from swagger_ui_bundle import swagger_ui_path

from gateway_api.web.schemas import ErrorSchema

ASSETS = "/docs/assets/"


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


def register_docs(app: Flask, api: Api) -> None:
    api.spec.components.security_scheme("basicAuth", {"type": "http", "scheme": "basic",
                                                      "description": "account id : secret"})
    api.spec.components.security_scheme("adminToken", {"type": "http", "scheme": "bearer",
                                                       "description": "GATEWAY_ADMIN_TOKEN"})
    api.spec.components.security_scheme("panelSession", {"type": "http", "scheme": "bearer", "description": (
        "A token from POST /v1/sessions (the live panel's): read-only, void after DELETE /v1/sessions/current, "
        "its expiry, or a change of the credential that opened it")})

    @app.get(ASSETS + "<path:filename>")
    def swagger_ui_asset(filename):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)


_ERROR_TEXTS = {
    400: "Invalid request (the message says what)", 401: "Missing or wrong credentials",
    403: "Credentials of the wrong kind (merchant or admin)", 404: "Not found (another merchant's is not found either)",
    415: "The body is not declared JSON", 422: "A parameter is missing or invalid",
}


def error_responses(blp, *statuses: int):
    """Document the error answers a view can give, each in the API's error JSON."""
    def decorate(view):
        for status in statuses:
            view = blp.alt_response(status, schema=GatewayApi.ERROR_SCHEMA, description=_ERROR_TEXTS[status])(view)
        return view

    return decorate
