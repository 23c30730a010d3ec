"""Named operators (operators only; the bootstrap GATEWAY_ADMIN_TOKEN creates the first ones)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from infra.kernel.clock import rfc3339

from gateway_api.domain.operators import IssuedCredential, Operator
from gateway_api.web.audit import audited
from gateway_api.web.audit_schemas import (
    OperatorCreateSchema,
    OperatorCredentialSchema,
    OperatorListSchema,
    OperatorSchema,
)
from gateway_api.web.auth import ADMIN, json_body_required, requires
from gateway_api.web.blueprint import Blueprint
from gateway_api.web.docs import AUTHENTICATED, JSON_BODY, error_responses

blp = Blueprint("operators", __name__, url_prefix="/v1/operators", description="Named operators")
ADMIN_ONLY = [{"adminToken": []}]


def _operators():
    return current_app.extensions["gateway_api"].operators


@blp.route("", methods=["POST"])
@blp.doc(security=ADMIN_ONLY)
@requires(ADMIN)
@json_body_required
@blp.arguments(OperatorCreateSchema)
@blp.response(201, OperatorCredentialSchema)
@error_responses(blp, *AUTHENTICATED, *JSON_BODY)
@audited("operator.create", "operator", object_id=lambda kw, result: result["name"])
def create_operator(payload):
    """A credential for one person (shown once), valid ``expires_in_days`` (default 90, at most 366)."""
    return issued(_operators().create(payload["name"], timedelta(days=payload["expires_in_days"])))


@blp.route("", methods=["GET"])
@blp.doc(security=ADMIN_ONLY + [{"panelSession": []}])
@requires(ADMIN, session=True)
@blp.response(200, OperatorListSchema)
@error_responses(blp, *AUTHENTICATED)
def list_operators():
    return {"data": [operator(o) for o in _operators().every_operator()]}


@blp.route("/<name>", methods=["DELETE"])
@blp.doc(security=ADMIN_ONLY)
@requires(ADMIN)
@blp.response(200, OperatorSchema)
@error_responses(blp, *AUTHENTICATED, 404)
@audited("operator.disable", "operator", object_id=lambda kw, result: kw["name"])
def disable_operator(name):
    """Revoke an operator's credential and panel sessions at once."""
    return operator(_operators().disable(name))


def operator(o: Operator) -> dict:
    return {
        "id": o.id,
        "name": o.name,
        "created_at": rfc3339(o.created_at),
        "expires_at": rfc3339(o.expires_at),
        "disabled": o.disabled_at is not None,
        "second_factor_required": o.totp_required,
    }


def issued(credential: IssuedCredential) -> dict:
    return operator(credential.operator) | {"credential": credential.credential}
