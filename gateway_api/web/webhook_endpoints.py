"""Webhook endpoints of the signed-in merchant: create, list, read, delete, roll the signing secret."""

from __future__ import annotations

from flask import current_app, g

from gateway_api.web import presenters
from gateway_api.web.audit import audited
from gateway_api.web.auth import MERCHANT, json_body_required, requires
from gateway_api.web.blueprint import Blueprint
from gateway_api.web.docs import AUTHENTICATED, JSON_BODY, error_responses
from gateway_api.web.webhook_schemas import (
    DeletedSchema,
    WebhookEndpointCreateSchema,
    WebhookEndpointListSchema,
    WebhookEndpointSchema,
    WebhookEndpointSecretSchema,
)

blp = Blueprint(
    "webhook_endpoints",
    __name__,
    url_prefix="/v1/webhook_endpoints",
    description="Where the gateway POSTs a merchant's events (signed with the endpoint's secret)",
)
BASIC = [{"basicAuth": []}]
# Reads also take a panel session token (read-only); changes need the account's own credentials.
BASIC_OR_SESSION = [{"basicAuth": []}, {"panelSession": []}]


def _endpoints():
    return current_app.extensions["gateway_api"].webhook_endpoints


@blp.route("", methods=["POST"])
@blp.doc(security=BASIC)
@requires(MERCHANT)
@json_body_required
@blp.arguments(WebhookEndpointCreateSchema)
@blp.response(201, WebhookEndpointSecretSchema)
@error_responses(blp, *AUTHENTICATED, *JSON_BODY)
@audited("webhook_endpoint.create", "webhook_endpoint", object_id=lambda kw, result: result["id"])
def create_webhook_endpoint(payload):
    """Create an endpoint: https:// URLs that resolve to public addresses; at most 16 per merchant.
    The answer is the only time the signing secret (whsec_...) is shown, besides rolling it."""
    issued = _endpoints().create(
        g.principal.account_id, payload["url"], payload["enabled_events"], payload.get("description")
    )
    return presenters.issued_endpoint_secret(issued)


@blp.route("", methods=["GET"])
@blp.doc(security=BASIC_OR_SESSION)
@requires(MERCHANT, session=True)
@blp.response(200, WebhookEndpointListSchema)
@error_responses(blp, *AUTHENTICATED)
def list_webhook_endpoints():
    return {
        "data": [presenters.webhook_endpoint(e) for e in _endpoints().endpoints_of(g.principal.account_id)],
        "has_more": False,
    }


@blp.route("/<endpoint_id>", methods=["GET"])
@blp.doc(security=BASIC_OR_SESSION)
@requires(MERCHANT, session=True)
@blp.response(200, WebhookEndpointSchema)
@error_responses(blp, *AUTHENTICATED, 404)
def get_webhook_endpoint(endpoint_id):
    return presenters.webhook_endpoint(_endpoints().get(g.principal.account_id, endpoint_id))


@blp.route("/<endpoint_id>", methods=["DELETE"])
@blp.doc(security=BASIC)
@requires(MERCHANT)
@blp.response(200, DeletedSchema)
@error_responses(blp, *AUTHENTICATED, 404)
@audited("webhook_endpoint.delete", "webhook_endpoint", object_id=lambda kw, result: kw["endpoint_id"])
def delete_webhook_endpoint(endpoint_id):
    """Delete an endpoint: nothing more is sent to it; its pending deliveries are canceled."""
    deleted = _endpoints().delete(g.principal.account_id, endpoint_id)
    return {"id": deleted.id, "deleted": True}


@blp.route("/<endpoint_id>/secret", methods=["POST"])
@blp.doc(security=BASIC)
@requires(MERCHANT)
@blp.response(200, WebhookEndpointSecretSchema)
@error_responses(blp, *AUTHENTICATED, 404)
@audited("webhook_endpoint.roll_secret", "webhook_endpoint", object_id=lambda kw, result: kw["endpoint_id"])
def roll_webhook_endpoint_secret(endpoint_id):
    """A new signing secret (shown once); deliveries are signed with it from now on, the old one stops."""
    return presenters.issued_endpoint_secret(_endpoints().roll_secret(g.principal.account_id, endpoint_id))
