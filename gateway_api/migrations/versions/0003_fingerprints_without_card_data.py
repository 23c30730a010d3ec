"""Idempotency fingerprints without card data, and an index for purging expired keys.

Fingerprints written before this revision were HMACs over a body that held the card number and the
CVV: with the pepper, both could be brute-forced from them, and PCI DSS forbids keeping the CVV
after authorization in any form. They are erased here (set to ""), which the API reads as "nothing
to compare": a retry with such a key replays its first answer whatever the body, never charges
twice, and the key is purged once it expires. New fingerprints ("v2:...") cover only what the
ledger keeps and need a wider column.

Revision ID: 0003_fingerprints
Revises: 0002_ids_and_sessions
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_fingerprints"
down_revision = "0002_ids_and_sessions"
branch_labels = None
depends_on = None
# The code heads that keep working on this schema (docs/operations.md, "Releases with a migration").
compatible_with: tuple[str, ...] = ()


def upgrade() -> None:
    keys = sa.table("gateway_idempotency_keys", sa.column("fingerprint", sa.String))
    op.execute(keys.update().where(~keys.c.fingerprint.startswith("v2:")).values(fingerprint=""))
    with op.batch_alter_table("gateway_idempotency_keys") as batch:
        batch.alter_column("fingerprint", existing_type=sa.String(64), type_=sa.String(80), existing_nullable=False)
    op.create_index("ix_gateway_idempotency_keys_created", "gateway_idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_gateway_idempotency_keys_created", "gateway_idempotency_keys")
    keys = sa.table("gateway_idempotency_keys", sa.column("fingerprint", sa.String))
    op.execute(keys.update().values(fingerprint=""))  # "v2:..." does not fit the old column
    with op.batch_alter_table("gateway_idempotency_keys") as batch:
        batch.alter_column("fingerprint", existing_type=sa.String(80), type_=sa.String(64), existing_nullable=False)
