"""Who is calling: a merchant (HTTP Basic, account id + secret), the operator (Bearer admin token), or
either of them through a panel session (Bearer session token: read-only, see domain/sessions.py).

A view that ``requires`` a caller finds who it is in ``g.principal`` (``infra.principals.Principal``,
the same in every service), the merchant's account in ``g.account`` and the panel session it came
through, if any, in ``g.session``."""
from __future__ import annotations

import functools
import hmac

from flask import current_app, g, request
from werkzeug.exceptions import UnsupportedMediaType

from infra.principals import ADMIN, MERCHANT, Principal

from gateway_api.domain.accounts import Account
from gateway_api.domain.errors import AuthenticationFailed, PermissionDenied
from gateway_api.domain.sessions import Session

__all__ = ["ADMIN", "MERCHANT", "current_caller", "json_body_required", "requires"]

_CALLER = "gateway_api.caller"
Caller = tuple[Principal, Account | None, Session | None]  # who, the merchant's account, the panel session


def current_caller() -> Caller | None:
    """The authenticated caller, or None for missing, malformed or wrong credentials alike; worked
    out once per request (the rate limits need it before the view does)."""
    if _CALLER not in request.environ:
        request.environ[_CALLER] = _authenticate()
    return request.environ[_CALLER]


def _authenticate() -> Caller | None:
    auth = request.authorization
    if auth is None:
        return None
    services = current_app.extensions["gateway_api"]
    if auth.type == "basic" and auth.username and auth.password:
        account = services.accounts.authenticate(auth.username, auth.password)
        return (_principal(account), account, None) if account else None
    if auth.type == "bearer" and auth.token:
        expected = services.settings.admin_token.reveal().encode()
        if hmac.compare_digest(auth.token.encode(), expected):
            return Principal(ADMIN), None, None
        holder = services.sessions.authenticate(auth.token)
        if holder is not None:
            return _principal(holder.account), holder.account, holder.session
    return None


def _principal(account: Account | None) -> Principal:
    return Principal(MERCHANT, account.id, account.name) if account else Principal(ADMIN)


def requires(*kinds: str, session: bool = False):
    """Let the view run only for these kinds of caller; it finds the caller in ``g.principal``.

    A panel session is accepted only where ``session`` is true (reading): it can never create,
    change or pay, so a stolen panel cookie is worth less than the credential it stands for."""
    scheme = "Bearer" if kinds == (ADMIN,) else "Basic"

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            caller = current_caller()
            if caller is None:
                raise AuthenticationFailed(scheme)
            principal, account, through_session = caller
            if principal.kind not in kinds:
                raise PermissionDenied(f"This endpoint is for {' or '.join(kinds)} credentials.")
            if through_session is not None and not session:
                raise PermissionDenied("A panel session can only read; use the account's own credentials.")
            g.principal, g.account, g.session = principal, account, through_session
            return view(*args, **kwargs)

        wrapper.required_kinds = kinds  # checks that run before the view let authentication answer first
        return wrapper

    return decorator


def json_body_required(view):
    """415 for a body that is not declared JSON, before the schema would call it 'missing'."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.mimetype != "application/json":
            raise UnsupportedMediaType()
        return view(*args, **kwargs)

    return wrapper
