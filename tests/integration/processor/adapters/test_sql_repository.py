"""The SQLAlchemy repository, the same tests on SQLite and on MariaDB."""

from datetime import datetime
from decimal import Decimal

import sqlalchemy

from infra.runtime.db import migrate

from processor.adapters.sql_repository import PreparedInsert, SqlTransactionRepository, _insert_new
from processor.bootstrap import MIGRATIONS
from processor.domain.transaction import Outcome

NOW = datetime(2026, 6, 15, 12, 0, 0, 123456)
LATER = datetime(2026, 6, 15, 13, 0, 0)


def outcome(id, status="approved", amount="10.50", processed_at=NOW, **changes):
    fields = dict(
        id=id,
        account_id="acct-1",
        status=status,
        error_message="" if status == "approved" else "x",
        amount=None if amount is None else Decimal(amount),
        card_brand="visa",
        card_last4="1111",
        created_at=datetime(2026, 6, 15, 11, 59, 59, 999999),
        processed_at=processed_at,
    )
    return Outcome(**(fields | changes))


def test_stores_a_batch_and_reads_it_back_exactly(engine):
    repository = SqlTransactionRepository(engine)
    batch = [
        outcome("a"),
        outcome("b", "rejected", amount=None, card_brand=None, card_last4=None, created_at=None),
        outcome("c", amount="9999999999.99"),
        outcome("d", amount="-5.00"),
    ]
    assert repository.add_new(batch) == batch
    assert [repository.get(o.id) for o in batch] == batch
    assert repository.get("missing") is None


def test_known_ids_keep_their_stored_outcome_and_no_second_row(engine):
    repository = SqlTransactionRepository(engine)
    first = [outcome(f"id-{i}") for i in range(5)]
    repository.add_new(first)
    again = [outcome(f"id-{i}", "rejected", processed_at=LATER) for i in range(3, 8)]
    stored = repository.add_new(again)
    assert stored[:2] == first[3:] and stored[2:] == again[2:]
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT COUNT(*) FROM transactions").scalar() == 8


def test_ids_differing_only_in_case_are_different_transactions(engine):
    repository = SqlTransactionRepository(engine)
    batch = [outcome("Tx-A"), outcome("tx-a", "rejected")]
    assert repository.add_new(batch) == batch


def test_a_large_batch_with_some_known_ids_reads_back_in_chunks(engine):
    repository = SqlTransactionRepository(engine)
    repository.add_new([outcome(f"id-{i}") for i in range(0, 3000, 2)])
    stored = repository.add_new([outcome(f"id-{i}", "rejected", processed_at=LATER) for i in range(3000)])
    assert [o.status for o in stored] == ["approved", "rejected"] * 1500


def test_prepared_rows_are_what_sqlalchemy_itself_would_hand_the_driver(engine):
    batch = [outcome("a"), outcome("b", "rejected", amount=None, card_brand=None, card_last4=None, created_at=None)]
    sent = []
    sqlalchemy.event.listen(
        engine,
        "before_cursor_execute",
        lambda _conn, _cursor, _sql, parameters, _context, _many: sent.append(parameters),
    )
    with engine.connect() as connection:  # never committed: only the parameters matter
        connection.execute(_insert_new, [o._asdict() for o in batch])
    prepared = PreparedInsert(engine.dialect)
    assert list(sent[0]) == prepared.rows(batch)


def test_migrations_are_idempotent_and_use_their_own_version_table(migrated_url):
    migrate(migrated_url, MIGRATIONS)
    inspector_engine = sqlalchemy.create_engine(migrated_url)
    try:
        tables = set(sqlalchemy.inspect(inspector_engine).get_table_names())
        indexes = {ix["name"] for ix in sqlalchemy.inspect(inspector_engine).get_indexes("transactions")}
    finally:
        inspector_engine.dispose()
    assert {"transactions", "processor_alembic_version"} <= tables and "alembic_version" not in tables
    assert "ix_transactions_account_processed" in indexes


def test_outcome_fields_are_exactly_the_table_columns():
    from processor.adapters.tables import transactions

    assert set(Outcome._fields) == {c.name for c in transactions.columns}
