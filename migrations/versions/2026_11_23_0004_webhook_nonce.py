"""webhook_nonce: single-use tokens providers sign (Mailgun), so a replayed delivery is refused

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhook_nonce",
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("token", sa.String(length=256), nullable=False),
        sa.Column(
            "seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("source_id", "token", name=op.f("pk_webhook_nonce")),
    )
    op.create_index(op.f("ix_webhook_nonce_seen_at"), "webhook_nonce", ["seen_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_nonce_seen_at"), table_name="webhook_nonce")
    op.drop_table("webhook_nonce")
