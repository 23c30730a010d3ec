"""create transactions

Revision ID: p0001
Revises:
Create Date: 2026-01-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "p0001"
down_revision = None
branch_labels = None
depends_on = None
# The code heads that keep working on this schema (docs/operations.md, "Releases with a migration").
compatible_with: tuple[str, ...] = ()

IDENTIFIER = sa.String(100).with_variant(mysql.VARCHAR(100, collation="utf8mb4_bin"), "mysql", "mariadb")
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "transactions",
        sa.Column("id", IDENTIFIER, primary_key=True),
        sa.Column("account_id", IDENTIFIER, nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_message", sa.String(100), nullable=False),
        sa.Column("card_brand", sa.String(20), nullable=True),
        sa.Column("card_last4", sa.String(4), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=True),
        sa.Column("processed_at", TIMESTAMP, nullable=False),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_transactions_account_processed", "transactions", ["account_id", "processed_at"])


def downgrade() -> None:
    op.drop_index("ix_transactions_account_processed", table_name="transactions")
    op.drop_table("transactions")
