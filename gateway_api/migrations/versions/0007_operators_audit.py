"""Named operators (credentials stored as scrypt hashes, expiry, second factor) and the audit trail
(append-only, hash-chained, each entry authenticated with a key the database does not hold).

Revision ID: 0007_operators_audit
Revises: 0006_day_two
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0007_operators_audit"
down_revision = "0006_day_two"
branch_labels = None
depends_on = None
# The code heads that keep working on this schema (docs/deploy.md, "Migrations and releases"): two new tables.
compatible_with: tuple[str, ...] = ("0006_day_two",)

Timestamp = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# Names and ids compared byte for byte, as the ledger's identifiers since 0002.
BINARY_TEXT = sa.String(200).with_variant(
    mysql.VARCHAR(200, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)


def upgrade() -> None:
    op.create_table(
        "gateway_operators",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column(
            "name",
            sa.String(100).with_variant(
                mysql.VARCHAR(100, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
            ),
            nullable=False,
            unique=True,
        ),
        sa.Column("credential_hash", sa.String(255), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("expires_at", Timestamp, nullable=False),
        sa.Column("disabled_at", Timestamp, nullable=True),
        sa.Column("totp_secret", sa.String(255), nullable=True),
        sa.Column("totp_required", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "gateway_audit_events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False),
        sa.Column("id", sa.String(40), nullable=False, unique=True),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("actor", BINARY_TEXT, nullable=False),
        sa.Column("credential", sa.String(32), nullable=False),
        sa.Column("account_id", BINARY_TEXT, nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("object_type", sa.String(32), nullable=False),
        sa.Column("object_id", BINARY_TEXT, nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_gateway_audit_events_account", "gateway_audit_events", ["account_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_gateway_audit_events_account", table_name="gateway_audit_events")
    op.drop_table("gateway_audit_events")
    op.drop_table("gateway_operators")
