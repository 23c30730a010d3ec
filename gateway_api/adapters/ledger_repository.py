from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import Connection, Engine, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import DataError, IntegrityError

from infra.kernel.clock import parse_rfc3339, utc_now
from infra.kernel.contracts import TransactionResult
from infra.kernel.money import from_cents, parse_amount, to_cents
from infra.runtime.group_commit import Batch, GroupCommit, write_alone
from infra.runtime.sql import PreparedStatement

from gateway_api.adapters.outbox import Outbox
from gateway_api.adapters.sql import JoinedUpdate, prepared_insert_if_absent, prepared_insert_or_fill_in
from gateway_api.adapters.tables import transactions as tx
from gateway_api.domain.errors import InvalidParameter
from gateway_api.domain.reports import DailyTotal
from gateway_api.domain.results import may_decide
from gateway_api.domain.transactions import STATUS_PENDING, Transaction
from gateway_api.use_cases.apply_results import ApplyResults
from gateway_api.use_cases.ports import DecisionBatch, Ledger, LedgerRefused, ListQuery, Page, ResultLedger

# A result decides a row only while it is pending: a final status is never overwritten (domain.results).
_DECIDE = (
    update(tx)
    .where(tx.c.id == bindparam("b_id"), tx.c.status == STATUS_PENDING)
    .values(status=bindparam("b_status"), error_message=bindparam("b_error"), processed_at=bindparam("b_processed"))
)
# MySQL/MariaDB: the same for a whole batch in one statement (see JoinedUpdate).
_DECIDE_JOINED = JoinedUpdate(
    tx,
    match={"id": "b_id"},
    assign={"status": "b_status", "error_message": "b_error", "processed_at": "b_processed"},
    where="t.status = 'pending'",
)


class SqlLedger(Ledger, ResultLedger[TransactionResult, Transaction]):
    """Pending rows go through the process's group commit (``writes``) when it has one; decisions
    write their events and first webhook deliveries through the ``outbox`` in their transaction."""

    def __init__(self, engine: Engine, writes: GroupCommit | None = None, outbox: Outbox | None = None):
        self._engine = engine
        self._writes = writes
        self._outbox = outbox or Outbox(utc_now)
        # The results consumer writes thousands of rows a second, the API one per request: statements
        # compiled once.
        self._insert_new = prepared_insert_if_absent(tx, engine.dialect)
        # The description travels only in the pending row, not in the result: a row its decision
        # created first (the processor and the results consumer can beat the API's pending commit by a
        # few ms) takes it from the pending write, which changes nothing else of a decided row.
        self._pending_rows = _PendingRows(prepared_insert_or_fill_in(tx, engine.dialect, ["description"]))
        self._decide = PreparedStatement(_DECIDE, engine.dialect)
        # Every GET of a transaction (merchants poll it until it is decided): compiled once too.
        self._by_id = PreparedStatement(select(tx).where(tx.c.id == bindparam("id")), engine.dialect)

    def add_pending(self, transaction: Transaction) -> None:
        if self._writes is not None:
            self._writes.run(self._pending_rows, transaction)
        else:
            write_alone(self._engine, self._pending_rows, transaction)

    def get(self, transaction_id: str) -> Transaction | None:
        with self._engine.connect() as connection:
            rows = self._by_id.fetch(connection, {"id": transaction_id})
        return _transaction(_by_name(rows[0])) if rows else None

    def page(self, query: ListQuery) -> Page:
        conditions = _scope(query.account_id)
        if query.status:
            conditions.append(tx.c.status == query.status)
        if query.created_after:
            conditions.append(tx.c.created_at >= query.created_after)
        with self._engine.connect() as connection:
            if query.starting_after:
                conditions.append(_older_than(connection, query.starting_after, query.account_id))
            statement = (
                select(tx).where(*conditions).order_by(tx.c.created_at.desc(), tx.c.id.desc()).limit(query.limit + 1)
            )
            rows = connection.execute(statement).all()
        return Page([_transaction(row) for row in rows[: query.limit]], has_more=len(rows) > query.limit)

    @contextmanager
    def deciding(self) -> Iterator[DecisionBatch[TransactionResult, Transaction]]:
        try:
            with self._engine.begin() as connection:
                yield _Decisions(connection, self._insert_new, self._decide, self._outbox)
        except (DataError, IntegrityError) as exc:
            raise LedgerRefused(type(exc.orig).__name__) from exc

    def apply_results(self, results: Sequence[TransactionResult]) -> list[Transaction]:
        """``ApplyResults`` on this ledger, as the results consumer runs it (tests decide transactions with it)."""
        return ApplyResults(self)(results)

    def daily_totals(self, account_id: str | None, first: date, last: date) -> list[DailyTotal]:
        day = func.date(tx.c.created_at)
        statement = (
            select(
                day.label("day"),
                tx.c.status,
                tx.c.error_message,
                func.count().label("count"),
                func.coalesce(func.sum(tx.c.amount_cents), 0).label("cents"),
            )
            .where(*_scope(account_id), *_on_days(first, last))
            .group_by(day, tx.c.status, tx.c.error_message)
        )
        with self._engine.connect() as connection:
            return [
                DailyTotal(_as_date(row.day), row.status, row.error_message, row.count, from_cents(int(row.cents)))
                for row in connection.execute(statement)
            ]

    def oldest_pending_created_at(self) -> datetime | None:
        statement = select(func.min(tx.c.created_at)).where(tx.c.status == STATUS_PENDING)
        with self._engine.connect() as connection:
            oldest = connection.execute(statement).scalar()
        return _as_datetime(oldest) if oldest is not None else None


