from __future__ import annotations

from sqlalchemy import Connection, Engine, and_, func, select, update

from infra.kernel.clock import utc_now

from gateway_api.adapters.tables import accounts, webhook_deliveries
from gateway_api.adapters.tables import webhook_endpoints as endpoints
from gateway_api.domain.deliveries import CANCELED, PENDING
from gateway_api.domain.webhook_endpoints import STATUS_DELETED, STATUS_ENABLED, WebhookEndpoint
from gateway_api.use_cases.ports import WebhookEndpointRepository


class SqlWebhookEndpoints(WebhookEndpointRepository):
    def __init__(self, engine: Engine):
        self._engine = engine

    def add_within_limit(self, endpoint: WebhookEndpoint, secret_token: str, limit: int) -> bool:
        with self._engine.begin() as connection:
            # A write first, so concurrent creates for one merchant queue up here: a row lock on
            # MySQL, the database's write lock on SQLite. Only then is count-then-insert atomic.
            connection.execute(update(accounts).where(accounts.c.id == endpoint.account_id).values(id=accounts.c.id))
            if _active_count(connection, endpoint.account_id) >= limit:
                return False
            connection.execute(endpoints.insert().values(_row(endpoint, secret_token)))
        return True

    def endpoints_of(self, account_id: str) -> list[WebhookEndpoint]:
        statement = (
            select(endpoints)
            .where(endpoints.c.account_id == account_id, endpoints.c.status != STATUS_DELETED)
            .order_by(endpoints.c.created_at, endpoints.c.id)
        )
        with self._engine.connect() as connection:
            return [_endpoint(row) for row in connection.execute(statement)]

    def get(self, account_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        statement = select(endpoints).where(
            endpoints.c.id == endpoint_id, endpoints.c.account_id == account_id, endpoints.c.status != STATUS_DELETED
        )
        with self._engine.connect() as connection:
            row = connection.execute(statement).first()
        return _endpoint(row) if row else None

    def delete(self, account_id: str, endpoint_id: str) -> None:
        now = utc_now()
        with self._engine.begin() as connection:
            connection.execute(
                update(endpoints)
                .where(_own(account_id, endpoint_id))
                .values(status=STATUS_DELETED, deleted_at=now, failing_since=None)
            )
            # A delivery being sent right now still gets its attempt logged, but stays canceled.
            connection.execute(
                update(webhook_deliveries)
                .where(webhook_deliveries.c.endpoint_id == endpoint_id, webhook_deliveries.c.status == PENDING)
                .values(status=CANCELED, next_attempt_at=None)
            )

    def set_secret(self, account_id: str, endpoint_id: str, secret_token: str) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(endpoints).where(_own(account_id, endpoint_id)).values(secret_ciphertext=secret_token)
            )


def _own(account_id: str, endpoint_id: str):
    return and_(endpoints.c.id == endpoint_id, endpoints.c.account_id == account_id)


def _active_count(connection: Connection, account_id: str) -> int:
    statement = (
        select(func.count())
        .select_from(endpoints)
        .where(endpoints.c.account_id == account_id, endpoints.c.status != STATUS_DELETED)
    )
    return connection.execute(statement).scalar_one()


def _row(endpoint: WebhookEndpoint, secret_token: str) -> dict:
    return {
        "id": endpoint.id,
        "account_id": endpoint.account_id,
        "url": endpoint.url,
        "description": endpoint.description,
        "enabled_events": ",".join(endpoint.enabled_events),
        "status": STATUS_ENABLED,
        "secret_ciphertext": secret_token,
        "created_at": endpoint.created_at,
    }


def _endpoint(row) -> WebhookEndpoint:
    return WebhookEndpoint(
        row.id,
        row.account_id,
        row.url,
        tuple(row.enabled_events.split(",")),
        row.created_at,
        row.description,
        row.status,
    )
