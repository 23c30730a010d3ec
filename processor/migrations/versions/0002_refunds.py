"""refunds and the balance that bounds them; the processor's schema window table

An expand step: the previous release reads nothing that changes, so it keeps deciding payments.

Revision ID: p0002_refunds
Revises: p0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "p0002_refunds"
down_revision = "p0001"
branch_labels = None
depends_on = None
# The code heads that keep working on this schema (docs/deploy.md, "Migrations and releases"): new tables only.
compatible_with: tuple[str, ...] = ("p0001",)

IDENTIFIER = sa.String(100).with_variant(mysql.VARCHAR(100, collation="utf8mb4_bin"), "mysql", "mariadb")
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    # The same table as infra.runtime.db.compatibility_table("processor_alembic_version"), filled by `migrate`:
    # from this revision on, a processor is ready on a later schema that declared its head compatible.
    op.create_table(
        "processor_alembic_version_compatibility",
        sa.Column("revision", sa.String(64), primary_key=True),
        sa.Column("compatible_with", sa.String(1000), nullable=False),
    )
    op.create_table(
        "refunds",
        sa.Column("id", IDENTIFIER, primary_key=True),
        sa.Column("transaction_id", IDENTIFIER, nullable=False),
        sa.Column("account_id", IDENTIFIER, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("amount_cents", sa.BigInteger, nullable=True),
        sa.Column("failure_reason", sa.String(40), nullable=True),
        sa.Column("amount_refunded_cents", sa.BigInteger, nullable=False),
        sa.Column("processed_at", TIMESTAMP, nullable=False),
        mysql_charset="utf8mb4",
    )
    op.create_index("ix_refunds_transaction", "refunds", ["transaction_id"])
    op.create_table(
        "refund_balances",
        sa.Column("transaction_id", IDENTIFIER, primary_key=True),
        sa.Column("approved_cents", sa.BigInteger, nullable=False),
        sa.Column("refunded_cents", sa.BigInteger, nullable=False),
        sa.CheckConstraint(
            "refunded_cents >= 0 AND refunded_cents <= approved_cents", name="ck_refund_balances_within_approved"
        ),
        mysql_charset="utf8mb4",
    )


def downgrade() -> None:
    op.drop_table("refund_balances")
    op.drop_index("ix_refunds_transaction", table_name="refunds")
    op.drop_table("refunds")
    op.drop_table("processor_alembic_version_compatibility")