class _Decisions(DecisionBatch[TransactionResult, Transaction]):
    def __init__(
        self, connection: Connection, insert_new: PreparedStatement, decide: PreparedStatement, outbox: Outbox
    ):
        self._connection = connection
        self._insert_new = insert_new
        self._decide = decide
        self._outbox = outbox

    def decide(self, results: Sequence[TransactionResult]) -> list[Transaction]:
        connection = self._connection
        before = {row.id: row for row in connection.execute(select(tx).where(tx.c.id.in_([r.id for r in results])))}
        # A final status is never overwritten (may_decide): rows read final are left out, and _DECIDE's
        # condition keeps the rule against another applier writing since the read.
        decisions = {
            result.id: _decision(result)
            for result in results
            if may_decide(before[result.id].status if result.id in before else None)
        }
        # A result may come before the API wrote its pending row (crash, or plain ordering): create the
        # row from the result; otherwise decide the pending row. Both are idempotent.
        self._insert_new.execute_many(
            connection,
            [
                _row_from_result(result, decisions[result.id])
                for result in results
                if result.id in decisions and result.id not in before
            ],
        )
        if connection.dialect.name == "sqlite":
            changed = self._decide.execute_many(connection, decisions.values())
        else:
            changed = _DECIDE_JOINED.execute(connection, list(decisions.values()))
        return _decided(connection, before, decisions, changed)

    def record_events(self, decided: Sequence[Transaction]) -> None:
        self._outbox.record(self._connection, decided)


def _decided(connection, before: dict, decisions: dict[str, dict], changed: int) -> list[Transaction]:
    """The rows these decisions made final, as they now are.

    When the UPDATE changed every row it was given and all of them were pending when read, they are
    the rows read before with the decision applied. Otherwise another applier (a consumer that has
    not yet noticed it lost its partitions, and the new owner) or the API wrote some of them since
    the read: the rows are read back in this transaction and only those that carry this decision
    count (another applier's identical decision has the same event id, so the outbox keeps one).
    """
    if changed == len(decisions) and all(id_ in before for id_ in decisions):
        return [
            replace(
                _transaction(before[id_]),
                status=values["b_status"],
                error_message=values["b_error"],
                processed_at=values["b_processed"],
            )
            for id_, values in decisions.items()
        ]
    rows = connection.execute(select(tx).where(tx.c.id.in_(list(decisions)))).all()
    return [_transaction(row) for row in rows if _carries(row, decisions.get(row.id))]


