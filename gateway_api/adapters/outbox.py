"""The webhook outbox: events and their first deliveries, written in the ledger's own DB transaction.

Because they commit together with the status change, no final transaction exists without its event,
and no event without the deliveries its merchant's endpoints subscribe to. The dispatcher picks the
deliveries up from the table; nothing else needs to be told.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import orjson
from sqlalchemy import Connection, select

from infra.runtime.sql import PreparedStatement

from gateway_api.adapters import resource_shapes
from gateway_api.adapters.sql import prepared_insert_if_absent
from gateway_api.adapters.tables import events as events_table
from gateway_api.adapters.tables import webhook_deliveries, webhook_endpoints
from gateway_api.domain.deliveries import PENDING, first_delivery_id
from gateway_api.domain.events import Event, refund_event, transaction_event
from gateway_api.domain.refunds import Refund
from gateway_api.domain.transactions import Transaction
from gateway_api.domain.webhook_endpoints import STATUS_ENABLED, WebhookEndpoint

NOTHING_REFUNDED = {"amount_refunded": "0.00"}


class Outbox:
    def __init__(self, now: Callable[[], datetime]):
        self._now = now
        self._inserts: dict[str, tuple[PreparedStatement, PreparedStatement]] = {}

    def record(self, connection: Connection, decided: Sequence[Transaction]) -> None:
        """One event per transaction that just became final, one delivery per subscribed endpoint.

        Ids are derived from what they are about (see ``event_id``), so writing the same decision
        twice is a no-op, even from two consumers at once.
        """
        if not decided:
            return
        now = self._now()
        # orjson: the JSON of a thousand events a second (compact; UTF-8 rather than \u escapes). The object
        # is GET /v1/transactions/{id} at the decision: nothing can be refunded before a payment is decided.
        self._store(
            connection,
            [
                transaction_event(
                    resource_shapes.transaction(t) | NOTHING_REFUNDED, t.status, t.account_id, now, orjson.dumps
                )
                for t in decided
            ],
            now,
        )

    def record_refunds(self, connection: Connection, decided: Sequence[Refund]) -> None:
        """One event per refund that just became final (the caller checked that its update changed the row)."""
        if decided:
            now = self._now()
            self._store(
                connection,
                [refund_event(resource_shapes.refund(r), r.account_id, now, orjson.dumps) for r in decided],
                now,
            )

    def _store(self, connection: Connection, events: list[Event], now: datetime) -> None:
        insert_events, insert_deliveries = self._prepared(connection)
        insert_events.execute_many(connection, [_event_row(event) for event in events])
        endpoints = _subscribed_endpoints(connection, {event.account_id for event in events})
        insert_deliveries.execute_many(
            connection,
            [
                _delivery_row(event, endpoint, now)
                for event in events
                for endpoint in endpoints.get(event.account_id, ())
                if endpoint.subscribes_to(event.type)
            ],
        )

    def _prepared(self, connection: Connection) -> tuple[PreparedStatement, PreparedStatement]:
        dialect = connection.dialect
        if dialect.name not in self._inserts:
            self._inserts[dialect.name] = (
                prepared_insert_if_absent(events_table, dialect),
                prepared_insert_if_absent(webhook_deliveries, dialect),
            )
        return self._inserts[dialect.name]


def _subscribed_endpoints(connection: Connection, account_ids: set[str]) -> dict[str, list[WebhookEndpoint]]:
    statement = select(
        webhook_endpoints.c.id,
        webhook_endpoints.c.account_id,
        webhook_endpoints.c.url,
        webhook_endpoints.c.enabled_events,
        webhook_endpoints.c.created_at,
    ).where(webhook_endpoints.c.account_id.in_(account_ids), webhook_endpoints.c.status == STATUS_ENABLED)
    found: dict[str, list[WebhookEndpoint]] = {}
    for row in connection.execute(statement):
        endpoint = WebhookEndpoint(
            row.id, row.account_id, row.url, tuple(row.enabled_events.split(",")), row.created_at
        )
        found.setdefault(row.account_id, []).append(endpoint)
    return found


def _event_row(event: Event) -> dict:
    return {
        "id": event.id,
        "account_id": event.account_id,
        "type": event.type,
        "transaction_id": event.transaction_id,
        "payload": event.payload.decode(),
        "created_at": event.created_at,
    }


def _delivery_row(event: Event, endpoint: WebhookEndpoint, now: datetime) -> dict:
    return {
        "id": first_delivery_id(event.id, endpoint.id),
        "event_id": event.id,
        "endpoint_id": endpoint.id,
        "account_id": event.account_id,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "locked_until": None,
        "lock_token": None,
        "created_at": now,
        "last_attempt_at": None,
        "last_http_status": None,
        "last_error": None,
    }
