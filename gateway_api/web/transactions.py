"""POST /v1/transactions (accept), GET one, GET a page."""

from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, g, jsonify, request

from infra.kernel.money import format_amount
from infra.kernel.principals import Principal

from gateway_api.adapters import resource_shapes
from gateway_api.domain.errors import InvalidParameter, NotFound
from gateway_api.domain.idempotency import MAX_KEY_LENGTH
from gateway_api.domain.transactions import Card, TransactionRequest
from gateway_api.use_cases.ports import ListQuery
from gateway_api.web.auth import ADMIN, MERCHANT, json_body_required, requires
from gateway_api.web.blueprint import Blueprint
from gateway_api.web.docs import AUTHENTICATED, JSON_BODY, error_responses
from gateway_api.web.schemas import (
    EXAMPLE_TRANSACTION,
    AcceptedSchema,
    TransactionCreateSchema,
    TransactionListQuerySchema,
    TransactionPageSchema,
    TransactionSchema,
)

blp = Blueprint("transactions", __name__, url_prefix="/v1/transactions", description="Card transactions")
BASIC = [{"basicAuth": []}]
BASIC_OR_ADMIN = [{"basicAuth": []}, {"adminToken": []}, {"panelSession": []}]
ACCEPTED_HEADERS = {
    "Location": {"description": "the transaction: GET it for its status", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": '"true" when this answer replays the first one of its Idempotency-Key',
        "schema": {"type": "string", "enum": ["true"]},
    },
}


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "description": "Your order id (1-255 printable characters): a retry with the same key and body replays the "
    "first answer for 24 h instead of paying twice; with another body it is a 409.",
}


@blp.route("", methods=["POST"])
@blp.doc(security=BASIC, parameters=[IDEMPOTENCY_KEY])
@requires(MERCHANT)
@json_body_required
@blp.arguments(TransactionCreateSchema(), example=EXAMPLE_TRANSACTION)  # one instance: no schema built per request
@blp.response(
    202,
    AcceptedSchema,
    description="Accepted: the broker holds it; decided within a fraction of a second "
    "(GET the Location until the status is approved or rejected)",
    headers=ACCEPTED_HEADERS,
)
@error_responses(blp, *AUTHENTICATED, *JSON_BODY, 409)
def create_transaction(payload):
    """Accept a card transaction. Only its shape is checked here; the processor decides it (see the
    the test inputs of docs/integrate.md: amount above 1000, a card failing Luhn, an expired card... are rejected)."""
    services = current_app.extensions["gateway_api"]
    key = request.headers.get("Idempotency-Key")
    body, headers = accept(services, g.principal.account_id, payload, key, request.script_root)
    return jsonify(body), 202, headers


def accept(services, account_id: str, payload: dict, key: str | None, script_root: str) -> tuple[dict, dict]:
    """What ``create_transaction`` does once the caller and the body are known (the merchant fast path
    calls it too): the 202's body and headers."""
    result = services.accept_transaction(account_id, _request(payload), idempotency_key(key))
    services.metrics.accepted(result.replayed)
    # The GET of this transaction: what ``url_for`` builds, at ~1/20 of its cost. Ids are the
    # gateway's own (hex), so nothing needs quoting.
    headers = {"Location": f"{script_root}{blp.url_prefix}/{result.transaction.id}"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    # Already the documented shape (AcceptedSchema): a Response skips a second pass through the schema.
    return resource_shapes.accepted(result.transaction), headers


@blp.route("/<transaction_id>", methods=["GET"])
@blp.doc(security=BASIC_OR_ADMIN)
@requires(MERCHANT, ADMIN, session=True)
@blp.response(200, TransactionSchema)
@error_responses(blp, *AUTHENTICATED, 404)
def get_transaction(transaction_id):
    return jsonify(read(current_app.extensions["gateway_api"], g.principal, transaction_id))


def read(services, principal: Principal, transaction_id: str) -> dict:
    """What ``get_transaction`` answers once the caller is known (the merchant fast path calls it too)."""
    found = services.ledger.get(transaction_id)
    # Another merchant's transaction is as absent as one that does not exist (404, not 403).
    if found is None or (principal.kind == MERCHANT and found.account_id != principal.account_id):
        raise NotFound("No such transaction.", param="id")
    refunded = services.refunds.amount_refunded([found.id])[found.id]
    # Already the documented shape (TransactionSchema, checked by a test): no second pass through it.
    return resource_shapes.transaction(found) | {"amount_refunded": format_amount(refunded)}


@blp.route("", methods=["GET"])
@blp.doc(security=BASIC_OR_ADMIN)
@requires(MERCHANT, ADMIN, session=True)
@blp.arguments(TransactionListQuerySchema, location="query")
@blp.response(200, TransactionPageSchema)
@error_responses(blp, *AUTHENTICATED, 422)
def list_transactions(args):
    query = ListQuery(
        scope_account(args.get("account_id")),
        args.get("status"),
        args["limit"],
        args.get("starting_after"),
        _naive_utc(args.get("created_after")),
    )
    page = current_app.extensions["gateway_api"].ledger.page(query)
    return jsonify({"data": [resource_shapes.transaction(t) for t in page.items], "has_more": page.has_more})


def _naive_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    try:
        return moment.astimezone(timezone.utc).replace(tzinfo=None)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the first representable instant
        raise InvalidParameter("created_after: out of range.", param="created_after") from None


def scope_account(requested: str | None) -> str | None:
    """A merchant sees its own account only; the admin sees all, or the one it asks for."""
    if g.principal.kind == ADMIN:
        return requested
    if requested not in (None, g.principal.account_id):
        raise InvalidParameter("account_id is only for admin credentials.", param="account_id")
    return g.principal.account_id


def idempotency_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidParameter(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.", param="Idempotency-Key"
        )
    return key


def _request(payload: dict) -> TransactionRequest:
    card = payload["credit_card"]
    return TransactionRequest(
        amount=payload["amount"],
        card=Card(card["number"], card["name"], card["expiration_month"], card["expiration_year"], card["cvv"]),
        description=payload.get("description"),
    )
