"""The repository on SQLAlchemy Core: one code path for SQLite and MySQL/MariaDB."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Engine, insert, select

from processor.domain.transaction import Outcome
from processor.repositories.base import TransactionRepository
from processor.repositories.tables import transactions

# Stays below every backend's bound-parameter limit whatever the batch size.
READ_CHUNK = 500

_insert_new = (
    insert(transactions)
    .prefix_with("OR IGNORE", dialect="sqlite")
    .prefix_with("IGNORE", dialect="mysql")
    .prefix_with("IGNORE", dialect="mariadb")
)


class SqlTransactionRepository(TransactionRepository):
    def __init__(self, engine: Engine):
        self._engine = engine

    def add_new(self, outcomes: Sequence[Outcome]) -> list[Outcome]:
        """One DB transaction: a multi-row insert that skips known ids, then (only if some were
        skipped) one read of the stored outcomes for the ids in the batch.

        An outcome's fields are the table's columns, so its ``vars()`` are the row as it is.
        """
        with self._engine.begin() as connection:
            inserted = connection.execute(_insert_new, [vars(outcome) for outcome in outcomes]).rowcount
            if inserted == len(outcomes):
                return list(outcomes)
            stored = {outcome.id: outcome for outcome in self._read(connection, [o.id for o in outcomes])}
        return [stored[outcome.id] for outcome in outcomes]

    def get(self, transaction_id: str) -> Outcome | None:
        with self._engine.connect() as connection:
            found = list(self._read(connection, [transaction_id]))
        return found[0] if found else None

    def _read(self, connection, ids: list[str]) -> Iterator[Outcome]:
        for start in range(0, len(ids), READ_CHUNK):
            query = select(transactions).where(transactions.c.id.in_(ids[start:start + READ_CHUNK]))
            for row in connection.execute(query):
                yield Outcome(**row._mapping)
