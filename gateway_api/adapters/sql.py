"""Small SQL helpers that differ between SQLite and MySQL."""
from __future__ import annotations

from sqlalchemy import Connection, Dialect, Table, bindparam
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.sql import Insert

from infra.sql import PreparedStatement


def insert_if_absent_statement(table: Table, dialect_name: str) -> Insert:
    """An insert whose rows are skipped when their primary key exists; existing rows stay untouched."""
    if dialect_name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    # A no-op update on duplicates (unlike INSERT IGNORE it does not hide other errors).
    first_key = table.primary_key.columns.values()[0]
    statement = mysql.insert(table)
    return statement.on_duplicate_key_update({first_key.name: statement.inserted[first_key.name]})


def insert_if_absent(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert rows whose primary key does not exist yet; existing rows are left untouched."""
    if rows:
        connection.execute(insert_if_absent_statement(table, connection.dialect.name), rows)


def prepared_insert_if_absent(table: Table, dialect: Dialect) -> PreparedStatement:
    """The same, compiled once, for rows of every column (thousands a second: see PreparedStatement)."""
    statement = insert_if_absent_statement(table, dialect.name)
    return PreparedStatement(statement.values({column.name: bindparam(column.name) for column in table.columns}),
                             dialect)
