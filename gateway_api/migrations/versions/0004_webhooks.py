"""Webhooks: endpoints (secrets encrypted), events (the outbox), deliveries and their attempts.

Revision ID: 0004_webhooks
Revises: 0003_fingerprints
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0004_webhooks"
down_revision = "0003_fingerprints"
branch_labels = None
depends_on = None
# The code heads that keep working on this schema (docs/operations.md, "Releases with a migration").
compatible_with: tuple[str, ...] = ()

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
AutoId = sa.BigInteger().with_variant(sa.Integer, "sqlite")
# Account and transaction ids as the ledger has them since 0002: 100 characters, byte for byte.
IDENTIFIER = sa.String(100).with_variant(
    mysql.VARCHAR(100, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)


def upgrade() -> None:
    op.create_table(
        "gateway_webhook_endpoints",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", IDENTIFIER, nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("description", sa.String(255), nullable=True),
        sa.Column("enabled_events", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("secret_ciphertext", sa.String(255), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("deleted_at", Timestamp, nullable=True),
        sa.Column("failing_since", Timestamp, nullable=True),
    )
    op.create_index("ix_gateway_webhook_endpoints_account", "gateway_webhook_endpoints", ["account_id", "status"])
    op.create_table(
        "gateway_events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("account_id", IDENTIFIER, nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("transaction_id", IDENTIFIER, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
    )
    op.create_index("ix_gateway_events_account_created", "gateway_events", ["account_id", "created_at", "id"])
    op.create_index("ix_gateway_events_created", "gateway_events", ["created_at"])
    op.create_table(
        "gateway_webhook_deliveries",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("endpoint_id", sa.String(40), nullable=False),
        sa.Column("account_id", IDENTIFIER, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", Timestamp, nullable=True),
        sa.Column("locked_until", Timestamp, nullable=True),
        sa.Column("lock_token", sa.String(32), nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("last_attempt_at", Timestamp, nullable=True),
        sa.Column("last_http_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(255), nullable=True),
    )
    op.create_index("ix_gateway_webhook_deliveries_due", "gateway_webhook_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_gateway_webhook_deliveries_event", "gateway_webhook_deliveries", ["event_id"])
    op.create_index(
        "ix_gateway_webhook_deliveries_account_created",
        "gateway_webhook_deliveries",
        ["account_id", "created_at", "id"],
    )
    op.create_index("ix_gateway_webhook_deliveries_lock", "gateway_webhook_deliveries", ["lock_token"])
    op.create_table(
        "gateway_webhook_attempts",
        sa.Column("id", AutoId, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.String(40), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("attempted_at", Timestamp, nullable=False),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("http_status", sa.Integer, nullable=True),
        sa.Column("error", sa.String(255), nullable=True),
        sa.Column("response_body", sa.String(1024), nullable=True),
        sa.Column("next_attempt_at", Timestamp, nullable=True),
    )
    op.create_index("ix_gateway_webhook_attempts_delivery", "gateway_webhook_attempts", ["delivery_id", "number"])


def downgrade() -> None:
    op.drop_table("gateway_webhook_attempts")
    op.drop_table("gateway_webhook_deliveries")
    op.drop_table("gateway_events")
    op.drop_table("gateway_webhook_endpoints")
