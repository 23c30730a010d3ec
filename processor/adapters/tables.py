"""The ``transactions`` table as SQLAlchemy Core sees it (the migrations create it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, DateTime, Index, MetaData, Numeric, String, Table
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator

from processor.domain.money import CENTS

metadata = MetaData()

# Ids compare byte for byte (MariaDB's default collation would make "A1" and "a1" one id).
Identifier = String(100).with_variant(mysql.VARCHAR(100, collation="utf8mb4_bin"), "mysql", "mariadb")


class Timestamp(TypeDecorator):
    """A naive UTC datetime with microseconds on every backend.

    MySQL: DATETIME(6), so a stored outcome reads back exactly as it was published. SQLite has no
    datetime type: the text is the one SQLAlchemy's DateTime would write, but made by ``isoformat``
    in C rather than by a Python format per value (it is bound twice per row at volume).
    """

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String())
        return dialect.type_descriptor(mysql.DATETIME(fsp=6) if dialect.name in ("mysql", "mariadb") else DateTime())

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        return value.isoformat(" ", "microseconds")  # sep, timespec: positional is faster

    def process_result_value(self, value, dialect):
        return datetime.fromisoformat(value) if isinstance(value, str) else value


class MoneyType(TypeDecorator):
    """DECIMAL(12, 2) in and out as ``Decimal``, also on SQLite, which has no decimal type.

    SQLite stores the column with NUMERIC affinity (a REAL for cents): 12 significant digits
    survive a float round trip exactly, and the value is quantized back to cents on the way out.
    """

    impl = Numeric(12, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(Numeric(12, 2) if dialect.supports_native_decimal else String())

    def process_bind_param(self, value, dialect):
        return value if value is None or dialect.supports_native_decimal else str(value)

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(str(value)).quantize(CENTS)


transactions = Table(
    "transactions",
    metadata,
    Column("id", Identifier, primary_key=True),
    Column("account_id", Identifier, nullable=False),
    Column("amount", MoneyType(), nullable=True),
    Column("status", String(16), nullable=False),
    Column("error_message", String(100), nullable=False),
    Column("card_brand", String(20), nullable=True),
    Column("card_last4", String(4), nullable=True),
    Column("created_at", Timestamp(), nullable=True),
    Column("processed_at", Timestamp(), nullable=False),
    Index("ix_transactions_account_processed", "account_id", "processed_at"),
)
