"""How stored feedback becomes bucket tallies, written once as SQL for the worker and the rebuild.

Classifying and summing in PostgreSQL keeps per-event Python work out of the hot path:
the worker only copies rows in, and one statement stores them and updates every bucket.

A counted row is (metric, score, band, at, channel, source_id, touchpoint, language, tags,
themes, sign). A scored response gives a row of its metric, banded by its score; an
analysed comment gives a row of metric 'sentiment' whose score is the sentiment score and
whose band comes from its label (low/mid/high = negative/neutral/positive). The band is
worked out once per row, not once per bucket table it is added to. Rows with themes also
add to `theme_bucket`, once per theme.
"""

from __future__ import annotations

from typing import Literal

from shared.buckets import ORIGIN
from shared.metric_math import METRICS, SENTIMENT, SENTIMENT_BANDS, band_scores
from shared.models import BUCKET_MINUTES

SLOT_SQL = f"date_bin('{BUCKET_MINUTES} minutes', {{at}}, timestamptz '{ORIGIN.isoformat()}')"
Target = Literal["metric", "hour", "day", "tag", "theme"]
TARGETS: tuple[Target, ...] = ("metric", "hour", "day", "tag", "theme")
TABLES: dict[Target, str] = {
    "metric": "metric_bucket",
    "hour": "metric_rollup_hour",  # the metric buckets again per UTC hour and day,
    "day": "metric_rollup_day",  # so long windows sum fewer rows
    "tag": "metric_tag_bucket",
    "theme": "theme_bucket",
}


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
    dims = f"""{p}occurred_at AS at, {p}channel AS channel, {p}source_id AS source_id,
               coalesce({p}touchpoint, '') AS touchpoint, coalesce({p}language, '') AS language,
               {p}tags AS tags, {p}themes AS themes, {sign} AS sign"""
    kept = f"{p}excluded_reason IS NULL AND ({where})"
    return f"""
        SELECT {p}metric::text AS metric, {p}score::float8 AS score, {_score_band_sql(p)} AS band,
               {dims}
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
    table = TABLES[target]
    slot = SLOT_SQL.format(at="at")
    source = f"({rows}) AS r"
    if target == "tag":
        key = f"metric, t.key, {slot}, t.value, {dims}"
        source += " CROSS JOIN LATERAL jsonb_each_text(r.tags) AS t"
        width = 8
    elif target == "theme":
        key = f"metric, {slot}, th.theme, {dims}"
        source += " CROSS JOIN LATERAL unnest(r.themes) AS th(theme)"
        width = 7
    else:
        if target != "metric":  # an hour or day rollup
            slot = f"date_trunc('{target}', at, 'UTC')"
        key = f"metric, {slot}, {dims}"
        width = 6
    groups = ", ".join(str(i) for i in range(1, width + 1))
    return f"""
        INSERT INTO {table} AS b
        SELECT {key}, {tally_columns("sign")}
        FROM {source}
        GROUP BY {groups} ORDER BY {groups}
        ON CONFLICT ON CONSTRAINT pk_{table} DO UPDATE SET {add}"""  # noqa: S608 (built from constants, never from input)
