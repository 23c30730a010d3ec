"""Who is calling: a merchant (HTTP Basic, account id + secret), the operator (Bearer admin token), or
either of them through a panel session (Bearer session token: read-only, see domain/sessions.py)."""
from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass

from flask import current_app, g, request
from werkzeug.exceptions import UnsupportedMediaType

from gateway_api.domain.accounts import Account
from gateway_api.domain.errors import AuthenticationFailed, PermissionDenied
from gateway_api.domain.sessions import Session

MERCHANT = "merchant"
ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    kind: str
    account: Account | None = None
    session: Session | None = None  # set when the caller presented a panel session token

    @property
    def account_id(self) -> str | None:
        return self.account.id if self.account else None


def current_principal() -> Principal | None:
    """The authenticated caller, or None for missing, malformed or wrong credentials alike."""
    auth = request.authorization
    if auth is None:
        return None
    services = current_app.extensions["gateway_api"]
    if auth.type == "basic" and auth.username and auth.password:
        account = services.accounts.authenticate(auth.username, auth.password)
        return Principal(MERCHANT, account) if account else None
    if auth.type == "bearer" and auth.token:
        expected = services.settings.admin_token.reveal().encode()
        if hmac.compare_digest(auth.token.encode(), expected):
            return Principal(ADMIN)
        holder = services.sessions.authenticate(auth.token)
        if holder is not None:
            return Principal(MERCHANT if holder.account else ADMIN, holder.account, holder.session)
    return None


def requires(*kinds: str, session: bool = False):
    """Let the view run only for these kinds of caller; it finds the caller in ``g.principal``.

    A panel session is accepted only where ``session`` is true (reading): it can never create,
    change or pay, so a stolen panel cookie is worth less than the credential it stands for."""
    scheme = "Bearer" if kinds == (ADMIN,) else "Basic"

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                raise AuthenticationFailed(scheme)
            if principal.kind not in kinds:
                raise PermissionDenied(f"This endpoint is for {' or '.join(kinds)} credentials.")
            if principal.session is not None and not session:
                raise PermissionDenied("A panel session can only read; use the account's own credentials.")
            g.principal = principal
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
