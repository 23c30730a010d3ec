"""The schema window: what each revision declared compatible (read by older releases' /readyz).

An expand step: nothing the previous release reads changes, so it keeps serving on this schema.

Revision ID: 0006_day_two
Revises: 0005_rate_limits
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_day_two"
down_revision = "0005_rate_limits"
branch_labels = None
depends_on = None
# The code heads that keep working on this schema (docs/deploy.md, "Migrations and releases").
compatible_with: tuple[str, ...] = ("0005_rate_limits",)


def upgrade() -> None:
    # The same table as infra.runtime.db.compatibility_table("gateway_alembic_version"), filled by `migrate`.
    op.create_table(
        "gateway_alembic_version_compatibility",
        sa.Column("revision", sa.String(64), primary_key=True),
        sa.Column("compatible_with", sa.String(1000), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gateway_alembic_version_compatibility")
