"""Rate limits: the operator's per-account override of the default request rate.

Revision ID: 0005_rate_limits
Revises: 0004_webhooks
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_rate_limits"
down_revision = "0004_webhooks"
branch_labels = None
depends_on = None
# The code heads that keep working on this schema (docs/deploy.md, "Migrations and releases"): a nullable column.
compatible_with: tuple[str, ...] = ("0004_webhooks",)


def upgrade() -> None:
    with op.batch_alter_table("gateway_accounts") as batch:
        batch.add_column(sa.Column("rate_limit_per_second", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gateway_accounts") as batch:
        batch.drop_column("rate_limit_per_second")
