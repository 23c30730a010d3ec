"""Events and the delivery log as the API reads them (always scoped to one merchant)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Engine, and_, or_, select

from gateway_api.adapters.sql import insert_if_absent
from gateway_api.adapters.tables import events, webhook_attempts, webhook_endpoints
from gateway_api.adapters.tables import webhook_deliveries as deliveries
from gateway_api.domain.deliveries import Attempt, AttemptResult, Delivery
from gateway_api.domain.errors import InvalidParameter
from gateway_api.domain.events import Event
from gateway_api.use_cases.ports import DeliveryPage, DeliveryQuery, EventPage, EventQuery, EventRepository

_DELIVERY_COLUMNS = (deliveries, webhook_endpoints.c.url.label("endpoint_url"), events.c.type.label("event_type"))


class SqlEvents(EventRepository):
    def __init__(self, engine: Engine):
        self._engine = engine

    def page(self, query: EventQuery) -> EventPage:
        conditions = [events.c.account_id == query.account_id]
        if query.type:
            conditions.append(events.c.type == query.type)
        with self._engine.connect() as connection:
            if query.starting_after:
                conditions.append(_older_than(connection, events, query.starting_after, query.account_id))
            statement = (
                select(events)
                .where(*conditions)
                .order_by(events.c.created_at.desc(), events.c.id.desc())
                .limit(query.limit + 1)
            )
            rows = connection.execute(statement).all()
        return EventPage([_event(row) for row in rows[: query.limit]], has_more=len(rows) > query.limit)

    def get(self, account_id: str, event_id: str) -> Event | None:
        statement = select(events).where(events.c.id == event_id, events.c.account_id == account_id)
        with self._engine.connect() as connection:
            row = connection.execute(statement).first()
        return _event(row) if row else None

    def deliveries(self, account_id: str, event_id: str) -> list[Delivery]:
        statement = (
            _deliveries_query()
            .where(deliveries.c.event_id == event_id, deliveries.c.account_id == account_id)
            .order_by(deliveries.c.created_at, deliveries.c.id)
        )
        with self._engine.connect() as connection:
            rows = connection.execute(statement).all()
            history = _attempts(connection, [row.id for row in rows])
        return [_delivery(row, tuple(history.get(row.id, ()))) for row in rows]

    def recent_deliveries(self, query: DeliveryQuery) -> DeliveryPage:
        conditions = [deliveries.c.account_id == query.account_id]
        if query.status:
            conditions.append(deliveries.c.status == query.status)
        if query.endpoint_id:
            conditions.append(deliveries.c.endpoint_id == query.endpoint_id)
        with self._engine.connect() as connection:
            if query.starting_after:
                conditions.append(_older_than(connection, deliveries, query.starting_after, query.account_id))
            statement = (
                _deliveries_query()
                .where(*conditions)
                .order_by(deliveries.c.created_at.desc(), deliveries.c.id.desc())
                .limit(query.limit + 1)
            )
            rows = connection.execute(statement).all()
        return DeliveryPage([_delivery(row) for row in rows[: query.limit]], has_more=len(rows) > query.limit)

    def add_deliveries(self, new: Sequence[Delivery]) -> None:
        with self._engine.begin() as connection:
            insert_if_absent(connection, deliveries, [_delivery_row(delivery) for delivery in new])


def _deliveries_query():
    return (
        select(*_DELIVERY_COLUMNS)
        .join(webhook_endpoints, webhook_endpoints.c.id == deliveries.c.endpoint_id)
        .join(events, events.c.id == deliveries.c.event_id)
    )


def _older_than(connection: Connection, table, cursor_id: str, account_id: str):
    cursor = connection.execute(
        select(table.c.created_at, table.c.id).where(table.c.id == cursor_id, table.c.account_id == account_id)
    ).first()
    if cursor is None:
        raise InvalidParameter("starting_after is not an item of this listing.", param="starting_after")
    return or_(
        table.c.created_at < cursor.created_at, and_(table.c.created_at == cursor.created_at, table.c.id < cursor.id)
    )


def _attempts(connection: Connection, delivery_ids: list[str]) -> dict[str, list[Attempt]]:
    found: dict[str, list[Attempt]] = {}
    if not delivery_ids:
        return found
    statement = (
        select(webhook_attempts)
        .where(webhook_attempts.c.delivery_id.in_(delivery_ids))
        .order_by(webhook_attempts.c.delivery_id, webhook_attempts.c.number, webhook_attempts.c.id)
    )
    for row in connection.execute(statement):
        result = AttemptResult(row.outcome, row.duration_ms / 1000, row.http_status, row.error, row.response_body)
        found.setdefault(row.delivery_id, []).append(
            Attempt(row.delivery_id, row.number, row.attempted_at, result, row.next_attempt_at)
        )
    return found


def _event(row) -> Event:
    return Event(row.id, row.account_id, row.type, row.transaction_id, row.created_at, row.payload.encode())


def _delivery(row, history: tuple[Attempt, ...] = ()) -> Delivery:
    return Delivery(
        row.id,
        row.event_id,
        row.endpoint_id,
        row.account_id,
        row.status,
        row.created_at,
        row.attempts,
        row.next_attempt_at,
        row.endpoint_url,
        row.event_type,
        row.last_attempt_at,
        row.last_http_status,
        row.last_error,
        history,
    )


def _delivery_row(delivery: Delivery) -> dict:
    return {
        "id": delivery.id,
        "event_id": delivery.event_id,
        "endpoint_id": delivery.endpoint_id,
        "account_id": delivery.account_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "locked_until": None,
        "lock_token": None,
        "created_at": delivery.created_at,
        "last_attempt_at": None,
        "last_http_status": None,
        "last_error": None,
    }
