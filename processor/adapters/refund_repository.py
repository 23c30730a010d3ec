"""Refunds on SQLAlchemy Core, one code path for SQLite and MySQL/MariaDB.

The limit is the database's: ``take`` is one conditional UPDATE (``refunded + x <= approved``),
which InnoDB evaluates on the row's latest committed value under its row lock and SQLite under its
single writer, and a CHECK constraint backs it. A refund id is the refunds table's primary key, so
two processors deciding the same refund make one of them fail its batch and retry, finding the
stored outcome: never a second refund.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import Connection, Engine, bindparam, insert, select, update
from sqlalchemy.dialects import mysql, sqlite

from infra.kernel.money import from_cents, to_cents

from processor.adapters.refund_tables import refund_balances as balances
from processor.adapters.refund_tables import refunds
from processor.adapters.tables import transactions
from processor.domain.refunds import Payment, RefundOutcome
from processor.use_cases.ports import RefundRepository, RefundSession

_TAKE = (
    update(balances)
    .where(
        balances.c.transaction_id == bindparam("b_id"),
        balances.c.refunded_cents + bindparam("b_cents") <= balances.c.approved_cents,
    )
    .values(refunded_cents=balances.c.refunded_cents + bindparam("b_cents"))
)


def _money(cents: int | None) -> Decimal | None:
    return None if cents is None else from_cents(cents)


class SqlRefundSession(RefundSession):
    def __init__(self, connection: Connection):
        self._connection = connection

    def stored(self, refund_id: str) -> RefundOutcome | None:
        row = self._connection.execute(select(refunds).where(refunds.c.id == refund_id)).first()
        if row is None:
            return None
        return RefundOutcome(
            row.id,
            row.transaction_id,
            row.account_id,
            row.status,
            _money(row.amount_cents),
            row.failure_reason,
            from_cents(row.amount_refunded_cents),
            row.processed_at,
        )

    def payment(self, transaction_id: str) -> Payment | None:
        row = self._connection.execute(
            select(
                transactions.c.account_id, transactions.c.status, transactions.c.amount, transactions.c.processed_at
            ).where(transactions.c.id == transaction_id)
        ).first()
        if row is None:
            return None
        refunded = self._connection.execute(
            select(balances.c.refunded_cents).where(balances.c.transaction_id == transaction_id)
        ).scalar()
        return Payment(
            transaction_id, row.account_id, row.status, row.amount, row.processed_at, from_cents(refunded or 0)
        )

    def take(self, transaction_id: str, amount: Decimal) -> Decimal | None:
        self._open_balance(transaction_id)
        changed = self._connection.execute(_TAKE, {"b_id": transaction_id, "b_cents": to_cents(amount)}).rowcount
        if changed != 1:
            return None
        return from_cents(
            self._connection.execute(
                select(balances.c.refunded_cents).where(balances.c.transaction_id == transaction_id)
            ).scalar_one()
        )

    def add(self, outcome: RefundOutcome) -> None:
        self._connection.execute(
            insert(refunds).values(
                id=outcome.id,
                transaction_id=outcome.transaction_id,
                account_id=outcome.account_id,
                status=outcome.status,
                amount_cents=None if outcome.amount is None else to_cents(outcome.amount),
                failure_reason=outcome.failure_reason,
                amount_refunded_cents=to_cents(outcome.amount_refunded),
                processed_at=outcome.processed_at,
            )
        )

    def _open_balance(self, transaction_id: str) -> None:
        """The payment's balance row, created from its approved amount on its first refund."""
        approved = select(transactions.c.amount).where(
            transactions.c.id == transaction_id, transactions.c.status == "approved", transactions.c.amount.is_not(None)
        )
        row = self._connection.execute(approved).first()
        if row is None:
            return
        values = {"transaction_id": transaction_id, "approved_cents": to_cents(row.amount), "refunded_cents": 0}
        self._connection.execute(_insert_if_absent(self._connection.dialect.name).values(values))


def _insert_if_absent(dialect_name: str):
    if dialect_name == "sqlite":
        return sqlite.insert(balances).on_conflict_do_nothing()
    statement = mysql.insert(balances)
    return statement.on_duplicate_key_update(transaction_id=statement.inserted.transaction_id)


class SqlRefundRepository(RefundRepository):
    def __init__(self, engine: Engine):
        self._engine = engine

    @contextmanager
    def session(self) -> Iterator[RefundSession]:
        with self._engine.begin() as connection:
            yield SqlRefundSession(connection)
