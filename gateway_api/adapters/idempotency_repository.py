from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, and_, delete, select, update

from gateway_api.adapters.sql import insert_if_absent
from gateway_api.adapters.tables import idempotency_keys as keys
from gateway_api.domain.idempotency import IdempotencyRecord
from gateway_api.use_cases.ports import IdempotencyStore


class SqlIdempotencyStore(IdempotencyStore):
    """The primary key (account, key) makes concurrent claims race safely: one insert wins."""

    def __init__(self, engine: Engine):
        self._engine = engine

    def claim(self, candidate: IdempotencyRecord, expired_before: datetime) -> IdempotencyRecord:
        with self._engine.begin() as connection:
            insert_if_absent(connection, keys, [_row(candidate)])
            # Take over an expired key; the created_at condition makes concurrent take-overs safe.
            connection.execute(update(keys).where(_same_key(candidate), keys.c.created_at < expired_before)
                               .values(_row(candidate)))
            return _holder(connection, candidate)

    def complete(self, record: IdempotencyRecord) -> None:
        with self._engine.begin() as connection:
            connection.execute(update(keys).where(_same_key(record),
                                                  keys.c.transaction_id == record.transaction_id)
                               .values(completed=True))


    def purge(self, expired_before: datetime) -> int:
        # The created_at condition is the one claim() uses: a key the API would still replay stays.
        with self._engine.begin() as connection:
            return connection.execute(delete(keys).where(keys.c.created_at < expired_before)).rowcount


def _same_key(record: IdempotencyRecord):
    return and_(keys.c.account_id == record.account_id, keys.c.idempotency_key == record.key)


def _holder(connection: Connection, record: IdempotencyRecord) -> IdempotencyRecord:
    row = connection.execute(select(keys).where(_same_key(record))).one()
    return IdempotencyRecord(row.account_id, row.idempotency_key, row.fingerprint, row.transaction_id,
                             row.created_at, bool(row.completed))


def _row(record: IdempotencyRecord) -> dict:
    return {
        "account_id": record.account_id, "idempotency_key": record.key, "fingerprint": record.fingerprint,
        "transaction_id": record.transaction_id, "created_at": record.created_at, "completed": record.completed,
    }
