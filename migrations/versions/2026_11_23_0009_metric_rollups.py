"""metric rollups: the bucket tallies again per UTC hour and per UTC day

Long windows read a few rows per day from these instead of 96 quarter hours (see
services/api/rollup_plan.py). Filled from the existing quarter-hour buckets, which hold
exactly the same sums.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = (("metric_rollup_hour", "hour"), ("metric_rollup_day", "day"))
DIMENSIONS = ("channel", 16), ("source_id", 64), ("touchpoint", 128), ("language", 16)
TALLIES = ("count", "score_sum", "score_sq_sum", "low", "mid", "high")


def upgrade() -> None:
    for table, unit in ROLLUPS:
        op.create_table(
            table,
            sa.Column("metric", sa.String(length=16), nullable=False),
            sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
            *(sa.Column(name, sa.String(length=size), nullable=False) for name, size in DIMENSIONS),
            sa.Column("count", sa.BigInteger(), nullable=False),
            sa.Column("score_sum", sa.Float(), nullable=False),
            sa.Column("score_sq_sum", sa.Float(), nullable=False),
            sa.Column("low", sa.BigInteger(), nullable=False),
            sa.Column("mid", sa.BigInteger(), nullable=False),
            sa.Column("high", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint(
                "metric", "bucket_start", *(n for n, _ in DIMENSIONS), name=op.f(f"pk_{table}")
            ),
        )
        dims = ", ".join(n for n, _ in DIMENSIONS)
        sums = ", ".join(f"sum({t})" for t in TALLIES)
        op.execute(
            f"INSERT INTO {table} SELECT metric, date_trunc('{unit}', bucket_start, 'UTC'), "  # noqa: S608
            f"{dims}, {sums} FROM metric_bucket GROUP BY 1, 2, {dims}"
        )


def downgrade() -> None:
    for table, _ in ROLLUPS:
        op.drop_table(table)
