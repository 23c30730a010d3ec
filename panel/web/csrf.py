"""CSRF protection for form posts: a per-session token that every POST must echo back.

SameSite=Lax already keeps the cookie off cross-site POSTs in current browsers; the token also
covers older browsers and same-site subdomains.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def _check() -> None:
    if request.method not in _UNSAFE:
        return
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="The form expired or did not come from this panel; reload and try again.")


def init_csrf(app: Flask) -> None:
    app.before_request(_check)
    app.jinja_env.globals["csrf_token"] = csrf_token
