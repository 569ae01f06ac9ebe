"""feedback search over normalised Arabic and English text; dead_letter for unparseable deliveries

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Folds the spellings a search should not tell apart: case; alef with hamza above/below,
# madda or wasla to bare alef; alef maqsura to yeh; teh marbuta to heh; and drops Arabic
# diacritics (fathatan..sukun and the other marks in U+064B-U+065F, superscript alef U+0670)
# and tatweel (U+0640). The API applies the same function to the query, so both sides match.
SEARCH_FUNCTION = """
CREATE FUNCTION voc_search_text(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN lower(regexp_replace(
    translate(t, 'أإآٱىة', 'اااايه'), '[\\u064B-\\u065F\\u0670\\u0640]', '', 'g'))
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(SEARCH_FUNCTION)
    op.execute(
        "CREATE INDEX ix_feedback_search_text ON feedback "
        "USING gin (voc_search_text(text) gin_trgm_ops)"
    )
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("kafka_topic", sa.String(length=249), nullable=False),
        sa.Column("kafka_partition", sa.Integer(), nullable=False),
        sa.Column("kafka_offset", sa.BigInteger(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "errors",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
        sa.Column("content_type", sa.String(length=255), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter")),
        sa.UniqueConstraint(
            "kafka_topic",
            "kafka_partition",
            "kafka_offset",
            name=op.f("uq_dead_letter_kafka_topic"),
        ),
    )
    op.create_index(op.f("ix_dead_letter_source_id"), "dead_letter", ["source_id", "id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dead_letter_source_id"), table_name="dead_letter")
    op.drop_table("dead_letter")
    op.execute("DROP INDEX IF EXISTS ix_feedback_search_text")
    op.execute("DROP FUNCTION IF EXISTS voc_search_text(text)")
