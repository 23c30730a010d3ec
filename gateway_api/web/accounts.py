"""Merchant accounts (admin) and GET /v1/me (who am I, for the panel's sign-in)."""

from __future__ import annotations

from flask import current_app, g

from gateway_api.web import presenters
from gateway_api.web.audit import audited
from gateway_api.web.auth import ADMIN, MERCHANT, json_body_required, requires
from gateway_api.web.blueprint import Blueprint
from gateway_api.web.docs import AUTHENTICATED, JSON_BODY, error_responses
from gateway_api.web.schemas import (
    AccountCreateSchema,
    AccountListSchema,
    AccountRateLimitSchema,
    AccountSchema,
    AccountSecretSchema,
    MeSchema,
)

blp = Blueprint("accounts", __name__, url_prefix="/v1", description="Merchant accounts")
ADMIN_ONLY = [{"adminToken": []}]
SESSION = [{"panelSession": []}]


def _path_account(kwargs, _result):
    return kwargs["account_id"]


def _accounts():
    return current_app.extensions["gateway_api"].accounts


@blp.route("/accounts", methods=["POST"])
@blp.doc(security=ADMIN_ONLY)
@requires(ADMIN)
@json_body_required
@blp.arguments(AccountCreateSchema)
@blp.response(201, AccountSecretSchema)
@error_responses(blp, *AUTHENTICATED, *JSON_BODY)
@audited(
    "account.create", "account", object_id=lambda kw, result: result["id"], account_id=lambda kw, result: result["id"]
)
def create_account(payload):
    return presenters.issued_secret(_accounts().create(payload["name"]))


@blp.route("/accounts", methods=["GET"])
@blp.doc(security=ADMIN_ONLY + SESSION)
@requires(ADMIN, session=True)
@blp.response(200, AccountListSchema)
@error_responses(blp, *AUTHENTICATED)
def list_accounts():
    return {"data": [presenters.account(a) for a in _accounts().every_account()]}


@blp.route("/accounts/<account_id>/secret", methods=["POST"])
@blp.doc(security=ADMIN_ONLY)
@requires(ADMIN)
@blp.response(200, AccountSecretSchema)
@error_responses(blp, *AUTHENTICATED, 404)
@audited("account.rotate_secret", "account", object_id=_path_account, account_id=_path_account)
def rotate_account_secret(account_id):
    return presenters.issued_secret(_accounts().rotate_secret(account_id))


@blp.route("/accounts/<account_id>", methods=["DELETE"])
@blp.doc(security=ADMIN_ONLY)
@requires(ADMIN)
@blp.response(200, AccountSchema)
@error_responses(blp, *AUTHENTICATED, 404)
@audited("account.disable", "account", object_id=_path_account, account_id=_path_account)
def disable_account(account_id):
    return presenters.account(_accounts().disable(account_id))


@blp.route("/accounts/<account_id>/rate_limit", methods=["PUT"])
@blp.doc(
    security=ADMIN_ONLY,
    description=(
        "The operator's override of the account's request rate (docs/integrate.md, Rate limits); null restores the default."
    ),
)
@requires(ADMIN)
@json_body_required
@blp.arguments(AccountRateLimitSchema)
@blp.response(200, AccountSchema)
@error_responses(blp, *AUTHENTICATED, *JSON_BODY, 404)
def set_rate_limit(payload, account_id):
    return presenters.account(_accounts().set_rate_limit(account_id, payload["rate_limit_per_second"]))


@blp.route("/me", methods=["GET"])
@blp.doc(security=[{"basicAuth": []}, {"adminToken": []}] + SESSION)
@requires(MERCHANT, ADMIN, session=True)
@blp.response(200, MeSchema)
@error_responses(blp, *AUTHENTICATED)
def get_current_account():
    if g.principal.kind == ADMIN:
        return {"type": "admin"}
    return {"type": "merchant", "account_id": g.principal.account_id, "name": g.principal.name}
