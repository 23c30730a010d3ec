"""Delivering webhooks: claim due deliveries, sign and POST each, write back what happened.

At-least-once: a delivery is leased (invisible to other dispatchers) while it is being sent and
stays pending until its outcome is written. A dispatcher that dies mid-delivery leaves the lease to
expire, and the delivery is sent again by whoever claims it next; receivers deduplicate by the
``Gateway-Event-Id`` header.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from gateway_api.domain.deliveries import (
    CANCELED,
    OUTCOME_CONNECTION_ERROR,
    Attempt,
    AttemptResult,
    RetrySchedule,
    Transition,
    after_attempt,
)
from gateway_api.domain.webhook_signature import EVENT_ID_HEADER, SIGNATURE_HEADER, signature_header
from gateway_api.use_cases.ports import AttemptRecord, ClaimedDelivery, DeliveryQueue, SecretCipher, WebhookSender

USER_AGENT = "payment-gateway-webhooks/1"


class DeliverWebhooks:
    def __init__(
        self,
        queue: DeliveryQueue,
        sender: WebhookSender,
        cipher: SecretCipher,
        schedule: RetrySchedule,
        now: Callable[[], datetime],
        lease: timedelta,
        timeout_s: float,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self._queue = queue
        self._sender = sender
        self._cipher = cipher
        self._schedule = schedule
        self._now = now
        self._lease = lease
        self._timeout_s = timeout_s
        self._rng = rng or random.Random()
        self._clock = clock

    def claim(self, limit: int) -> list[ClaimedDelivery]:
        return self._queue.claim(limit, self._now(), self._lease) if limit > 0 else []

    def attempt(self, claimed: ClaimedDelivery) -> AttemptRecord:
        """One POST of the event to the endpoint; never raises."""
        if not claimed.endpoint_enabled:
            return AttemptRecord(claimed, None, Transition(CANCELED, None))
        if claimed.lease_until and self._now() + timedelta(seconds=self._timeout_s) >= claimed.lease_until:
            # It waited too long in this dispatcher: the lease could run out mid-send and another
            # dispatcher send it at the same time. Left as it is, it goes to the next claimer.
            return AttemptRecord(claimed, None, None)
        started_at = self._now()
        result = self._send(claimed)
        number = claimed.attempts_made + 1
        transition = after_attempt(number, result, self._schedule, self._now(), self._rng)
        return AttemptRecord(
            claimed, Attempt(claimed.delivery_id, number, started_at, result, transition.next_attempt_at), transition
        )

    def exchange(self, records: Sequence[AttemptRecord], limit: int) -> list[ClaimedDelivery]:
        """Write what happened to the finished deliveries and claim up to ``limit`` new ones."""
        return self._queue.exchange(records, limit, self._now(), self._lease)

    def record(self, records: Sequence[AttemptRecord]) -> None:
        if records:
            self._queue.record(records)

    def release(self, claimed: Sequence[ClaimedDelivery]) -> None:
        if claimed:
            self._queue.release(claimed)

    def _send(self, claimed: ClaimedDelivery) -> AttemptResult:
        """Whatever the row holds or the sender meets, an outcome: a failed attempt names the
        exception's class only (its text could quote the secret or the body)."""
        try:
            secret = self._cipher.decrypt(claimed.secret_token, claimed.endpoint_id)
        except Exception:  # noqa: BLE001 - a changed WEBHOOK_SECRETS_KEY or a tampered row: never send unsigned
            return AttemptResult(
                OUTCOME_CONNECTION_ERROR, 0.0, error="the endpoint's signing secret cannot be decrypted"
            )
        try:
            return self._sender.send(
                claimed.endpoint_url, claimed.payload, self._headers(claimed, secret), self._timeout_s
            )
        except Exception as exc:  # noqa: BLE001 - recorded as a failed attempt, retried on the schedule
            return AttemptResult(OUTCOME_CONNECTION_ERROR, 0.0, error=f"the attempt failed: {type(exc).__name__}")

    def _headers(self, claimed: ClaimedDelivery, secret: str) -> dict[str, str]:
        # Signed at send time: a retry carries a fresh timestamp, so receivers can keep a short tolerance.
        return {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            SIGNATURE_HEADER: signature_header(claimed.payload, secret, int(self._clock())),
            EVENT_ID_HEADER: claimed.event_id,
            "Gateway-Delivery-Id": claimed.delivery_id,
            "Gateway-Delivery-Attempt": str(claimed.attempts_made + 1),
        }
