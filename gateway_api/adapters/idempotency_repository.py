from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Dialect, Engine, and_, bindparam, delete, or_, select, update

from infra.runtime.group_commit import Batch, GroupCommit, write_alone
from infra.runtime.sql import PreparedForEach, PreparedStatement

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
        dialect = engine.dialect
        self._claims = _Claims(
            prepared_insert_if_absent(keys, dialect), holders_of(dialect), counts_inserted_rows(dialect)
        )

    def claim(self, candidate: IdempotencyRecord, expired_before: datetime) -> IdempotencyRecord:
        if self._writes is not None:
            return self._writes.run(self._claims, (candidate, expired_before))
        return write_alone(self._engine, self._claims, (candidate, expired_before))

    def purge(self, expired_before: datetime) -> int:
        # The created_at condition is the one claim() uses: a key the API would still replay stays.
        with self._engine.begin() as connection:
            return connection.execute(delete(keys).where(keys.c.created_at < expired_before)).rowcount


class _Claims(Batch[Claim, IdempotencyRecord]):
    """Compiled once (per number of claims in a commit), not per claim: see infra.runtime.sql."""

    def __init__(self, insert_new: PreparedStatement, select_holders: PreparedForEach, counts_inserted: bool):
        self._insert_new = insert_new
        self._select_holders = select_holders
        self._counts_inserted = counts_inserted

    def write(self, connection: Connection, items: Sequence[Claim]) -> list[IdempotencyRecord]:
        inserted = self._insert_new.execute_many(connection, [_row(candidate) for candidate, _ in items])
        if self._counts_inserted and inserted == len(items):
            # Every candidate's row went in (a key twice in one commit inserts once): each claim holds
            # its own key, so there is nothing to read back. The usual case: a fresh key per request.
            return [candidate for candidate, _ in items]
        holders = _holders(connection, [candidate for candidate, _ in items], self._select_holders)
        results = []
        for candidate, expired_before in items:
            holder = holders[(candidate.account_id, candidate.key)]
            if holder.created_at < expired_before:
                holder = _take_over(connection, candidate, expired_before, self._select_holders)
                holders[(candidate.account_id, candidate.key)] = holder
            results.append(holder)
        return results


def counts_inserted_rows(dialect: Dialect) -> bool:
    """Whether the insert-if-absent's row count is the rows it inserted. SQLite's ``ON CONFLICT DO
    NOTHING`` counts only those; MySQL's no-op ``ON DUPLICATE KEY UPDATE`` also counts a row it left as
    it was, since SQLAlchemy connects with CLIENT_FOUND_ROWS, so there the holders are always read."""
    return dialect.name == "sqlite"


def holders_of(dialect: Dialect) -> PreparedForEach:
    """SELECT the rows of n (account, key) pairs."""
    return PreparedForEach(lambda count: select(*_COLUMNS).where(_any_key(count)), dialect)


def _any_key(count: int):
    """``(account = ? AND key = ?) OR ...``: a search of the primary key per pair on both databases
    (SQLite scans the whole table for ``(account, key) IN ((?, ?), ...)``)."""
    return or_(
        *[
            and_(
                keys.c.account_id == bindparam(f"a{i}"),
                keys.c.idempotency_key == bindparam(f"k{i}"),
            )
            for i in range(count)
        ]
    )


def _take_over(
    connection: Connection, candidate: IdempotencyRecord, expired_before: datetime, select_holders: PreparedForEach
) -> IdempotencyRecord:
    """Replace an expired key; the created_at condition makes concurrent take-overs safe."""
    connection.execute(
        update(keys).where(_same_key(candidate), keys.c.created_at < expired_before).values(_row(candidate))
    )
    return _holders(connection, [candidate], select_holders)[(candidate.account_id, candidate.key)]


def _same_key(record: IdempotencyRecord):
    return and_(keys.c.account_id == record.account_id, keys.c.idempotency_key == record.key)


_COLUMNS = (
    keys.c.account_id,
    keys.c.idempotency_key,
    keys.c.fingerprint,
    keys.c.transaction_id,
    keys.c.created_at,
)


def _holders(
    connection: Connection, records: Sequence[IdempotencyRecord], prepared: PreparedForEach
) -> dict[tuple[str, str], IdempotencyRecord]:
    wanted = [{"a": account, "k": key} for account, key in dict.fromkeys((r.account_id, r.key) for r in records)]
    return {
        (account, key): IdempotencyRecord(account, key, fingerprint, transaction_id, created_at)
        for account, key, fingerprint, transaction_id, created_at in prepared.fetch(connection, wanted)
    }


def _row(record: IdempotencyRecord) -> dict:
    return {
        "account_id": record.account_id,
        "idempotency_key": record.key,
        "fingerprint": record.fingerprint,
        "transaction_id": record.transaction_id,
        "created_at": record.created_at,
        "completed": False,  # no longer read: see the column (adapters/tables.py)
    }
