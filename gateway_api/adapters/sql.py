"""Small SQL helpers that differ between SQLite and MySQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Dialect, Table, bindparam, func
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.sql import Insert

from infra.runtime.sql import PreparedStatement


def insert_if_absent_statement(table: Table, dialect_name: str) -> Insert:
    """An insert whose rows are skipped when their primary key exists; existing rows stay untouched."""
    if dialect_name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing()
    # A no-op update on duplicates (unlike INSERT IGNORE it does not hide other errors).
    first_key = table.primary_key.columns.values()[0]
    statement = mysql.insert(table)
    return statement.on_duplicate_key_update({first_key.name: statement.inserted[first_key.name]})


def prepared_insert_or_fill_in(table: Table, dialect: Dialect, columns: list[str]) -> PreparedStatement:
    """Rows of every column, compiled once; where the primary key exists, only ``columns`` the row
    still holds NULL in take the new row's values (everything else stays as it is)."""
    values: dict[str, Any] = {column.name: bindparam(column.name) for column in table.columns}
    if dialect.name == "sqlite":
        lite = sqlite.insert(table).values(values)
        fill = {name: func.coalesce(table.c[name], lite.excluded[name]) for name in columns}
        return PreparedStatement(
            lite.on_conflict_do_update(index_elements=list(table.primary_key.columns), set_=fill), dialect
        )
    my = mysql.insert(table).values(values)
    fill = {name: func.coalesce(table.c[name], my.inserted[name]) for name in columns}
    return PreparedStatement(my.on_duplicate_key_update(fill), dialect)


def insert_if_absent(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert rows whose primary key does not exist yet; existing rows are left untouched."""
    if rows:
        connection.execute(insert_if_absent_statement(table, connection.dialect.name), rows)


def prepared_insert_if_absent(table: Table, dialect: Dialect) -> PreparedStatement:
    """The same, compiled once, for rows of every column (thousands a second: see PreparedStatement)."""
    statement = insert_if_absent_statement(table, dialect.name)
    return PreparedStatement(
        statement.values({column.name: bindparam(column.name) for column in table.columns}), dialect
    )


class JoinedUpdate:
    """MySQL/MariaDB: many rows updated by one ``UPDATE t JOIN (SELECT ... UNION ALL SELECT ...) v``.

    PyMySQL runs an UPDATE executemany as one round trip per row; at a thousand rows a second that
    kept the results consumer and the webhook dispatcher waiting on the network. ``match`` and ``assign``
    map the table's columns to the rows' keys (``None`` assigns NULL); ``where`` adds a condition on
    the table's own columns (``t``). Names come from our table definitions, never from input.
    """

    def __init__(self, table: Table, match: dict[str, str], assign: dict[str, str | None], where: str = ""):
        self._keys = list(dict.fromkeys([*match.values(), *(key for key in assign.values() if key)]))
        on = " AND ".join([f"t.{column} = v.{key}" for column, key in match.items()] + ([where] if where else []))
        sets = ", ".join(f"t.{column} = " + (f"v.{key}" if key else "NULL") for column, key in assign.items())
        self._sql = f"UPDATE {table.name} t JOIN ({{rows}}) v ON {on} SET {sets}"
        self._first = "SELECT " + ", ".join(f"%s AS {key}" for key in self._keys)
        self._next = "SELECT " + ", ".join("%s" for _ in self._keys)

    def execute(self, connection: Connection, rows: list[dict]) -> int:
        """The rows matched (SQLAlchemy's MySQL dialects ask for found rows, not changed rows)."""
        if not rows:
            return 0
        derived = " UNION ALL ".join([self._first] + [self._next] * (len(rows) - 1))
        values = tuple(row[key] for row in rows for key in self._keys)
        return connection.exec_driver_sql(self._sql.format(rows=derived), values).rowcount
