"""Sign-in (merchant id + secret, or an operator's own credential, with the current one-time code when
they require a second factor; the bootstrap admin token too while it is on), checked by the gateway
API; sign-out.

The person's credential is used once, to open a panel session with the gateway API
(``POST /v1/sessions``); the cookie keeps only that session's token, sealed. The API can void the
token at any moment, for every panel process and replica at once: on sign-out
(``DELETE /v1/sessions/current``), when it expires, or when the credential behind it changes (the
merchant's secret rotated or the account disabled, the admin token changed). So the panel keeps no
state of its own, and a cookie saved before sign-out is worth nothing after it. Pages and streams
ask the API about the token when they open, and streams again every PANEL_CREDENTIAL_CHECK_SECONDS;
every data call goes through the API with the token anyway.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets

from flask import Blueprint, g, jsonify, redirect, render_template, request, session, url_for

from infra.kernel.principals import ADMIN, MERCHANT, Principal
from infra.runtime.errors import error_body

from panel.domain.credential import SESSION, Credential
from panel.domain.fair_shares import SIGN_INS_PER_ACCOUNT, SIGN_INS_PER_ADDRESS
from panel.use_cases.ports import GatewayRefused, GatewayUnavailable, NotAuthenticated
from panel.web.context import panel
from panel.web.csrf import csrf_token

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

# Where sign-in may send the browser back to: a path on this panel, in plain URL characters only.
# Browsers drop tabs and newlines from URLs ("/\t/evil.example" is "//evil.example": another site)
# and read "\" as "/", so anything but these characters is refused rather than cleaned up.
_LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*\Z")


def current_principal() -> Principal | None:
    who = session.get("who")
    if not who or current_credential() is None:
        return None
    return Principal(who.get("kind", ""), who.get("account_id", ""), who.get("name", ""))


def current_credential() -> Credential | None:
    """The session token the cookie holds; a cookie holding anything else (a raw secret or admin
    token, as cookies did before panel sessions existed) does not sign anyone in.

    Opened once per request: the sealed token ages out (PANEL_SESSION_HOURS) at some second, and
    the view must not find it gone after ``login_required`` found it there."""
    if "credential" not in g:
        credential = panel().vault.open(session.get("cred"))
        g.credential = credential if credential is not None and credential.kind == SESSION else None
    return g.credential


def signed_in_credential() -> Credential:
    """The credential of a view behind ``login_required``, which checked it (this request)."""
    credential = current_credential()
    assert credential is not None, "only called behind login_required, which checked it this request"
    return credential


def session_id() -> str:
    """One id per sign-in (in the signed cookie): what the per-session stream cap counts by."""
    return session.get("sid", "")


def login_required(view=None, *, check_with_gateway: bool = False):
    """Pages redirect to the sign-in form; JSON and stream endpoints answer 401.

    With ``check_with_gateway`` the API is asked first whether the session still works (pages and
    streams: they show data without calling the API themselves)."""
    if view is None:
        return functools.partial(login_required, check_with_gateway=check_with_gateway)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        principal = current_principal()
        if principal is not None and check_with_gateway:
            principal = _still_valid(principal)
        if principal is None:
            session.pop("who", None)
            if request.path.startswith(("/api/", "/stream")):
                return jsonify(_unauthenticated()), 401
            return redirect(url_for("auth.login", next=request.full_path if request.args else request.path))
        g.principal = principal
        return view(*args, **kwargs)

    return wrapper


def _still_valid(principal: Principal) -> Principal | None:
    """None once the API voids the session; GatewayUnavailable propagates (502: not a sign-out)."""
    try:
        panel().gateway.me(signed_in_credential())
    except NotAuthenticated:
        session.clear()
        return None
    return principal


def _unauthenticated() -> dict:
    return error_body("authentication_error", "signed_out", "Sign in again.")


@bp.get("/login")
def login():
    csrf_token()
    return render_template("login.html", error=None, mode=request.args.get("mode", MERCHANT))


@bp.post("/login")
def login_submit():
    credential = _credential_from_form()
    if credential is None:
        return _login_failed("Enter an account id and secret, or your operator credential.", 400)
    too_many = _sign_in_refused(credential)
    if too_many is not None:
        return too_many
    code = request.form.get("one_time_code", "").strip() if credential.kind == ADMIN else ""
    try:
        principal, session_credential = panel().gateway.open_session(
            credential, panel().settings.session_hours * 3600, code or None
        )
    except NotAuthenticated:
        panel().limiter.hit(SIGN_INS_PER_ADDRESS, _address())
        return _login_failed("Those credentials were not accepted.", 401)
    except GatewayUnavailable:
        return _login_failed("The gateway API is unavailable; try again shortly.", 503)
    except GatewayRefused as exc:
        if exc.status == 429:  # the API's own limit on sessions (docs/integrate.md, Rate limits)
            return _login_failed("Too many sign-ins; wait a minute and try again.", 429)
        panel().limiter.hit(SIGN_INS_PER_ADDRESS, _address())  # a wrong one-time code counts too
        if exc.status == 403 and (exc.body.get("error") or {}).get("code") == "second_factor_required":
            return _login_failed("Enter the current one-time code of your authenticator app.", 401)
        return _login_failed("Those credentials were not accepted.", 401)
    if principal.kind == MERCHANT:
        panel().limiter.hit(SIGN_INS_PER_ACCOUNT, principal.account_id)
    _start_session(principal, session_credential)
    return redirect(safe_next(request.form.get("next")))


def _sign_in_refused(credential: Credential):
    """429 once this client address failed SIGN_INS_PER_ADDRESS times, or this merchant signed in
    SIGN_INS_PER_ACCOUNT times, in the window (failing for someone cannot lock them out)."""
    limiter = panel().limiter
    account_id = credential.account_id[:100] if credential.kind == MERCHANT else None  # ids are 100 at most
    if limiter.used(SIGN_INS_PER_ADDRESS, _address()) < SIGN_INS_PER_ADDRESS.quota and (
        account_id is None or limiter.used(SIGN_INS_PER_ACCOUNT, account_id) < SIGN_INS_PER_ACCOUNT.quota
    ):
        return None
    page, status = _login_failed("Too many sign-ins; wait a minute and try again.", 429)
    return page, status, {"Retry-After": "60"}


def _address() -> str:
    return request.remote_addr or "unknown"


@bp.post("/logout")
def logout():
    credential = current_credential()
    if credential is not None:
        try:
            panel().gateway.close_session(credential)
        except GatewayRefused as exc:
            # The cookie goes anyway; the token then lives until it expires (PANEL_SESSION_HOURS).
            log.warning("sign-out could not end the session at the gateway API", extra={"status": exc.status})
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
    return render_template(
        "login.html", error=message, mode=mode, account_id=request.form.get("account_id", "")
    ), status


def _start_session(principal: Principal, credential: Credential) -> None:
    session.clear()  # a fresh session (and CSRF token) for every sign-in
    session.permanent = True
    session["who"] = {"kind": principal.kind, "account_id": principal.account_id, "name": principal.name}
    session["cred"] = panel().vault.seal(credential)
    session["sid"] = secrets.token_urlsafe(12)
    csrf_token()


def safe_next(target: str | None) -> str:
    """Only a path of this panel: an open redirect after sign-in would be a phishing aid."""
    if target and _LOCAL_PATH.match(target):
        return target
    return url_for("pages.live")
