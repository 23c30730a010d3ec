"""GET /stream: Server-Sent Events of live results, filtered to what the signed-in user may see."""
from __future__ import annotations

import json

from flask import Blueprint, Response, g, request

from panel.metrics import SSE_CLIENTS
from panel.services.hub import CLOSED, RESYNC, LiveEvent, Subscription
from panel.web.auth import login_required
from panel.web.context import panel

bp = Blueprint("stream", __name__)

HEARTBEAT_SECONDS = 15
RETRY_MS = 1000
CONSUMER_READY_WAIT_SECONDS = 10


@bp.get("/stream")
@login_required
def stream():
    principal = g.principal
    scope = principal.scope(request.args.get("account_id"))
    hub = panel().hub

    def accepts(event: LiveEvent) -> bool:
        return principal.may_see(event.account_id) and (scope is None or event.account_id == scope)

    subscription = hub.subscribe(accepts, request.headers.get("Last-Event-ID"))
    _wait_for_consumer()
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(_events(hub, subscription), mimetype="text/event-stream", headers=headers)


def _wait_for_consumer() -> None:
    """Say "hello" (the page shows "live") only once this process reads results, or after 10 s."""
    consumer = panel().consumer
    if consumer is not None:
        consumer.ready.wait(CONSUMER_READY_WAIT_SECONDS)


def _events(hub, subscription: Subscription):
    SSE_CLIENTS.inc()
    try:
        yield f"retry: {RETRY_MS}\nevent: hello\ndata: {{}}\n\n"
        while True:
            item = subscription.next(HEARTBEAT_SECONDS)
            if item is None:
                yield ": keep-alive\n\n"  # also how a closed connection is noticed
            elif item == CLOSED:
                return
            elif item == RESYNC:
                yield "event: resync\ndata: {}\n\n"
            else:
                yield f"id: {item.event_id}\nevent: result\ndata: {json.dumps(item.data)}\n\n"
    finally:
        hub.unsubscribe(subscription)
        SSE_CLIENTS.dec()
