"""The one shape of an error answer, for every HTTP service of the gateway (the API and the panel).

``{"error": {"type", "code", "message", "param"}}``: ``type`` is the family a client branches on,
``code`` the precise reason, ``message`` safe to show (never card data, a secret or a stack trace),
``param`` the request field at fault or null.
"""

from __future__ import annotations


def error_body(type_: str, code: str, message: str, param: str | None = None) -> dict:
    return {"error": {"type": type_, "code": code, "message": message, "param": param}}
