"""Statements run many times a second with many rows: compiled once, rows converted the driver's way."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from operator import itemgetter

from sqlalchemy import Connection, Dialect
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

_SQLITE_DEFAULT_FORMAT = sqlite.DATETIME()._storage_format


class PreparedStatement:
    """A Core statement (with named ``bindparam``s) compiled once for a dialect.

    ``connection.execute(statement, rows)`` rebuilds and converts every row's parameters inside
    SQLAlchemy, which costs more than the database's own work for small rows. Here only parameters
    whose type converts anything (timestamps on SQLite) go through their type's bind processor, so
    the driver receives what SQLAlchemy would have sent it; values bound in the statement itself
    (``values(lock=None)``, ``where(status == "pending")``) are filled in from the compilation.
    """

    def __init__(self, statement: Executable, dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        order = compiled.positiontup  # positional drivers (sqlite3, "?"); None for named ones (PyMySQL)
        names = set(order or compiled.params)
        self._in_order = _positional(order) if order else None
        self._defaults = {name: value for name, value in compiled.params.items() if name in names}
        processors = (
            (name, _bind_processor(bind.type.dialect_impl(dialect), dialect))
            for name, bind in compiled.binds.items()
            if name in names
        )
        self._converters = [(name, convert) for name, convert in processors if convert is not None]
        results = [
            column[3].dialect_impl(dialect).result_processor(dialect, None) for column in compiled._result_columns
        ]
        self._results = results if any(results) else []

    def execute_many(self, connection: Connection, rows: Iterable[dict]) -> int:
        """The rows the statement matched, summed over ``rows`` (the driver's row count), written on
        the driver's cursor (``_on_driver_cursor``) in the connection's transaction: a one-row insert
        on SQLite in a transaction 8.7 -> 4.6 us, eight rows 27.5 -> 23.0 (on MariaDB the round trip
        dominates); the API's group commit makes one or two per commit."""
        prepared = [self._prepare(row) for row in rows]
        if not prepared:
            return 0
        if not connection.in_transaction():
            connection.begin()  # what exec_driver_sql's autobegin did: the caller's commit() ends it
        if len(prepared) == 1:
            return self._on_driver_cursor(connection, prepared[0])[0]
        return self._on_driver_cursor(connection, prepared, many=True)[0]

    def execute(self, connection: Connection, values: dict):
        """One execution; the driver's cursor result (rows as the driver returns them: see ``fetch``)."""
        return connection.exec_driver_sql(self.sql, self._prepare(values))

    def fetch(self, connection: Connection, values: dict) -> list[tuple]:
        """The selected rows, each value converted as SQLAlchemy would (SQLite's timestamps are text),
        read on the driver's cursor (``_on_driver_cursor``): a one-row GET by primary key on SQLite
        74 -> 35 us."""
        rows = self._on_driver_cursor(connection, self._prepare(values))[1]
        if not self._results:
            return [tuple(row) for row in rows]
        return [
            tuple(
                value if convert is None or value is None else convert(value)
                for value, convert in zip(row, self._results, strict=True)
            )
            for row in rows
        ]

    def _on_driver_cursor(self, connection: Connection, parameters, many: bool = False) -> tuple[int, Sequence]:
        """Run the statement on a cursor of the connection's DBAPI connection (in its transaction, if
        one is open): the driver's row count and the rows it selected (none for a write).

        ``exec_driver_sql`` builds an execution context and a result for each call (~48 of the 74 us a
        one-row read took, ~4 us of a one-row insert). A driver error is raised as SQLAlchemy raises it
        (``DBAPIError`` and its subclasses, with the statement), and a lost connection is invalidated
        so the pool does not hand it out again."""
        driver = connection.connection
        cursor = driver.cursor()
        try:
            if many:
                cursor.executemany(self.sql, parameters)
            else:
                cursor.execute(self.sql, parameters)
            return cursor.rowcount, cursor.fetchall() if cursor.description is not None else []
        except connection.dialect.loaded_dbapi.Error as error:
            raise self._wrapped(connection, error, parameters, driver, cursor) from error
        finally:
            cursor.close()

    def _wrapped(self, connection: Connection, error, parameters, driver, cursor) -> BaseException:
        dialect = connection.dialect
        lost = dialect.is_disconnect(error, driver, cursor)
        if lost:
            connection.invalidate(error)
        return DBAPIError.instance(
            self.sql,
            parameters,
            error,
            dialect.loaded_dbapi.Error,
            hide_parameters=connection.engine.hide_parameters,
            connection_invalidated=lost,
            dialect=dialect,
        )

    def _prepare(self, row: dict):
        values = self._defaults | row
        for name, convert in self._converters:
            values[name] = convert(values[name])
        return self._in_order(values) if self._in_order else values


class PreparedForEach:
    """A statement over n rows at once (``WHERE (a = ? AND b = ?) OR ...``), compiled once per n.

    ``build(n)`` returns the statement with the parameters of row i named ``{name}{i}``; ``execute``
    and ``fetch`` take the rows as dicts of ``{name: value}``, at most CHUNK per statement: a
    compilation holds the GIL for milliseconds (~12 ms for 64 rows, ~130 for 500), so only
    CHUNK of them ever happen, and a commit of more rows runs a statement per chunk.
    """

    CHUNK = 16

    def __init__(self, build: Callable[[int], Executable], dialect: Dialect):
        self._build = build
        self._dialect = dialect
        self._by_count: dict[int, PreparedStatement] = {}

    def execute(self, connection: Connection, rows: Sequence[dict]) -> int:
        """The rows the statements matched."""
        return sum(
            self._prepared(len(chunk)).execute(connection, _numbered(chunk)).rowcount for chunk in self._chunks(rows)
        )

    def fetch(self, connection: Connection, rows: Sequence[dict]) -> list[tuple]:
        return [
            row
            for chunk in self._chunks(rows)
            for row in self._prepared(len(chunk)).fetch(connection, _numbered(chunk))
        ]

    def _chunks(self, rows: Sequence[dict]) -> list[Sequence[dict]]:
        return [rows[start : start + self.CHUNK] for start in range(0, len(rows), self.CHUNK)]

    def _prepared(self, count: int) -> PreparedStatement:
        prepared = self._by_count.get(count)
        if prepared is None:
            prepared = self._by_count[count] = PreparedStatement(self._build(count), self._dialect)
        return prepared


def _numbered(rows: Sequence[dict]) -> dict:
    return {f"{name}{i}": value for i, row in enumerate(rows) for name, value in row.items()}


def _bind_processor(impl, dialect: Dialect):
    """The type's own bind processor, except SQLite timestamps in SQLAlchemy's default format: the
    same text from ``isoformat`` in a third of the time (they are most of what a row converts)."""
    convert = impl.bind_processor(dialect)
    if convert is None or not isinstance(impl, sqlite.DATETIME) or impl._storage_format != _SQLITE_DEFAULT_FORMAT:
        return convert

    def iso(value):
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return convert(value)

    return iso


def _positional(order: list[str]):
    """The values of a parameter dict as the tuple a positional driver wants."""
    getter = itemgetter(*order)
    return getter if len(order) > 1 else lambda values: (getter(values),)
