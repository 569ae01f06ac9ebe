"""How stored feedback becomes bucket tallies, written once as SQL for the worker and the rebuild.

Classifying and summing in PostgreSQL keeps per-event Python work out of the hot path:
the worker only copies rows in, and one statement stores them and updates every bucket.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.metric_math import METRICS, Band, band_scores
from shared.models import BUCKET_MINUTES

BUCKET = timedelta(minutes=BUCKET_MINUTES)
_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
SLOT_SQL = f"date_bin('{BUCKET_MINUTES} minutes', {{at}}, timestamptz '2000-01-01 00:00:00+00')"


def bucket_floor(at: datetime) -> datetime:
    """The start of the bucket holding `at` (what SLOT_SQL computes in the database)."""
    return at - (at - _ORIGIN) % BUCKET


def _band_condition(which: Band) -> str:
    parts = [
        f"(metric = '{m}' AND score IN ({', '.join(map(str, scores))}))"
        for m in METRICS
        if (scores := band_scores(m, which))
    ]
    return " OR ".join(parts) or "false"


def tally_columns(sign: str = "1") -> str:
    """SELECT-list sums of count, score, score squared and bands over rows (metric, score)."""
    return ", ".join(
        [
            f"sum({sign})",
            f"sum({sign} * score)",
            f"sum({sign} * score * score)",
            *(
                f"coalesce(sum({sign}) FILTER (WHERE {_band_condition(b)}), 0)"
                for b in ("low", "mid", "high")
            ),
        ]
    )


DIMENSIONS = ("channel", "source_id", "touchpoint", "language")
TALLY_COLUMNS = ("count", "score_sum", "score_sq_sum", "low", "mid", "high")


def upsert_buckets_sql(rows: str, *, tag_buckets: bool) -> str:
    """INSERT ... SELECT that adds rows (metric, score, at, dimensions, tags, sign) to buckets.

    Groups are inserted in key order so that concurrent workers lock bucket rows in the
    same order and cannot deadlock.
    """
    add = ", ".join(f"{c} = b.{c} + excluded.{c}" for c in TALLY_COLUMNS)
    if tag_buckets:
        table, key = "metric_tag_bucket", "metric, t.key, {slot}, t.value, " + ", ".join(DIMENSIONS)
        source = f"{rows} AS r CROSS JOIN LATERAL jsonb_each_text(r.tags) AS t"
        width = 8
    else:
        table, key = "metric_bucket", "metric, {slot}, " + ", ".join(DIMENSIONS)
        source = f"{rows} AS r"
        width = 6
    key = key.format(slot=SLOT_SQL.format(at="at"))
    groups = ", ".join(str(i) for i in range(1, width + 1))
    return f"""
        INSERT INTO {table} AS b
        SELECT {key}, {tally_columns("sign")}
        FROM {source}
        GROUP BY {groups} ORDER BY {groups}
        ON CONFLICT ON CONSTRAINT pk_{table} DO UPDATE SET {add}"""  # noqa: S608 (built from constants, never from input)
