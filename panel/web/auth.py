"""Sign-in (merchant id + secret, or the operator's admin token), checked by the gateway API; sign-out."""
from __future__ import annotations

import functools

from flask import Blueprint, g, jsonify, redirect, render_template, request, session, url_for

from panel.adapters.gateway import GatewayError, GatewayUnavailable, NotAuthenticated
from panel.domain.principal import ADMIN, MERCHANT, Credential, Principal
from panel.web.context import panel
from panel.web.csrf import csrf_token

bp = Blueprint("auth", __name__)


def current_principal() -> Principal | None:
    who = session.get("who")
    if not who or panel().vault.open(session.get("cred")) is None:
        return None
    return Principal(who.get("kind", ""), who.get("account_id", ""), who.get("name", ""))


def current_credential() -> Credential:
    return panel().vault.open(session.get("cred"))


def login_required(view):
    """Pages redirect to the sign-in form; JSON and stream endpoints answer 401."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        principal = current_principal()
        if principal is None:
            session.pop("who", None)
            if request.path.startswith(("/api/", "/stream")):
                return jsonify(_unauthenticated()), 401
            return redirect(url_for("auth.login", next=request.full_path if request.args else request.path))
        g.principal = principal
        return view(*args, **kwargs)

    return wrapper


def _unauthenticated() -> dict:
    return {"error": {"type": "authentication_error", "code": "signed_out",
                      "message": "Sign in again.", "param": None}}


@bp.get("/login")
def login():
    csrf_token()
    return render_template("login.html", error=None, mode=request.args.get("mode", MERCHANT))


@bp.post("/login")
def login_submit():
    credential = _credential_from_form()
    if credential is None:
        return _login_failed("Enter an account id and secret, or the admin token.", 400)
    try:
        principal = panel().gateway.me(credential)
    except NotAuthenticated:
        return _login_failed("Those credentials were not accepted.", 401)
    except GatewayUnavailable:
        return _login_failed("The gateway API is unavailable; try again shortly.", 503)
    except GatewayError:
        return _login_failed("Those credentials were not accepted.", 401)
    _start_session(principal, credential)
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))


def _credential_from_form() -> Credential | None:
    form = request.form
    if form.get("mode") == ADMIN:
        token = form.get("admin_token", "").strip()
        return Credential.admin(token) if token else None
    account_id, secret = form.get("account_id", "").strip(), form.get("secret", "").strip()
    return Credential.merchant(account_id, secret) if account_id and secret else None


def _login_failed(message: str, status: int):
    mode = ADMIN if request.form.get("mode") == ADMIN else MERCHANT
    return render_template("login.html", error=message, mode=mode,
                           account_id=request.form.get("account_id", "")), status


def _start_session(principal: Principal, credential: Credential) -> None:
    session.clear()  # a fresh session (and CSRF token) for every sign-in
    session.permanent = True
    session["who"] = {"kind": principal.kind, "account_id": principal.account_id, "name": principal.name}
    session["cred"] = panel().vault.seal(credential)
    csrf_token()


def _safe_next(target: str | None) -> str:
    """Only local paths: an open redirect after sign-in would be a phishing aid."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("pages.live")
