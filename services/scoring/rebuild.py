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

from services.scoring.aggregation import TABLES, TARGETS, counted_rows_sql, upsert_buckets_sql

_ALL_COUNTED = counted_rows_sql("feedback")


@dataclass(frozen=True)
class RebuildResult:
    """How many bucket rows the rebuild wrote."""

    buckets: int
    tag_buckets: int
    theme_buckets: int


def rebuild_aggregates(*, session: Session) -> RebuildResult:
    """Replace the bucket tables with sums recomputed from feedback, in the caller's transaction.

    Comments are not analysed again: the stored language, sentiment and themes are summed,
    so the rebuild gives what the stream gave even after the taxonomy changed.
    """
    session.execute(text(f"LOCK TABLE {', '.join(TABLES.values())} IN EXCLUSIVE MODE"))
    for table in TABLES.values():
        session.execute(text(f"DELETE FROM {table}"))  # noqa: S608 (constant table names)
    written = [
        session.execute(text(upsert_buckets_sql(_ALL_COUNTED, target=target))).rowcount  # type: ignore[attr-defined]
        for target in TARGETS
    ]
    by_target = dict(zip(TARGETS, written, strict=True))
    return RebuildResult(
        buckets=by_target["metric"],
        tag_buckets=by_target["tag"],
        theme_buckets=by_target["theme"],
    )
