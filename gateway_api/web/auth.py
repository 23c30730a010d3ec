"""Who is calling: a merchant (HTTP Basic, account id + secret) or the operator (Bearer admin token)."""
from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass

from flask import current_app, g, request
from werkzeug.exceptions import UnsupportedMediaType

from gateway_api.domain.accounts import Account
from gateway_api.domain.errors import AuthenticationFailed, PermissionDenied

MERCHANT = "merchant"
ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    kind: str
    account: Account | None = None

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
        return Principal(ADMIN) if hmac.compare_digest(auth.token.encode(), expected) else None
    return None


def requires(*kinds: str):
    """Let the view run only for these kinds of caller; it finds the caller in ``g.principal``."""
    scheme = "Bearer" if kinds == (ADMIN,) else "Basic"

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                raise AuthenticationFailed(scheme)
            if principal.kind not in kinds:
                raise PermissionDenied(f"This endpoint is for {' or '.join(kinds)} credentials.")
            g.principal = principal
            return view(*args, **kwargs)

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