def _carries(row, decision: dict | None) -> bool:
    return decision is not None and (row.status, row.error_message or "") == (decision["b_status"], decision["b_error"])


class _PendingRows(Batch[Transaction, None]):
    def __init__(self, insert_new: PreparedStatement):
        self._insert_new = insert_new

    def write(self, connection: Connection, items: Sequence[Transaction]) -> list[None]:
        self._insert_new.execute_many(connection, [_row(transaction) for transaction in items])
        return [None] * len(items)


def _scope(account_id: str | None) -> list:
    return [] if account_id is None else [tx.c.account_id == account_id]


def _on_days(first: date, last: date) -> list:
    """Created from the start of ``first`` to the end of ``last``; 9999-12-31 has no next day."""
    conditions = [tx.c.created_at >= datetime.combine(first, time())]
    if last < date.max:
        conditions.append(tx.c.created_at < datetime.combine(last + timedelta(days=1), time()))
    return conditions


def _older_than(connection, cursor_id: str, account_id: str | None):
    cursor = connection.execute(
        select(tx.c.created_at, tx.c.id).where(tx.c.id == cursor_id, *_scope(account_id))
    ).first()
    if cursor is None:
        raise InvalidParameter("starting_after is not a transaction of this listing.", param="starting_after")
    return or_(tx.c.created_at < cursor.created_at, and_(tx.c.created_at == cursor.created_at, tx.c.id < cursor.id))


def _as_datetime(value) -> datetime:
    """SQLite hands MIN() of a DateTime column back as text."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _row(t: Transaction) -> dict:
    return {
        "id": t.id,
        "account_id": t.account_id,
        "status": t.status,
        "amount_cents": None if t.amount is None else to_cents(t.amount),
        "card_brand": t.card_brand,
        "card_last4": t.card_last4,
        "description": t.description,
        "error_message": t.error_message,
        "created_at": t.created_at,
        "processed_at": t.processed_at,
    }


_COLUMN_NAMES = tuple(column.name for column in tx.columns)


def _by_name(values: tuple) -> SimpleNamespace:
    """A row of ``select(tx)`` from a prepared fetch, read by column name like SQLAlchemy's rows."""
    return SimpleNamespace(**dict(zip(_COLUMN_NAMES, values, strict=True)))


def _transaction(row) -> Transaction:
    amount = None if row.amount_cents is None else from_cents(row.amount_cents)
    return Transaction(
        row.id,
        row.account_id,
        row.status,
        amount,
        row.card_brand,
        row.card_last4,
        row.created_at,
        row.description,
        row.error_message or "",
        row.processed_at,
    )


def _row_from_result(result: TransactionResult, decision: dict) -> dict:
    processed_at = decision["b_processed"]
    return _row(
        Transaction(
            id=result.id,
            account_id=result.account_id or "",
            status=result.status,
            amount=_amount_or_none(result.amount),
            card_brand=result.card_brand,
            card_last4=(result.card_last4 or None) and result.card_last4[-4:],
            created_at=parse_rfc3339(result.created_at) or processed_at,
            error_message=decision["b_error"],
            processed_at=processed_at,
        )
    )


def _decision(result: TransactionResult) -> dict:
    return {
        "b_id": result.id,
        "b_status": result.status,
        "b_error": (result.error_message or "")[:255],
        "b_processed": parse_rfc3339(result.processed_at) or utc_now(),
    }


def _amount_or_none(value) -> Decimal | None:
    try:
        return parse_amount(value)
    except ValueError:
        return None
