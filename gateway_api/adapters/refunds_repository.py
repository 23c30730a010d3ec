"""Refund rows of the ledger: pending from the API, final from ``refunds_result``.

A result decides a row with ``UPDATE ... WHERE status = 'pending'`` (a final status is never
overwritten: ``domain.results``) and only a row that update (or the insert of a row the API never
wrote) changed is returned as decided, to get its webhook event: two consumers applying the same
result at once give one event, never two.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Connection, Dialect, Engine, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import DataError, IntegrityError

from infra.kernel.clock import parse_rfc3339, utc_now
from infra.kernel.contracts import REFUND_SUCCEEDED, RefundResult
from infra.kernel.money import from_cents, parse_amount, to_cents
from infra.runtime.sql import PreparedForEach

from gateway_api.adapters.outbox import Outbox
from gateway_api.adapters.sql import prepared_insert_or_fill_in
from gateway_api.adapters.tables import refunds as rf
from gateway_api.domain.errors import InvalidParameter
from gateway_api.domain.refunds import REFUND_PENDING, Refund
from gateway_api.domain.reports import REFUNDED, DailyTotal
from gateway_api.use_cases.apply_results import ApplyRefundResults
from gateway_api.use_cases.ports import (
    DecisionBatch,
    LedgerRefused,
    RefundLedger,
    RefundPage,
    RefundQuery,
    ResultLedger,
)


def _refunded_of(dialect: Dialect) -> PreparedForEach:
    """The succeeded refunds' sum of n payments, compiled once per n (every GET of a transaction asks it)."""

    def build(count: int):
        return (
            select(rf.c.transaction_id, func.coalesce(func.sum(rf.c.amount_cents), 0))
            .where(rf.c.transaction_id.in_([bindparam(f"t{i}") for i in range(count)]), rf.c.status == REFUND_SUCCEEDED)
            .group_by(rf.c.transaction_id)
        )

    return PreparedForEach(build, dialect)


_INSERT_IGNORE = (
    insert(rf)
    .prefix_with("OR IGNORE", dialect="sqlite")
    .prefix_with("IGNORE", dialect="mysql")
    .prefix_with("IGNORE", dialect="mariadb")
)


class SqlRefunds(RefundLedger, ResultLedger[RefundResult, Refund]):
    def __init__(self, engine: Engine, outbox: Outbox | None = None):
        self._engine = engine
        self._outbox = outbox or Outbox(utc_now)
        self._refunded = _refunded_of(engine.dialect)
        # The reason and the description travel only in the pending row, not in the result: a row its
        # decision created first takes them from the pending write, which changes nothing else.
        self._pending_row = prepared_insert_or_fill_in(rf, engine.dialect, ["reason", "description"])

    def add_pending(self, refund: Refund) -> None:
        with self._engine.begin() as connection:
            self._pending_row.execute_many(connection, [_row(refund)])

    def get(self, refund_id: str) -> Refund | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(rf).where(rf.c.id == refund_id)).first()
        return _refund(row) if row else None

    def page(self, query: RefundQuery) -> RefundPage:
        conditions = [] if query.account_id is None else [rf.c.account_id == query.account_id]
        if query.transaction_id:
            conditions.append(rf.c.transaction_id == query.transaction_id)
        if query.status:
            conditions.append(rf.c.status == query.status)
        with self._engine.connect() as connection:
            if query.starting_after:
                conditions.append(_older_than(connection, query.starting_after, query.account_id))
            statement = (
                select(rf).where(*conditions).order_by(rf.c.created_at.desc(), rf.c.id.desc()).limit(query.limit + 1)
            )
            rows = connection.execute(statement).all()
        return RefundPage([_refund(row) for row in rows[: query.limit]], has_more=len(rows) > query.limit)

    def amount_refunded(self, transaction_ids: Sequence[str]) -> dict[str, Decimal]:
        """The sum of each payment's succeeded refunds (integer cents: exact on every backend)."""
        if not transaction_ids:
            return {}
        wanted = [{"t": id_} for id_ in dict.fromkeys(transaction_ids)]
        with self._engine.connect() as connection:
            found = {id_: from_cents(int(cents)) for id_, cents in self._refunded.fetch(connection, wanted)}
        return {id_: found.get(id_, from_cents(0)) for id_ in transaction_ids}

    def daily_refunded(self, account_id: str | None, first: date, last: date) -> list[DailyTotal]:
        """Succeeded refunds per day they were asked, as report totals (``REFUNDED``)."""
        day = func.date(rf.c.created_at)
        conditions = [rf.c.status == REFUND_SUCCEEDED, rf.c.created_at >= datetime.combine(first, time())]
        if last < date.max:
            conditions.append(rf.c.created_at < datetime.combine(last + timedelta(days=1), time()))
        if account_id is not None:
            conditions.append(rf.c.account_id == account_id)
        statement = (
            select(
                day.label("day"),
                func.count().label("count"),
                func.coalesce(func.sum(rf.c.amount_cents), 0).label("cents"),
            )
            .where(*conditions)
            .group_by(day)
        )
        with self._engine.connect() as connection:
            return [
                DailyTotal(_as_date(row.day), REFUNDED, "", row.count, from_cents(int(row.cents)))
                for row in connection.execute(statement)
            ]

    @contextmanager
    def deciding(self) -> Iterator[DecisionBatch[RefundResult, Refund]]:
        try:
            with self._engine.begin() as connection:
                yield _Decisions(connection, self._outbox)
        except (DataError, IntegrityError) as exc:
            raise LedgerRefused(type(exc.orig).__name__) from exc

    def apply_results(self, results: Sequence[RefundResult]) -> list[Refund]:
        """``ApplyRefundResults`` on these refunds, as the results consumer runs it (tests decide refunds with it)."""
        return ApplyRefundResults(self)(results)


