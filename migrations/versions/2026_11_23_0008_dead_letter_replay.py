"""dead_letter: the headers its parser reads, and the outcome of replaying it

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "dead_letter",
        sa.Column(
            "headers",
            postgresql.JSONB(),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.add_column(
        "dead_letter", sa.Column("replay_attempted_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "dead_letter", sa.Column("replayed_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "dead_letter",
        sa.Column(
            "replay_event_ids", postgresql.ARRAY(postgresql.UUID(as_uuid=True)), nullable=True
        ),
    )
    op.add_column("dead_letter", sa.Column("replay_error", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    for column in ("replay_error", "replay_event_ids", "replayed_at", "replay_attempted_at"):
        op.drop_column("dead_letter", column)
    op.drop_column("dead_letter", "headers")
