"""Small SQL helpers that differ between SQLite and MySQL."""
from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import mysql, sqlite


def insert_if_absent(connection: Connection, table: Table, rows: list[dict]) -> None:
    """Insert rows whose primary key does not exist yet; existing rows are left untouched."""
    if not rows:
        return
    if connection.dialect.name == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing()
    else:
        # A no-op update on duplicates (unlike INSERT IGNORE it does not hide other errors).
        first_key = table.primary_key.columns.values()[0]
        statement = mysql.insert(table)
        statement = statement.on_duplicate_key_update({first_key.name: statement.inserted[first_key.name]})
    connection.execute(statement, rows)
