"""Refunds: one row per refund asked through the API, decided by the processor.

Revision ID: 0008_refunds
Revises: 0007_operators_audit
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0008_refunds"
down_revision = "0007_operators_audit"
branch_labels = None
depends_on = None
# The code heads that keep working on this schema (docs/deploy.md, "Migrations and releases").
compatible_with: tuple[str, ...] = ("0007_operators_audit",)

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
IDENTIFIER = sa.String(100).with_variant(
    mysql.VARCHAR(100, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)


def upgrade() -> None:
    op.create_table(
        "gateway_refunds",
        sa.Column("id", IDENTIFIER, primary_key=True),
        sa.Column("account_id", IDENTIFIER, nullable=False),
        sa.Column("transaction_id", IDENTIFIER, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("failure_reason", sa.String(40), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("processed_at", Timestamp, nullable=True),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_gateway_refunds_account_created", "gateway_refunds", ["account_id", "created_at", "id"])
    op.create_index("ix_gateway_refunds_transaction", "gateway_refunds", ["transaction_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_gateway_refunds_transaction", table_name="gateway_refunds")
    op.drop_index("ix_gateway_refunds_account_created", table_name="gateway_refunds")
    op.drop_table("gateway_refunds")
