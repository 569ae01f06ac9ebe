"""`voc rebuild-aggregates`: recompute every bucket from the stored feedback, with scoring running.

The rebuild takes an EXCLUSIVE lock on the bucket tables: readers (the API) go on, while a
scoring batch waits at its bucket update. Whatever scoring committed before the lock is in
the rebuild's snapshot; whatever it commits after is added on top of the rebuilt buckets.
So the result is what the stream would have produced, with no event missed or counted twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from services.scoring.aggregation import upsert_buckets_sql

_ALL_COUNTED = """
    (SELECT metric, score, occurred_at AS at, channel, source_id,
            coalesce(touchpoint, '') AS touchpoint, coalesce(language, '') AS language,
            tags, 1 AS sign
     FROM feedback
     WHERE metric IS NOT NULL AND score IS NOT NULL AND excluded_reason IS NULL)"""


@dataclass(frozen=True)
class RebuildResult:
    """How many bucket rows the rebuild wrote."""

    buckets: int
    tag_buckets: int


def rebuild_aggregates(*, session: Session) -> RebuildResult:
    """Replace both bucket tables with sums recomputed from feedback, in the caller's transaction."""
    session.execute(text("LOCK TABLE metric_bucket, metric_tag_bucket IN EXCLUSIVE MODE"))
    session.execute(text("DELETE FROM metric_bucket"))
    session.execute(text("DELETE FROM metric_tag_bucket"))
    buckets = session.execute(text(upsert_buckets_sql(_ALL_COUNTED, tag_buckets=False)))
    tag_buckets = session.execute(text(upsert_buckets_sql(_ALL_COUNTED, tag_buckets=True)))
    return RebuildResult(buckets=buckets.rowcount, tag_buckets=tag_buckets.rowcount)  # type: ignore[attr-defined]
