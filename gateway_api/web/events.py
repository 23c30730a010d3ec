"""Events of the signed-in merchant, their delivery log and resends; recent deliveries across events."""

from __future__ import annotations

from flask import current_app, g

from gateway_api.use_cases.ports import DeliveryQuery, EventQuery
from gateway_api.web import presenters
from gateway_api.web.audit import audited
from gateway_api.web.auth import MERCHANT, requires
from gateway_api.web.blueprint import Blueprint
from gateway_api.web.docs import AUTHENTICATED, error_responses
from gateway_api.web.webhook_schemas import (
    DeliveryListQuerySchema,
    DeliveryLogSchema,
    DeliveryPageSchema,
    EventListQuerySchema,
    EventPageSchema,
    EventSchema,
    QueuedDeliveriesSchema,
    ResendSchema,
)

blp = Blueprint(
    "events",
    __name__,
    url_prefix="/v1/events",
    description="What happened to a merchant's transactions (kept at least 30 days)",
)
deliveries_blp = Blueprint(
    "webhook_deliveries",
    __name__,
    url_prefix="/v1/webhook_deliveries",
    description="Recent webhook deliveries of every event",
)
BASIC = [{"basicAuth": []}]
# Reads also take a panel session token (read-only); changes need the account's own credentials.
BASIC_OR_SESSION = [{"basicAuth": []}, {"panelSession": []}]


def _events():
    return current_app.extensions["gateway_api"].events


@blp.route("", methods=["GET"])
@blp.doc(security=BASIC_OR_SESSION)
@requires(MERCHANT, session=True)
@blp.arguments(EventListQuerySchema, location="query")
@blp.response(200, EventPageSchema)
@error_responses(blp, *AUTHENTICATED, 422)
def list_events(args):
    """Newest first; page with ``starting_after=<the last id you got>`` while ``has_more``."""
    query = EventQuery(g.principal.account_id, args.get("type"), args["limit"], args.get("starting_after"))
    page = _events().page(query)
    return {"data": [event.as_dict() for event in page.items], "has_more": page.has_more}


@blp.route("/<event_id>", methods=["GET"])
@blp.doc(security=BASIC_OR_SESSION)
@requires(MERCHANT, session=True)
@blp.response(200, EventSchema)
@error_responses(blp, *AUTHENTICATED, 404)
def get_event(event_id):
    """The event exactly as it was delivered."""
    return _events().get(g.principal.account_id, event_id).as_dict()


@blp.route("/<event_id>/deliveries", methods=["GET"])
@blp.doc(security=BASIC_OR_SESSION)
@requires(MERCHANT, session=True)
@blp.response(200, DeliveryLogSchema)
@error_responses(blp, *AUTHENTICATED, 404)
def list_event_deliveries(event_id):
    """Every delivery of the event (one per endpoint, plus resends), each with every attempt:
    time, HTTP status or error, duration, what the receiver answered (1 KiB), the next retry."""
    deliveries = _events().deliveries(g.principal.account_id, event_id)
    return {"data": [presenters.delivery(d, with_attempts=True) for d in deliveries]}


@blp.route("/<event_id>/resend", methods=["POST"])
@blp.doc(security=BASIC)
@requires(MERCHANT)
@blp.arguments(ResendSchema, required=False)
@blp.response(202, QueuedDeliveriesSchema)
@error_responses(blp, *AUTHENTICATED, 400, 404, 409, 413, 422)
@audited("event.resend", "event", object_id=lambda kw, result: kw["event_id"])
def resend_event(payload, event_id):
    """Queue a new delivery, due now, to one endpoint (``endpoint_id``) or to every enabled endpoint
    subscribed to the event's type; the body is optional. An event may be resent to an endpoint at
    most 5 times (409 ``resend_limit_reached`` beyond)."""
    queued = _events().resend(g.principal.account_id, event_id, (payload or {}).get("endpoint_id"))
    return {"data": [presenters.delivery(d) for d in queued]}


@deliveries_blp.route("", methods=["GET"])
@deliveries_blp.doc(security=BASIC_OR_SESSION)
@requires(MERCHANT, session=True)
@deliveries_blp.arguments(DeliveryListQuerySchema, location="query")
@deliveries_blp.response(200, DeliveryPageSchema)
@error_responses(deliveries_blp, *AUTHENTICATED, 422)
def list_deliveries(args):
    """Newest first, filtered by ``status`` (e.g. ``failed``) or ``endpoint_id``."""
    query = DeliveryQuery(
        g.principal.account_id, args.get("status"), args.get("endpoint_id"), args["limit"], args.get("starting_after")
    )
    page = _events().recent_deliveries(query)
    return {"data": [presenters.delivery(d) for d in page.items], "has_more": page.has_more}
