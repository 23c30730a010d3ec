"""The merchant-facing ledger: accounts, transactions (brand + last 4 only), idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None
# The code heads that keep working on this schema (docs/operations.md, "Releases with a migration").
compatible_with: tuple[str, ...] = ()

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
CaseSensitiveKey = sa.String(255).with_variant(mysql.VARCHAR(255, collation="utf8mb4_bin"), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "gateway_accounts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_table(
        "gateway_transactions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=True),
        sa.Column("card_brand", sa.String(32), nullable=True),
        sa.Column("card_last4", sa.String(4), nullable=True),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("error_message", sa.String(255), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("processed_at", Timestamp, nullable=True),
    )
    op.create_index(
        "ix_gateway_transactions_account_created", "gateway_transactions", ["account_id", "created_at", "id"]
    )
    op.create_index("ix_gateway_transactions_created", "gateway_transactions", ["created_at", "id"])
    op.create_table(
        "gateway_idempotency_keys",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("idempotency_key", CaseSensitiveKey, primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("transaction_id", sa.String(64), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("completed", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gateway_idempotency_keys")
    op.drop_index("ix_gateway_transactions_created", "gateway_transactions")
    op.drop_index("ix_gateway_transactions_account_created", "gateway_transactions")
    op.drop_table("gateway_transactions")
    op.drop_table("gateway_accounts")
