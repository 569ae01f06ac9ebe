"""How stored feedback becomes bucket tallies, written once as SQL for the worker and the rebuild.

Classifying and summing in PostgreSQL keeps per-event Python work out of the hot path:
the worker only copies rows in, and one statement stores them and updates every bucket.

A counted row is (metric, score, band, at, channel, source_id, touchpoint, language, tags,
themes, sign). A scored response gives a row of its metric, banded by its score; an
analysed comment gives a row of metric 'sentiment' whose score is the sentiment score and
whose band comes from its label (low/mid/high = negative/neutral/positive). The band is
worked out once per row, not once per bucket table it is added to. Rows with themes also add to
`theme_bucket`, once per theme.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from shared.metric_math import METRICS, SENTIMENT, SENTIMENT_BANDS, band_scores
from shared.models import BUCKET_MINUTES

BUCKET = timedelta(minutes=BUCKET_MINUTES)
_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
SLOT_SQL = f"date_bin('{BUCKET_MINUTES} minutes', {{at}}, timestamptz '2000-01-01 00:00:00+00')"
Target = Literal["metric", "hour", "day", "tag", "theme"]
TARGETS: tuple[Target, ...] = ("metric", "hour", "day", "tag", "theme")
ROLLUPS = {"hour": "metric_rollup_hour", "day": "metric_rollup_day"}
"""The metric buckets again per UTC hour and day, so long windows sum fewer rows."""


def bucket_floor(at: datetime) -> datetime:
    """The start of the bucket holding `at` (what SLOT_SQL computes in the database)."""
    return at - (at - _ORIGIN) % BUCKET


def _score_band_sql(prefix: str) -> str:
    """CASE giving a scored response's band from its metric and score."""
    whens = [
        f"WHEN {prefix}metric = '{m}' AND {prefix}score IN ({', '.join(map(str, scores))}) "
        f"THEN '{which}'"
        for m in METRICS
        for which in ("low", "mid", "high")
        if (scores := band_scores(m, which))
    ]
    return f"CASE {' '.join(whens)} END"


def _label_band_sql(prefix: str) -> str:
    """CASE giving an analysed comment's band from its sentiment label."""
    whens = [f"WHEN '{label}' THEN '{which}'" for which, label in SENTIMENT_BANDS.items()]
    return f"CASE {prefix}sentiment_label {' '.join(whens)} END"


def tally_columns(sign: str = "1") -> str:
    """SELECT-list sums of count, score, score squared and bands over counted rows."""
    return ", ".join(
        [
            f"sum({sign})",
            f"sum({sign} * score)",
            f"sum({sign} * score * score)",
            *(
                f"coalesce(sum({sign}) FILTER (WHERE band = '{b}'), 0)"
                for b in ("low", "mid", "high")
            ),
        ]
    )


DIMENSIONS = ("channel", "source_id", "touchpoint", "language")
TALLY_COLUMNS = ("count", "score_sum", "score_sq_sum", "low", "mid", "high")


def counted_rows_sql(relation: str, *, prefix: str = "", sign: int = 1, where: str = "true") -> str:
    """Counted rows (see the module docstring) of a relation holding feedback columns.

    `prefix` names the columns (`n_` / `o_` for the new and old sides of a revision);
    a response counts when it is scored and not excluded, a comment when it was analysed.
    """
    p = prefix
    dims = (
        f"{p}occurred_at, {p}channel, {p}source_id, coalesce({p}touchpoint, ''), "
        f"coalesce({p}language, ''), {p}tags, {p}themes, {sign}"
    )
    kept = f"{p}excluded_reason IS NULL AND ({where})"
    return f"""
        SELECT {p}metric::text AS metric, {p}score::float8 AS score, {_score_band_sql(p)} AS band,
               {p}occurred_at AS at, {p}channel AS channel, {p}source_id AS source_id,
               coalesce({p}touchpoint, '') AS touchpoint, coalesce({p}language, '') AS language,
               {p}tags AS tags, {p}themes AS themes, {sign} AS sign
        FROM {relation} WHERE {p}metric IS NOT NULL AND {p}score IS NOT NULL AND {kept}
        UNION ALL
        SELECT '{SENTIMENT}', {p}sentiment_score, {_label_band_sql(p)}, {dims}
        FROM {relation} WHERE {p}sentiment_score IS NOT NULL AND {kept}"""  # noqa: S608 (built from constants, never from input)


def upsert_buckets_sql(rows: str, *, target: Target) -> str:
    """INSERT ... SELECT that adds counted rows to one bucket table.

    Groups are inserted in key order so that concurrent workers lock bucket rows in the
    same order and cannot deadlock.
    """
    add = ", ".join(f"{c} = b.{c} + excluded.{c}" for c in TALLY_COLUMNS)
    dims = ", ".join(DIMENSIONS)
    if target == "tag":
        table, key = "metric_tag_bucket", f"metric, t.key, {{slot}}, t.value, {dims}"
        source = f"({rows}) AS r CROSS JOIN LATERAL jsonb_each_text(r.tags) AS t"
        width = 8
    elif target == "theme":
        table, key = "theme_bucket", f"metric, {{slot}}, th.theme, {dims}"
        source = f"({rows}) AS r CROSS JOIN LATERAL unnest(r.themes) AS th(theme)"
        width = 7
    elif target in ROLLUPS:
        table = ROLLUPS[target]
        key = f"metric, date_trunc('{target}', at, 'UTC'), {dims}"
        source = f"({rows}) AS r"
        width = 6
    else:
        table, key = "metric_bucket", f"metric, {{slot}}, {dims}"
        source = f"({rows}) AS r"
        width = 6
    key = key.format(slot=SLOT_SQL.format(at="at"))
    groups = ", ".join(str(i) for i in range(1, width + 1))
    return f"""
        INSERT INTO {table} AS b
        SELECT {key}, {tally_columns("sign")}
        FROM {source}
        GROUP BY {groups} ORDER BY {groups}
        ON CONFLICT ON CONSTRAINT pk_{table} DO UPDATE SET {add}"""  # noqa: S608 (built from constants, never from input)
