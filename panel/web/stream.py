"""GET /stream: Server-Sent Events of live results (event ``result``) and refund decisions (``refund``),
filtered to what the signed-in user may see.

A stream never outlives its session by more than PANEL_CREDENTIAL_CHECK_SECONDS (60 at most): it
asks the gateway API when it opens (``login_required``) and again on that interval while open. A
voided session (sign-out, a rotated secret, a disabled account) ends it with a ``signed_out`` event;
an API that cannot answer ends it too, and the browser's reconnection asks again.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

from flask import Blueprint, Response, abort, g, request

from panel.adapters.metrics import PanelMetrics
from panel.domain.credential import Credential
from panel.domain.fair_shares import STREAM_LEASE_SECONDS, STREAMS_PER_MERCHANT
from panel.use_cases.hub import CLOSED, RESYNC, LiveEvent, Subscription, TooManyStreams
from panel.use_cases.ports import Gateway, GatewayRefused, GatewayUnavailable, StreamLeases
from panel.web.auth import login_required, session_id, signed_in_credential
from panel.web.context import panel

bp = Blueprint("stream", __name__)

HEARTBEAT_SECONDS = 15
RETRY_MS = 1000
READER_READY_WAIT_SECONDS = 10
SIGNED_OUT, UNAVAILABLE = "signed_out", "unavailable"


@bp.get("/stream")
@login_required(check_with_gateway=True)
def stream():
    principal = g.principal
    scope = principal.scope(request.args.get("account_id"))
    hub = panel().hub

    def accepts(event: LiveEvent) -> bool:
        return principal.may_see(event.account_id) and (scope is None or event.account_id == scope)

    lease = _lease(principal)
    try:
        subscription = _subscribe(hub, accepts, principal.is_admin)
    except BaseException:
        lease.release()
        raise
    check = CredentialCheck(panel().gateway, signed_in_credential(), panel().settings.credential_check_seconds)
    _wait_for_reader()
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(
        _events(hub, subscription, check, panel().metrics, lease), mimetype="text/event-stream", headers=headers
    )


class Lease:
    """A merchant's claim on one of its STREAMS_PER_MERCHANT, in the store every panel process shares;
    the operator's streams need none."""

    def __init__(self, leases: StreamLeases | None, holder: str):
        self._leases, self._holder, self._id = leases, holder, uuid.uuid4().hex
        self._renewed = time.monotonic()

    def take(self) -> bool:
        return self._leases is None or self._leases.acquire(
            self._holder, self._id, STREAMS_PER_MERCHANT, STREAM_LEASE_SECONDS
        )

    def renew(self) -> None:
        """At most every HEARTBEAT_SECONDS, however many events flow: the lease outlives three of them."""
        if self._leases is not None and time.monotonic() - self._renewed >= HEARTBEAT_SECONDS:
            self._renewed = time.monotonic()
            self._leases.renew(self._holder, self._id, STREAM_LEASE_SECONDS)

    def release(self) -> None:
        if self._leases is not None:
            self._leases.release(self._holder, self._id)


def _lease(principal) -> Lease:
    lease = Lease(None if principal.is_admin else panel().stream_leases, principal.account_id)
    if not lease.take():
        abort(
            429,
            description=f"This account already has {STREAMS_PER_MERCHANT} live streams open (all its "
            "sessions and tabs together); close one.",
        )
    return lease


def _subscribe(hub, accepts, operator: bool) -> Subscription:
    try:
        return hub.subscribe(accepts, request.headers.get("Last-Event-ID"), owner=session_id(), operator=operator)
    except TooManyStreams as exc:
        if exc.per_session:
            abort(429, description="This session already has as many live streams as it may; close a tab.")
        abort(503, description="The panel is at its live-stream capacity; try again shortly.")


class CredentialCheck:
    """Asks the gateway API, every ``interval`` seconds, whether the stream's session still works."""

    def __init__(
        self, gateway: Gateway, credential: Credential, interval: float, clock: Callable[[], float] = time.monotonic
    ):
        self._gateway = gateway
        self._credential = credential
        self._interval = interval
        self._clock = clock
        self._due = clock() + interval

    def seconds_left(self) -> float:
        return max(self._due - self._clock(), 0.0)

    def verdict(self) -> str | None:
        """None while the session works (or is not due for a check), else why the stream must end:
        ``SIGNED_OUT`` (the API voided it) or ``UNAVAILABLE`` (the API cannot say right now)."""
        if self.seconds_left() > 0:
            return None
        self._due = self._clock() + self._interval
        try:
            self._gateway.me(self._credential)
            return None
        except GatewayUnavailable:
            return UNAVAILABLE
        except GatewayRefused:  # 401 once voided; any other refusal is no better
            return SIGNED_OUT


def _wait_for_reader() -> None:
    """Say "hello" (the page shows "live") only once this process reads results, or after 10 s."""
    reader = panel().reader
    if reader is not None:
        reader.ready.wait(READER_READY_WAIT_SECONDS)


def _events(hub, subscription: Subscription, check: CredentialCheck, metrics: PanelMetrics, lease: Lease):
    metrics.sse_clients.inc()
    try:
        # The process id lets a client (and the tests) tell the panel's processes apart.
        yield f"retry: {RETRY_MS}\nevent: hello\ndata: {json.dumps({'process': hub.boot_id})}\n\n"
        last_sent = time.monotonic()
        while True:
            verdict = check.verdict()
            if verdict is not None:
                # Signed out: the page goes to the sign-in form. Unavailable: the browser reconnects,
                # and the reconnection asks the API again.
                if verdict == SIGNED_OUT:
                    yield "event: signed_out\ndata: {}\n\n"
                return
            item = subscription.next_event(min(HEARTBEAT_SECONDS, check.seconds_left()))
            if item == CLOSED:
                return
            if item is None and time.monotonic() - last_sent < HEARTBEAT_SECONDS:
                continue  # woken for the credential check only
            yield _message(item)
            last_sent = time.monotonic()
            lease.renew()
    finally:
        hub.unsubscribe(subscription)
        lease.release()
        metrics.sse_clients.dec()


def _message(item) -> str:
    if item is None:
        return ": keep-alive\n\n"  # also how a closed connection is noticed
    if item == RESYNC:
        return "event: resync\ndata: {}\n\n"
    return f"id: {item.event_id}\nevent: {item.kind}\ndata: {json.dumps(item.data)}\n\n"
