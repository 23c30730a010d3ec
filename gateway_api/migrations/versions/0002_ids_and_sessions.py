"""Ledger ids as the contract has them (100 characters, case-sensitive), an index for the oldest
pending row, and the panel's sessions.

The ledger's id and account_id were VARCHAR(64) in MySQL's case-insensitive collation while the
contract (and the processor's table) allow 100 characters compared byte for byte: on MariaDB one
80-character id failed its results batch forever, and "Tx-1" and "tx-1" were one row.

Revision ID: 0002_ids_and_sessions
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0002_ids_and_sessions"
down_revision = "0001"
branch_labels = None
depends_on = None
# The code heads that keep working on this schema (docs/operations.md, "Releases with a migration").
compatible_with: tuple[str, ...] = ()

# Spelled out rather than imported: a migration must keep meaning what it meant when written.
IDENTIFIER = sa.String(100).with_variant(
    mysql.VARCHAR(100, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)
OLD_IDENTIFIER = sa.String(64)
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
STATUS_INDEX = "ix_gateway_transactions_status_created"
EXPIRES_INDEX = "ix_gateway_sessions_expires"


def upgrade() -> None:
    _retype(IDENTIFIER, OLD_IDENTIFIER)
    op.create_index(STATUS_INDEX, "gateway_transactions", ["status", "created_at"])
    op.create_table(
        "gateway_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("account_id", IDENTIFIER, nullable=True),
        sa.Column("credential_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_index(EXPIRES_INDEX, "gateway_sessions", ["expires_at"])


def downgrade() -> None:
    """Fails (as it should) while an id or account id is longer than 64 characters."""
    op.drop_index(EXPIRES_INDEX, "gateway_sessions")
    op.drop_table("gateway_sessions")
    op.drop_index(STATUS_INDEX, "gateway_transactions")
    _retype(OLD_IDENTIFIER, IDENTIFIER)


def _retype(new: sa.types.TypeEngine, old: sa.types.TypeEngine) -> None:
    with op.batch_alter_table("gateway_transactions") as batch:  # SQLite copies the table; MySQL alters it
        for column in ("id", "account_id"):
            batch.alter_column(column, type_=new, existing_type=old, existing_nullable=False)