class _Decisions(DecisionBatch[RefundResult, Refund]):
    def __init__(self, connection: Connection, outbox: Outbox):
        self._connection = connection
        self._outbox = outbox

    def decide(self, results: Sequence[RefundResult]) -> list[Refund]:
        return [refund for result in results if (refund := _apply(self._connection, result)) is not None]

    def record_events(self, decided: Sequence[Refund]) -> None:
        self._outbox.record_refunds(self._connection, decided)


def _apply(connection: Connection, result: RefundResult) -> Refund | None:
    amount = _amount_or_none(result.amount)
    values: dict[str, object] = {
        "status": result.status,
        "failure_reason": result.failure_reason,
        "processed_at": parse_rfc3339(result.processed_at) or utc_now(),
    }
    if amount is not None or result.status == REFUND_SUCCEEDED:
        values["amount_cents"] = None if amount is None else to_cents(amount)
    changed = connection.execute(
        update(rf).where(rf.c.id == result.id, rf.c.status == REFUND_PENDING).values(values)
    ).rowcount
    if changed != 1:
        changed = _create_from_result(connection, result, amount, values)
    if changed != 1:
        return None  # already final: a redelivery, or another consumer was first
    return _refund(connection.execute(select(rf).where(rf.c.id == result.id)).first())


def _create_from_result(connection: Connection, result: RefundResult, amount: Decimal | None, values: dict) -> int:
    """The API crashed (or its ledger write failed) after the broker acknowledged the request."""
    row = {
        "id": result.id,
        "account_id": result.account_id,
        "transaction_id": result.transaction_id,
        "amount_cents": None if amount is None else to_cents(amount),
        "reason": None,
        "description": None,
        "created_at": values["processed_at"],
    } | values
    # INSERT IGNORE rather than insert_if_absent: with the FOUND_ROWS flag SQLAlchemy sets for MySQL, an
    # "ON DUPLICATE KEY UPDATE id = id" counts the existing row, and the rowcount must say "inserted".
    return connection.execute(_INSERT_IGNORE, [row]).rowcount


def _older_than(connection: Connection, cursor_id: str, account_id: str | None):
    scope = [] if account_id is None else [rf.c.account_id == account_id]
    cursor = connection.execute(select(rf.c.created_at, rf.c.id).where(rf.c.id == cursor_id, *scope)).first()
    if cursor is None:
        raise InvalidParameter("starting_after is not a refund of this listing.", param="starting_after")
    return or_(rf.c.created_at < cursor.created_at, and_(rf.c.created_at == cursor.created_at, rf.c.id < cursor.id))


def _row(r: Refund) -> dict:
    return {
        "id": r.id,
        "account_id": r.account_id,
        "transaction_id": r.transaction_id,
        "status": r.status,
        "amount_cents": None if r.amount is None else to_cents(r.amount),
        "reason": r.reason,
        "description": r.description,
        "failure_reason": r.failure_reason,
        "created_at": r.created_at,
        "processed_at": r.processed_at,
    }


def _refund(row) -> Refund:
    return Refund(
        row.id,
        row.account_id,
        row.transaction_id,
        row.status,
        from_cents(row.amount_cents) if row.amount_cents is not None else None,
        row.reason,
        row.created_at,
        row.description,
        row.failure_reason,
        row.processed_at,
    )


def _amount_or_none(value) -> Decimal | None:
    try:
        return parse_amount(value)
    except ValueError:
        return None


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
