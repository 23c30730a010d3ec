"""POST /v1/refunds (accept), GET one, GET a page."""

from __future__ import annotations

from flask import current_app, g, jsonify, request, url_for

from gateway_api.adapters import resource_shapes
from gateway_api.domain.errors import NotFound
from gateway_api.domain.refunds import RefundRequest
from gateway_api.use_cases.ports import RefundQuery
from gateway_api.web.audit import audited
from gateway_api.web.auth import ADMIN, MERCHANT, json_body_required, requires
from gateway_api.web.blueprint import Blueprint
from gateway_api.web.docs import AUTHENTICATED, JSON_BODY, error_responses
from gateway_api.web.refund_schemas import (
    EXAMPLE_REFUND,
    RefundCreateSchema,
    RefundListQuerySchema,
    RefundPageSchema,
    RefundSchema,
)
from gateway_api.web.transactions import ACCEPTED_HEADERS, BASIC, BASIC_OR_ADMIN, IDEMPOTENCY_KEY, idempotency_key

blp = Blueprint("refunds", __name__, url_prefix="/v1/refunds", description="Refunds of approved payments")


@blp.route("", methods=["POST"])
@blp.doc(security=BASIC, parameters=[IDEMPOTENCY_KEY])
@requires(MERCHANT)
@json_body_required
@blp.arguments(RefundCreateSchema(), example=EXAMPLE_REFUND)
@blp.response(
    202,
    RefundSchema,
    description="Accepted: the processor decides within a fraction of a second "
    "(GET the Location until the status is succeeded or failed)",
    headers=ACCEPTED_HEADERS,
)
@error_responses(blp, *AUTHENTICATED, *JSON_BODY, 404, 409)
@audited("refund.request", "refund", object_id=lambda kw, result: result[0].get_json()["id"])
def create_refund(payload):
    """Refund an approved payment, partly or fully, as often as money is left (docs/integrate.md, Refunds).
    404: not your transaction; 409 transaction_not_approved: the payment is pending or rejected."""
    services = current_app.extensions["gateway_api"]
    request_ = RefundRequest(payload["transaction"], payload["amount"], payload["reason"], payload["description"])
    result = services.accept_refund(
        g.principal.account_id, request_, idempotency_key(request.headers.get("Idempotency-Key"))
    )
    services.metrics.refund_accepted(result.replayed)
    headers = {"Location": url_for("refunds.get_refund", refund_id=result.refund.id)}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return jsonify(resource_shapes.refund(result.refund)), 202, headers


@blp.route("/<refund_id>", methods=["GET"])
@blp.doc(security=BASIC_OR_ADMIN)
@requires(MERCHANT, ADMIN, session=True)
@blp.response(200, RefundSchema)
@error_responses(blp, *AUTHENTICATED, 404)
def get_refund(refund_id):
    found = current_app.extensions["gateway_api"].refunds.get(refund_id)
    if found is None or (g.principal.kind == MERCHANT and found.account_id != g.principal.account_id):
        raise NotFound("No such refund.", param="id")
    return resource_shapes.refund(found)


@blp.route("", methods=["GET"])
@blp.doc(security=BASIC_OR_ADMIN)
@requires(MERCHANT, ADMIN, session=True)
@blp.arguments(RefundListQuerySchema, location="query")
@blp.response(200, RefundPageSchema)
@error_responses(blp, *AUTHENTICATED, 422)
def list_refunds(args):
    account_id = g.principal.account_id if g.principal.kind == MERCHANT else None
    query = RefundQuery(
        account_id, args.get("transaction"), args.get("status"), args["limit"], args.get("starting_after")
    )
    page = current_app.extensions["gateway_api"].refunds.page(query)
    return {"data": [resource_shapes.refund(r) for r in page.items], "has_more": page.has_more}
