"""Statements run many times a second with many rows: compiled once, rows converted the driver's way."""
from __future__ import annotations

from collections.abc import Iterable
from operator import itemgetter

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import Executable


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
        processors = ((name, bind.type.dialect_impl(dialect).bind_processor(dialect))
                      for name, bind in compiled.binds.items() if name in names)
        self._converters = [(name, convert) for name, convert in processors if convert is not None]

    def execute_many(self, connection: Connection, rows: Iterable[dict]) -> None:
        prepared = [self._prepare(row) for row in rows]
        if prepared:
            connection.exec_driver_sql(self.sql, prepared)

    def _prepare(self, row: dict):
        values = self._defaults | row
        for name, convert in self._converters:
            values[name] = convert(values[name])
        return self._in_order(values) if self._in_order else values


def _positional(order: list[str]):
    """The values of a parameter dict as the tuple a positional driver wants."""
    getter = itemgetter(*order)
    return getter if len(order) > 1 else lambda values: (getter(values),)
