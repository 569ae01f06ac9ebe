"""15-minute buckets with a language dimension, and per-tag buckets

Every UTC offset in use is a multiple of 15 minutes, so quarter-hour buckets make local
days in any IANA zone exact. The buckets are rebuilt from the stored feedback.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 04:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIMENSIONS = ("channel", 16), ("source_id", 64), ("touchpoint", 128), ("language", 16)


def _tallies() -> list[sa.Column]:
    return [
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False),
        sa.Column("score_sq_sum", sa.Float(), nullable=False),
        sa.Column("low", sa.BigInteger(), nullable=False),
        sa.Column("mid", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.BigInteger(), nullable=False),
    ]


def _dimensions() -> list[sa.Column]:
    return [sa.Column(name, sa.String(length=size), nullable=False) for name, size in DIMENSIONS]


# Frozen copy of the aggregation at this revision, so the migration means the same forever.
_BANDS = """
    count(*) FILTER (WHERE (metric = 'nps' AND score <= 6) OR (metric IN ('csat', 'ces') AND score <= 3)),
    count(*) FILTER (WHERE (metric = 'nps' AND score IN (7, 8)) OR (metric = 'ces' AND score = 4)),
    count(*) FILTER (WHERE (metric = 'nps' AND score >= 9) OR (metric = 'csat' AND score >= 4)
                            OR (metric = 'ces' AND score >= 5))
"""
_SLOT = "date_bin('15 minutes', occurred_at, timestamptz '2000-01-01 00:00:00+00')"
_DIMS = "channel, source_id, coalesce(touchpoint, ''), coalesce(language, '')"


def upgrade() -> None:
    op.drop_table("metric_bucket")
    op.create_table(
        "metric_bucket",
        sa.Column("metric", sa.String(length=8), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        *_dimensions(),
        *_tallies(),
        sa.PrimaryKeyConstraint(
            "metric", "bucket_start", *(n for n, _ in DIMENSIONS), name=op.f("pk_metric_bucket")
        ),
    )
    op.create_table(
        "metric_tag_bucket",
        sa.Column("metric", sa.String(length=8), nullable=False),
        sa.Column("tag_key", sa.String(length=64), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tag_value", sa.String(length=128), nullable=False),
        *_dimensions(),
        *_tallies(),
        sa.PrimaryKeyConstraint(
            "metric",
            "tag_key",
            "bucket_start",
            "tag_value",
            *(n for n, _ in DIMENSIONS),
            name=op.f("pk_metric_tag_bucket"),
        ),
    )
    counted = "metric IS NOT NULL AND score IS NOT NULL AND excluded_reason IS NULL"
    op.execute(f"""
        INSERT INTO metric_bucket
        SELECT metric, {_SLOT}, {_DIMS}, count(*), sum(score), sum(score * score), {_BANDS}
        FROM feedback WHERE {counted} GROUP BY 1, 2, 3, 4, 5, 6""")  # noqa: S608 (built from constants, never from input)
    op.execute(f"""
        INSERT INTO metric_tag_bucket
        SELECT metric, t.key, {_SLOT}, t.value, {_DIMS}, count(*), sum(score), sum(score * score),
               {_BANDS}
        FROM feedback CROSS JOIN LATERAL jsonb_each_text(tags) AS t
        WHERE {counted} GROUP BY 1, 2, 3, 4, 5, 6, 7, 8""")  # noqa: S608 (built from constants, never from input)


def downgrade() -> None:
    op.drop_table("metric_tag_bucket")
    op.drop_table("metric_bucket")
    op.create_table(
        "metric_bucket",
        sa.Column("metric", sa.String(length=8), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        *_dimensions()[:3],
        *_tallies(),
        sa.PrimaryKeyConstraint(
            "metric",
            "bucket_start",
            "channel",
            "source_id",
            "touchpoint",
            name=op.f("pk_metric_bucket"),
        ),
    )
