from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, and_, delete, select, tuple_, update

from infra.group_commit import Batch, GroupCommit, write_alone
from infra.sql import PreparedStatement

from gateway_api.adapters.sql import prepared_insert_if_absent
from gateway_api.adapters.tables import idempotency_keys as keys
from gateway_api.domain.idempotency import IdempotencyRecord
from gateway_api.use_cases.ports import IdempotencyStore

Claim = tuple[IdempotencyRecord, datetime]  # the candidate, and the moment before which a key has expired


class SqlIdempotencyStore(IdempotencyStore):
    """The primary key (account, key) makes concurrent claims race safely: one insert wins.

    Claims go through the process's group commit (``writes``) when it has one: the claims of one
    commit are one multi-row insert and one select, and claims of the same key in it resolve to the
    first, exactly as if they had come one after the other.
    """

    def __init__(self, engine: Engine, writes: GroupCommit | None = None):
        self._engine = engine
        self._writes = writes
        self._claims = _Claims(prepared_insert_if_absent(keys, engine.dialect))  # compiled once, not per claim

    def claim(self, candidate: IdempotencyRecord, expired_before: datetime) -> IdempotencyRecord:
        if self._writes is not None:
            return self._writes.run(self._claims, (candidate, expired_before))
        return write_alone(self._engine, self._claims, (candidate, expired_before))

    def purge(self, expired_before: datetime) -> int:
        # The created_at condition is the one claim() uses: a key the API would still replay stays.
        with self._engine.begin() as connection:
            return connection.execute(delete(keys).where(keys.c.created_at < expired_before)).rowcount


class _Claims(Batch[Claim, IdempotencyRecord]):
    def __init__(self, insert_new: PreparedStatement):
        self._insert_new = insert_new

    def write(self, connection: Connection, items: Sequence[Claim]) -> list[IdempotencyRecord]:
        self._insert_new.execute_many(connection, [_row(candidate) for candidate, _ in items])
        holders = _holders(connection, [candidate for candidate, _ in items])
        results = []
        for candidate, expired_before in items:
            holder = holders[(candidate.account_id, candidate.key)]
            if holder.created_at < expired_before:
                holder = _take_over(connection, candidate, expired_before)
                holders[(candidate.account_id, candidate.key)] = holder
            results.append(holder)
        return results


def mark_completed(connection: Connection, records: Sequence[IdempotencyRecord]) -> None:
    """These keys' requests were answered 202 (written with their pending rows, in one transaction)."""
    if not records:
        return
    # One statement for the whole commit (an executemany UPDATE is a round trip per row on MySQL).
    answered = tuple_(keys.c.account_id, keys.c.idempotency_key, keys.c.transaction_id)
    connection.execute(update(keys).where(answered.in_([(r.account_id, r.key, r.transaction_id) for r in records]))
                       .values(completed=True))


def _take_over(connection: Connection, candidate: IdempotencyRecord, expired_before: datetime) -> IdempotencyRecord:
    """Replace an expired key; the created_at condition makes concurrent take-overs safe."""
    connection.execute(update(keys).where(_same_key(candidate), keys.c.created_at < expired_before)
                       .values(_row(candidate)))
    return _holders(connection, [candidate])[(candidate.account_id, candidate.key)]


def _same_key(record: IdempotencyRecord):
    return and_(keys.c.account_id == record.account_id, keys.c.idempotency_key == record.key)


def _holders(connection: Connection, records: Sequence[IdempotencyRecord]) -> dict[tuple[str, str], IdempotencyRecord]:
    wanted = {(r.account_id, r.key) for r in records}
    rows = connection.execute(select(keys).where(tuple_(keys.c.account_id, keys.c.idempotency_key).in_(wanted)))
    return {(row.account_id, row.idempotency_key): IdempotencyRecord(
        row.account_id, row.idempotency_key, row.fingerprint, row.transaction_id, row.created_at, bool(row.completed))
        for row in rows}


def _row(record: IdempotencyRecord) -> dict:
    return {
        "account_id": record.account_id, "idempotency_key": record.key, "fingerprint": record.fingerprint,
        "transaction_id": record.transaction_id, "created_at": record.created_at, "completed": record.completed,
    }
