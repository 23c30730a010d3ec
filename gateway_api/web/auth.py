"""Who is calling: a merchant (HTTP Basic, account id + secret), a named operator (Bearer operator
credential, ``gateway_api.domain.operators``), the bootstrap operator (Bearer GATEWAY_ADMIN_TOKEN,
while GATEWAY_ADMIN_TOKEN_ENABLED), or any of them through a panel session (Bearer session token:
read-only, see domain/sessions.py).

A view that ``requires`` a caller finds who it is in ``g.principal`` (``infra.kernel.principals.Principal``,
the same in every service; an operator's ``name`` is the person's), the merchant's account in
``g.account``, the panel session it came through, if any, in ``g.session``, and the kind of
credential in ``g.credential`` (what the audit trail records)."""

from __future__ import annotations

import functools
import hmac

from flask import current_app, g, request
from werkzeug.datastructures import Authorization
from werkzeug.exceptions import UnsupportedMediaType

from infra.kernel.principals import ADMIN, MERCHANT, Principal

from gateway_api.domain.accounts import Account
from gateway_api.domain.errors import AuthenticationFailed, PermissionDenied
from gateway_api.domain.operators import BOOTSTRAP_NAME
from gateway_api.domain.sessions import Session

__all__ = ["ADMIN", "CALLER_KEY", "MERCHANT", "authenticate", "current_caller", "json_body_required", "requires"]

# Where a request's environ keeps its caller once worked out (the merchant fast path works it out first).
CALLER_KEY = "gateway_api.caller"
# The kinds of credential a caller presents, as the audit trail names them.
SECRET, SESSION, OPERATOR_CREDENTIAL, ADMIN_TOKEN = "secret", "session", "operator_credential", "admin_token"
# who, the merchant's account, the panel session, the kind of credential
Caller = tuple[Principal, Account | None, Session | None, str]


def current_caller() -> Caller | None:
    """The authenticated caller, or None for missing, malformed or wrong credentials alike; worked
    out once per request (the rate limits need it before the view does)."""
    if CALLER_KEY not in request.environ:
        request.environ[CALLER_KEY] = authenticate(current_app.extensions["gateway_api"], request.authorization)
    return request.environ[CALLER_KEY]


def authenticate(services, auth: Authorization | None) -> Caller | None:
    """Who presents this Authorization header (werkzeug's parse of it), or None."""
    if auth is None:
        return None
    if auth.type == "basic" and auth.username and auth.password:
        account = services.accounts.authenticate(auth.username, auth.password)
        return (Principal(MERCHANT, account.id, account.name), account, None, SECRET) if account else None
    if auth.type == "bearer" and auth.token:
        return _bearer(services, auth.token)
    return None


def _bearer(services, token: str) -> Caller | None:
    if services.settings.admin_token_enabled and hmac.compare_digest(
        token.encode(), services.settings.admin_token.reveal().encode()
    ):
        return Principal(ADMIN, name=BOOTSTRAP_NAME), None, None, ADMIN_TOKEN
    operator = services.operators.authenticate(token)
    if operator is not None:
        return Principal(ADMIN, name=operator.name), None, None, OPERATOR_CREDENTIAL
    holder = services.sessions.authenticate(token)
    if holder is None:
        return None
    if holder.account is None:
        return Principal(ADMIN, name=holder.operator_name), None, holder.session, SESSION
    return Principal(MERCHANT, holder.account.id, holder.account.name), holder.account, holder.session, SESSION


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
            principal, account, through_session, credential = caller
            if principal.kind not in kinds:
                raise PermissionDenied(f"This endpoint is for {' or '.join(kinds)} credentials.")
            if through_session is not None and not session:
                raise PermissionDenied("A panel session can only read; use the account's own credentials.")
            g.principal, g.account, g.session, g.credential = principal, account, through_session, credential
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
