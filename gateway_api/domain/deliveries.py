"""Webhook deliveries: one event to one endpoint, tried until a 2xx or until the schedule runs out.

A delivery is ``pending`` (due at ``next_attempt_at``), ``delivered`` (a 2xx answered within the
timeout), ``failed`` (every attempt of the schedule failed; a resend queues a new delivery) or
``canceled`` (its endpoint was deleted before it could be sent). Every attempt is kept with its
time, HTTP status or error, and duration: the delivery log merchants debug their receivers with.
"""

from __future__ import annotations

import hashlib
import random
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from infra.kernel.identifiers import loggable

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
CANCELED = "canceled"
STATUSES = (PENDING, DELIVERED, FAILED, CANCELED)

# Why an attempt ended: bounded, so it can label a metric.
OUTCOME_DELIVERED = "delivered"
OUTCOME_HTTP_ERROR = "http_error"  # an answer that is not 2xx (redirects included: never followed)
OUTCOME_TIMEOUT = "timeout"
OUTCOME_CONNECTION_ERROR = "connection_error"  # refused, reset, DNS failure, TLS failure
OUTCOME_REFUSED_ADDRESS = "refused_address"  # the host resolved to an address we may not call
OUTCOMES = (OUTCOME_DELIVERED, OUTCOME_HTTP_ERROR, OUTCOME_TIMEOUT, OUTCOME_CONNECTION_ERROR, OUTCOME_REFUSED_ADDRESS)

MAX_RESPONSE_BODY_BYTES = 1024
MAX_ERROR_LENGTH = 255
# Up to 3 days: 1 + 10 retries, their intervals growing from a minute to 15 hours (71.6 h in all).
DEFAULT_RETRY_SCHEDULE = "1m,5m,30m,2h,5h,10h,12h,12h,15h,15h"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")


def new_delivery_id() -> str:
    return loggable(lambda: "whdel_" + secrets.token_hex(12))


def first_delivery_id(event_id: str, endpoint_id: str) -> str:
    """The first delivery of an event to an endpoint has a derived id: recording it twice collides."""
    return "whdel_" + hashlib.sha256(f"{event_id}\x1f{endpoint_id}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class AttemptResult:
    """What one POST to an endpoint gave."""

    outcome: str
    duration_s: float
    http_status: int | None = None
    error: str | None = None
    response_body: str | None = field(default=None, repr=False)

    @property
    def delivered(self) -> bool:
        return self.outcome == OUTCOME_DELIVERED


def outcome_of_status(status: int) -> str:
    return OUTCOME_DELIVERED if 200 <= status < 300 else OUTCOME_HTTP_ERROR


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    number: int
    attempted_at: datetime
    result: AttemptResult
    next_attempt_at: datetime | None  # the retry this attempt scheduled, if any


@dataclass(frozen=True)
class Delivery:
    id: str
    event_id: str
    endpoint_id: str
    account_id: str
    status: str
    created_at: datetime
    attempts: int = 0
    next_attempt_at: datetime | None = None
    endpoint_url: str = ""
    event_type: str = ""
    last_attempt_at: datetime | None = None
    last_http_status: int | None = None
    last_error: str | None = None
    history: tuple[Attempt, ...] = ()


@dataclass(frozen=True)
class RetrySchedule:
    """The waits between attempts: ``delays[i]`` follows failed attempt ``i + 1``.

    Each wait is shortened by a random share of up to ``jitter``, so that endpoints coming back after
    an outage are not hit by every retry in the same second, and the schedule never exceeds its sum.
    """

    delays: tuple[timedelta, ...]
    jitter: float = 0.2

    @classmethod
    def parse(cls, text: str) -> "RetrySchedule":
        """``"1m,5m,30m,2h"``: durations in s, m, h or d (a bare number is seconds)."""
        delays = []
        for item in text.split(","):
            match = _DURATION.match(item.strip())
            if not match:
                raise ValueError(f"{item.strip()!r} is not a duration such as 30s, 5m, 2h or 1d")
            delays.append(timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "s"]))
        if not delays or any(delay <= timedelta(0) for delay in delays):
            raise ValueError("needs at least one positive duration")
        return cls(tuple(delays))

    @property
    def max_attempts(self) -> int:
        return len(self.delays) + 1

    @property
    def total(self) -> timedelta:
        return sum(self.delays, timedelta(0))

    def next_attempt_at(self, attempts_made: int, now: datetime, rng: random.Random | None = None) -> datetime | None:
        """When to try again after ``attempts_made`` failed attempts; None once the schedule is used up."""
        if attempts_made >= self.max_attempts:
            return None
        delay = self.delays[attempts_made - 1]
        return now + delay * (1 - (rng or random).random() * self.jitter)


@dataclass(frozen=True)
class Transition:
    """Where a delivery goes after an attempt."""

    status: str
    next_attempt_at: datetime | None


def after_attempt(
    attempts_made: int, result: AttemptResult, schedule: RetrySchedule, now: datetime, rng: random.Random | None = None
) -> Transition:
    if result.delivered:
        return Transition(DELIVERED, None)
    retry_at = schedule.next_attempt_at(attempts_made, now, rng)
    return Transition(PENDING, retry_at) if retry_at else Transition(FAILED, None)


def clipped_body(raw: bytes) -> str:
    """At most 1 KiB of a receiver's answer, as text: enough to debug with, never a stored dump."""
    return raw[:MAX_RESPONSE_BODY_BYTES].decode("utf-8", errors="replace")


def clipped_error(message: str) -> str:
    return message[:MAX_ERROR_LENGTH]
