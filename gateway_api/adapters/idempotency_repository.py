from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, and_, select, update

from infra.group_commit import GroupCommit

from gateway_api.adapters.sql import insert_if_absent
from gateway_api.adapters.tables import idempotency_keys as keys
from gateway_api.domain.idempotency import IdempotencyRecord
from gateway_api.use_cases.ports import IdempotencyStore


class SqlIdempotencyStore(IdempotencyStore):
    """The primary key (account, key) makes concurrent claims race safely: one insert wins.

    Claims go through the process's group commit (``writes``) when it has one: claims of the same
    key in one commit run one after the other, so the first wins there too.
    """

    def __init__(self, engine: Engine, writes: GroupCommit | None = None):
        self._engine = engine
        self._writes = writes

    def claim(self, candidate: IdempotencyRecord, expired_before: datetime) -> IdempotencyRecord:
        def write(connection: Connection) -> IdempotencyRecord:
            insert_if_absent(connection, keys, [_row(candidate)])
            # Take over an expired key; the created_at condition makes concurrent take-overs safe.
            connection.execute(update(keys).where(_same_key(candidate), keys.c.created_at < expired_before)
                               .values(_row(candidate)))
            return _holder(connection, candidate)

        if self._writes is not None:
            return self._writes.run(write)
        with self._engine.begin() as connection:
            return write(connection)


def mark_completed(connection: Connection, record: IdempotencyRecord) -> None:
    """The key's request was answered 202 (written with the pending row, in its transaction)."""
    connection.execute(update(keys).where(_same_key(record), keys.c.transaction_id == record.transaction_id)
                       .values(completed=True))


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
