"""Events: what happened to a merchant's transactions, recorded once, listed and pushed as webhooks.

An event is immutable: its JSON (``payload``) is fixed when it is recorded and every delivery of it
sends those exact bytes, so a resend months later shows the transaction as it was when decided.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from infra.kernel.clock import rfc3339
from infra.kernel.contracts import STATUS_APPROVED, STATUS_REJECTED

TRANSACTION_APPROVED = "transaction.approved"
TRANSACTION_REJECTED = "transaction.rejected"
REFUND_SUCCEEDED = "refund.succeeded"
REFUND_FAILED = "refund.failed"
EVENT_TYPES = (TRANSACTION_APPROVED, TRANSACTION_REJECTED, REFUND_SUCCEEDED, REFUND_FAILED)
TYPE_OF_STATUS = {STATUS_APPROVED: TRANSACTION_APPROVED, STATUS_REJECTED: TRANSACTION_REJECTED}
TYPE_OF_REFUND_STATUS = {"succeeded": REFUND_SUCCEEDED, "failed": REFUND_FAILED}
ID_PREFIX = "evt_"


@dataclass(frozen=True)
class Event:
    id: str
    account_id: str
    type: str
    transaction_id: str
    created_at: datetime
    payload: bytes = field(repr=False)  # the exact JSON every delivery sends

    def as_dict(self) -> dict:
        return json.loads(self.payload)


def event_id(event_type: str, transaction_id: str) -> str:
    """Derived from what the event is about, so that recording it twice (a redelivered result, two
    consumers racing after a rebalance) collides on the primary key instead of making a second one."""
    digest = hashlib.sha256(f"{event_type}\x1f{transaction_id}".encode()).hexdigest()
    return ID_PREFIX + digest[:24]


def compact_json(body: dict) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def transaction_event(
    transaction_json: dict, status: str, account_id: str, now: datetime, encode: Callable[[dict], bytes] = compact_json
) -> Event:
    """The event for a transaction that just became final; ``transaction_json`` is exactly what
    ``GET /v1/transactions/{id}`` shows. ``encode`` writes the JSON (the outbox passes a faster one)."""
    event_type = TYPE_OF_STATUS[status]
    identifier = event_id(event_type, transaction_json["id"])
    body = {"id": identifier, "type": event_type, "created_at": rfc3339(now), "data": {"object": transaction_json}}
    return Event(identifier, account_id, event_type, transaction_json["id"], now, encode(body))


def refund_event(
    refund_json: dict, account_id: str, now: datetime, encode: Callable[[dict], bytes] = compact_json
) -> Event:
    """The event for a refund that just became final; ``refund_json`` is ``GET /v1/refunds/{id}``.
    Its ``transaction_id`` is the refunded payment's, so a payment's events list its refunds too."""
    event_type = TYPE_OF_REFUND_STATUS[refund_json["status"]]
    identifier = event_id(event_type, refund_json["id"])
    body = {"id": identifier, "type": event_type, "created_at": rfc3339(now), "data": {"object": refund_json}}
    return Event(identifier, account_id, event_type, refund_json["transaction"], now, encode(body))
