"""The processor's refund tables (migration p0002_refunds creates them).

Amounts are integer cents: SQLite has no decimal type, and the limit is an arithmetic comparison
the database itself makes (``refunded_cents + :cents <= approved_cents``), which must be exact.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, String, Table

from processor.adapters.tables import Identifier, Timestamp, metadata

refunds = Table(
    "refunds",
    metadata,
    Column("id", Identifier, primary_key=True),
    Column("transaction_id", Identifier, nullable=False),
    Column("account_id", Identifier, nullable=False),
    Column("status", String(16), nullable=False),
    Column("amount_cents", BigInteger, nullable=True),
    Column("failure_reason", String(40), nullable=True),
    Column("amount_refunded_cents", BigInteger, nullable=False),
    Column("processed_at", Timestamp(), nullable=False),
    Index("ix_refunds_transaction", "transaction_id"),
)

# One row per refunded payment: its approved amount and what was refunded of it. The conditional
# update and the CHECK make over-refunding impossible for any writer, in any order.
refund_balances = Table(
    "refund_balances",
    metadata,
    Column("transaction_id", Identifier, primary_key=True),
    Column("approved_cents", BigInteger, nullable=False),
    Column("refunded_cents", BigInteger, nullable=False),
    CheckConstraint(
        "refunded_cents >= 0 AND refunded_cents <= approved_cents", name="ck_refund_balances_within_approved"
    ),
)
