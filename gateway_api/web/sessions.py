"""Panel sessions: POST /v1/sessions opens one with real credentials, DELETE /v1/sessions/current ends it."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, g

from infra.kernel.clock import rfc3339

from gateway_api.domain.errors import PermissionDenied, SecondFactorRequired
from gateway_api.web.audit import audited
from gateway_api.web.auth import ADMIN, MERCHANT, OPERATOR_CREDENTIAL, json_body_required, requires
from gateway_api.web.blueprint import Blueprint
from gateway_api.web.docs import AUTHENTICATED, JSON_BODY, error_responses
from gateway_api.web.schemas import SessionCreateSchema, SessionSchema

blp = Blueprint("sessions", __name__, url_prefix="/v1/sessions", description="Sessions of the live panel")


def _sessions():
    return current_app.extensions["gateway_api"].sessions


@blp.route("", methods=["POST"])
@blp.doc(security=[{"basicAuth": []}, {"adminToken": []}])
@requires(MERCHANT, ADMIN)
@json_body_required
@blp.arguments(SessionCreateSchema)
@blp.response(201, SessionSchema)
@error_responses(blp, *AUTHENTICATED, *JSON_BODY)
@audited("session.open", "session")
def open_session(payload):
    """A read-only session token for the caller (what the panel keeps instead of the credential). An
    operator who requires a second factor sends the current ``one_time_code`` of their authenticator."""
    issued = _sessions().open(
        g.account, timedelta(seconds=payload["ttl_seconds"]), _operator_with_second_factor(payload.get("one_time_code"))
    )
    account = g.account
    return {
        "token": issued.token,
        "expires_at": rfc3339(issued.session.expires_at),
        "type": issued.session.kind,
        "account_id": account.id if account else None,
        "name": account.name if account else g.principal.name,
    }


@blp.route("/current", methods=["DELETE"])
@blp.doc(security=[{"panelSession": []}])
@requires(MERCHANT, ADMIN, session=True)
@blp.response(204)
@error_responses(blp, *AUTHENTICATED)
@audited("session.end", "session")
def end_session():
    """Sign-out: the token that made this request stops working everywhere at once."""
    if g.session is None:
        raise PermissionDenied("Only a session token can end its session.")
    _sessions().end(g.session)


def _operator_with_second_factor(code: str | None):
    """The named operator opening the session (None for a merchant or the bootstrap token), once
    their second factor, if they require one, passed."""
    if g.credential != OPERATOR_CREDENTIAL:
        return None
    operators = current_app.extensions["gateway_api"].operators
    operator = operators.named(g.principal.name)
    if not operators.second_factor_passes(operator, code):
        raise SecondFactorRequired()
    return operator
