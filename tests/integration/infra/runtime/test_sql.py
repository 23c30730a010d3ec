"""infra.runtime.sql.PreparedStatement on SQLite and MariaDB: the driver gets what SQLAlchemy would send."""

from datetime import datetime

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, bindparam, select, update
from sqlalchemy.dialects import mysql
from sqlalchemy.exc import DBAPIError, IntegrityError

from infra.runtime.db import build_engine
from infra.runtime.sql import PreparedStatement

metadata = MetaData()
things = Table(
    "prepared_things",
    metadata,
    Column("id", String(20), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("seen_at", DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")),
    Column("state", String(10), nullable=False),
    Column("lock", String(10), nullable=True),
)

AT = datetime(2026, 11, 23, 10, 0, 0, 123456)


@pytest.fixture
def engine(database_url):
    engine = build_engine(database_url)
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def test_inserts_and_updates_many_rows_with_converted_and_literal_parameters(engine):
    insert = PreparedStatement(
        things.insert().values({name: bindparam(name) for name in ("id", "count", "seen_at", "state", "lock")}),
        engine.dialect,
    )
    # Literal parts of the statement (lock=None, state == "new") are filled in from the compilation.
    touch = PreparedStatement(
        update(things)
        .where(things.c.id == bindparam("b_id"), things.c.state == "new")
        .values(count=bindparam("b_count"), seen_at=bindparam("b_at"), lock=None),
        engine.dialect,
    )
    with engine.begin() as connection:
        insert.execute_many(
            connection,
            [
                {"id": f"t{i}", "count": i, "seen_at": AT, "state": "new" if i % 2 else "old", "lock": "held"}
                for i in range(4)
            ],
        )
        touch.execute_many(connection, [{"b_id": f"t{i}", "b_count": 10 + i, "b_at": None} for i in range(4)])
        touch.execute_many(connection, [])
        rows = connection.execute(select(things).order_by(things.c.id)).all()
    assert [tuple(row) for row in rows] == [
        ("t0", 0, AT, "old", "held"),
        ("t1", 11, None, "new", None),
        ("t2", 2, AT, "old", "held"),
        ("t3", 13, None, "new", None),
    ]


@pytest.mark.parametrize("moment", [AT, AT.replace(microsecond=0), datetime(999, 1, 2, 3, 4, 5, 6)])
def test_sqlite_timestamps_are_stored_as_sqlalchemy_stores_them(sqlite_url, moment):
    engine = build_engine(sqlite_url)
    metadata.create_all(engine)
    insert = PreparedStatement(
        things.insert().values({name: bindparam(name) for name in ("id", "count", "seen_at", "state", "lock")}),
        engine.dialect,
    )
    with engine.begin() as connection:
        insert.execute_many(connection, [{"id": "prepared", "count": 1, "seen_at": moment, "state": "s", "lock": None}])
        connection.execute(things.insert(), {"id": "core", "count": 1, "seen_at": moment, "state": "s"})
        stored = dict(connection.exec_driver_sql("SELECT id, seen_at FROM prepared_things").all())
    engine.dispose()
    assert stored["prepared"] == stored["core"]


def test_a_fetch_reads_inside_the_connections_transaction_with_values_converted(engine):
    """fetch() reads through the driver's cursor: on the connection's own transaction (it sees that
    transaction's uncommitted rows, as any statement on it would), timestamps converted as SQLAlchemy
    converts them."""
    insert = PreparedStatement(
        things.insert().values(id=bindparam("id"), count=1, seen_at=AT, state="new"), engine.dialect
    )
    by_id = PreparedStatement(
        select(things.c.id, things.c.seen_at).where(things.c.id == bindparam("id")), engine.dialect
    )
    with engine.connect() as connection:
        with connection.begin() as transaction:
            insert.execute_many(connection, [{"id": "t1"}])
            assert by_id.fetch(connection, {"id": "t1"}) == [("t1", AT)]
            transaction.rollback()
        assert by_id.fetch(connection, {"id": "t1"}) == []


def test_a_failed_fetch_raises_sqlalchemys_error_with_the_statement(engine):
    by_id = PreparedStatement(select(things.c.id).where(things.c.id == bindparam("id")), engine.dialect)
    metadata.drop_all(engine)
    with engine.connect() as connection, pytest.raises(DBAPIError) as raised:
        by_id.fetch(connection, {"id": "t1"})
    assert raised.value.statement == by_id.sql and not raised.value.connection_invalidated
    metadata.create_all(engine)


@pytest.fixture
def mariadb_engine(mysql_url):
    engine = build_engine(mysql_url)
    metadata.create_all(engine)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def kill_session_of(engine, connection) -> None:
    """End ``connection``'s MariaDB session from another one, as a server restart or a timeout would."""
    session = connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
    with engine.connect() as killer:
        killer.exec_driver_sql(f"KILL {int(session)}")


def test_a_fetch_on_a_lost_mariadb_connection_invalidates_it_and_the_pool_connects_afresh(mariadb_engine):
    engine = mariadb_engine
    by_id = PreparedStatement(select(things.c.id).where(things.c.id == bindparam("id")), engine.dialect)
    with engine.connect() as connection:
        kill_session_of(engine, connection)
        with pytest.raises(DBAPIError) as raised:
            by_id.fetch(connection, {"id": "t1"})
        assert raised.value.connection_invalidated and connection.invalidated
    with engine.connect() as connection:
        assert by_id.fetch(connection, {"id": "t1"}) == []


def _insert(engine) -> PreparedStatement:
    return PreparedStatement(
        things.insert().values(id=bindparam("id"), count=bindparam("count"), seen_at=AT, state="new"), engine.dialect
    )


def _stored(engine) -> list[tuple]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(select(things.c.id, things.c.count).order_by(things.c.id))]


def test_writes_belong_to_the_connections_transaction_rolled_back_with_it_and_kept_by_an_autobegun_commit(engine):
    """execute_many writes through the driver's cursor: in the transaction the connection has open, or
    in one it begins as exec_driver_sql's autobegin did, which the caller's commit() ends."""
    insert = _insert(engine)
    with engine.connect() as connection:
        with connection.begin() as transaction:
            assert insert.execute_many(connection, [{"id": "gone", "count": 1}, {"id": "gone2", "count": 2}]) == 2
            transaction.rollback()
        assert insert.execute_many(connection, [{"id": "kept", "count": 3}]) == 1
        assert connection.in_transaction()
        connection.commit()
    assert _stored(engine) == [("kept", 3)]


def test_a_failed_write_raises_sqlalchemys_error_with_the_statement_and_the_transaction_rolls_back(engine):
    insert = _insert(engine)
    with engine.begin() as connection:
        insert.execute_many(connection, [{"id": "t1", "count": 1}])
    with pytest.raises(IntegrityError) as raised, engine.begin() as connection:
        insert.execute_many(connection, [{"id": "t2", "count": 2}])
        insert.execute_many(connection, [{"id": "t3", "count": 3}, {"id": "t1", "count": 4}])
    assert raised.value.statement == insert.sql and not raised.value.connection_invalidated
    assert _stored(engine) == [("t1", 1)]


def test_a_write_on_a_lost_mariadb_connection_invalidates_it_and_the_pool_connects_afresh(mariadb_engine):
    engine = mariadb_engine
    insert = _insert(engine)
    with engine.connect() as connection:
        kill_session_of(engine, connection)
        with pytest.raises(DBAPIError) as raised:
            insert.execute_many(connection, [{"id": "t1", "count": 1}])
        assert raised.value.connection_invalidated and connection.invalidated
    with engine.begin() as connection:
        assert insert.execute_many(connection, [{"id": "t1", "count": 1}]) == 1
    assert _stored(engine) == [("t1", 1)]
