"""Exact tallies of a metric over consecutive intervals of event time, filtered and grouped.

One function answers the single value (one interval), the series (many) and breakdowns
(a group key). The intervals are given as sorted cut instants; SQL assigns each row to its
interval with `width_bucket` over that array and groups by (interval, key), so the work is
one grouped SUM per source no matter how many intervals there are.

Where the tallies come from:
- Whole 15-minute buckets from `metric_bucket` (or `metric_tag_bucket` for one tag filter
  or a tag breakdown): cost grows with the buckets in the window, not with stored rows.
- A bucket cut by a window edge (or by an interval boundary not on a quarter hour) is read
  from the raw feedback for exactly its part inside the window, so edges are exact.
- Two or more tag filters, or a tag filter with a tag breakdown, need responses carrying
  several tags at once, which no bucket table holds: those read raw feedback for the whole
  window (correct, but the cost then grows with the responses in the window).

A tag breakdown's `null` group (responses without that tag) is the whole minus the tagged
groups, so the parts always add up exactly to the whole.

`metric` is a stored metric: nps, csat, ces, or 'sentiment' (comment sentiment tallies).
A theme filter or a theme breakdown reads `theme_bucket` (raw edges joined with the
comment's themes); a response mentioning two themes is in both groups, so theme groups do
not add up to a whole. Themes with tag filters read raw feedback for the whole window.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import DateTime

from services.api.rollup_plan import DAY, HOUR, coarse_spans
from shared.buckets import BUCKET, bucket_floor
from shared.metric_math import METRICS, SENTIMENT, SENTIMENT_BANDS, Tally, band_scores
from shared.models import (
    Feedback,
    MetricBucket,
    MetricRollupDay,
    MetricRollupHour,
    MetricTagBucket,
    ThemeBucket,
)

DIMENSIONS = ("channel", "source_id", "touchpoint", "language")
Key = str | None
Grid = dict[tuple[int, Key], Tally]
"""Tallies by (interval index from 0, group key); the key is None without a group_by."""


@dataclass(frozen=True)
class Filters:
    """Dimension filters a metric read can be narrowed by; None means any. They combine."""

    channel: str | None = None
    source_id: str | None = None
    touchpoint: str | None = None
    language: str | None = None
    tags: tuple[tuple[str, str], ...] = field(default=())
    theme: str | None = None

    def dimensions(self) -> dict[str, str]:
        """The non-tag filters that are set (a theme filter included)."""
        dims = {d: v for d in DIMENSIONS if (v := getattr(self, d)) is not None}
        return dims | ({"theme": self.theme} if self.theme is not None else {})


@dataclass(frozen=True)
class GroupBy:
    """A breakdown: by one dimension column, or by the value of one tag key."""

    dimension: str | None = None  # one of DIMENSIONS, or "theme"
    tag: str | None = None


@dataclass(frozen=True)
class _Source:
    """A table tallies can be read from, with its columns under common names."""

    time: Any
    tallies: tuple[ColumnElement[Any], ...]
    conditions: tuple[ColumnElement[bool], ...]
    dims: Mapping[str, ColumnElement[str]]
    tag_value: Any = None  # the group key of a tag breakdown, if this source can give it
    joined: Any = None  # the FROM clause, when the columns come from a join


def _bucket_sums(
    t: type[MetricBucket]
    | type[MetricRollupHour]
    | type[MetricRollupDay]
    | type[MetricTagBucket]
    | type[ThemeBucket],
) -> tuple[ColumnElement[Any], ...]:
    cols = (t.count, t.score_sum, t.score_sq_sum, t.low, t.mid, t.high)
    return tuple(func.coalesce(func.sum(c), 0) for c in cols)


def _buckets(
    metric: str,
    b: type[MetricBucket] | type[MetricRollupHour] | type[MetricRollupDay] = MetricBucket,
) -> _Source:
    return _Source(
        time=b.bucket_start,
        tallies=_bucket_sums(b),
        conditions=(b.metric == metric,),
        dims={d: getattr(b, d) for d in DIMENSIONS},
    )


def _theme_buckets(metric: str) -> _Source:
    b = ThemeBucket
    return _Source(
        time=b.bucket_start,
        tallies=_bucket_sums(b),
        conditions=(b.metric == metric,),
        dims={d: getattr(b, d) for d in (*DIMENSIONS, "theme")},
    )


def _tag_buckets(metric: str, key: str, value: str | None = None) -> _Source:
    b = MetricTagBucket
    conditions = [b.metric == metric, b.tag_key == key]
    if value is not None:
        conditions.append(b.tag_value == value)
    return _Source(
        time=b.bucket_start,
        tallies=_bucket_sums(b),
        conditions=tuple(conditions),
        dims={d: getattr(b, d) for d in DIMENSIONS},
        tag_value=b.tag_value,
    )


def _raw(
    metric: str, tags: Sequence[tuple[str, str]], group_tag: str | None, *, themed: bool = False
) -> _Source:
    fb = Feedback
    if metric == SENTIMENT:
        value: Any = fb.sentiment_score
        bands: list[ColumnElement[Any]] = [
            func.count().filter(fb.sentiment_label == SENTIMENT_BANDS[which])
            for which in ("low", "mid", "high")
        ]
        conditions = [value.is_not(None)]
    else:
        value = fb.score
        bands = []
        for which in ("low", "mid", "high"):
            scores = band_scores(metric, which) if metric in METRICS else []
            bands.append(func.count().filter(fb.score.in_(scores)) if scores else literal(0))
        conditions = [fb.metric == metric, fb.score.is_not(None)]
    conditions.append(fb.excluded_reason.is_(None))
    if tags:
        conditions.append(fb.tags.contains(dict(tags)))
    dims: dict[str, Any] = {d: func.coalesce(getattr(fb, d), "") for d in DIMENSIONS}
    joined = None
    if themed:
        themes = func.unnest(fb.themes).table_valued("theme").render_derived("th").lateral()
        joined = Feedback.__table__.join(themes, true())
        dims["theme"] = themes.c.theme
    return _Source(
        time=fb.occurred_at,
        tallies=(
            func.count(value),
            func.coalesce(func.sum(value), 0),
            func.coalesce(func.sum(value * value), 0),
            *bands,
        ),
        conditions=tuple(conditions),
        dims=dims,
        tag_value=None if group_tag is None else fb.tags.op("->>")(group_tag),
        joined=joined,
    )


def _run(
    session: Session,
    src: _Source,
    cuts: Sequence[datetime],
    when: ColumnElement[bool],
    filters: Filters,
    group: GroupBy | None,
) -> Grid:
    thresholds = bindparam("cuts", list(cuts), type_=ARRAY(DateTime(timezone=True)))
    index = func.width_bucket(src.time, thresholds)
    keys: list[Any] = [index]
    if group is not None:
        keys.append(src.dims[group.dimension] if group.dimension else src.tag_value)
    dims = [src.dims[d] == v for d, v in filters.dimensions().items()]
    query = select(*keys, *src.tallies).where(*src.conditions, when, *dims).group_by(*keys)
    if src.joined is not None:
        query = query.select_from(src.joined)
    out: Grid = {}
    for row in session.execute(query):
        key = row[1] if group is not None else None
        count, total, total_sq, low, mid, high = row[len(keys) :]
        tally = Tally(int(count), float(total), float(total_sq), int(low), int(mid), int(high))
        out[(int(row[0]) - 1, key)] = tally
    return out


def _merge(into: dict[tuple[int, Key], Tally], part: Grid) -> None:
    for k, t in part.items():
        into[k] = into[k] + t


def tallies(
    *,
    session: Session,
    metric: str,
    cuts: Sequence[datetime],
    filters: Filters,
    group: GroupBy | None = None,
) -> Grid:
    """Tallies of counted responses in each [cuts[i], cuts[i+1]), by group key if asked."""
    start, end = cuts[0], cuts[-1]
    out: dict[tuple[int, Key], Tally] = defaultdict(Tally)
    tag_group = group.tag if group is not None else None
    themed = filters.theme is not None or (group is not None and group.dimension == "theme")
    if (
        len(filters.tags) >= 2
        or (filters.tags and tag_group is not None)
        or (themed and (filters.tags or tag_group is not None))
    ):
        raw = _raw(metric, filters.tags, tag_group, themed=themed)
        _merge(
            out, _run(session, raw, cuts, and_(raw.time >= start, raw.time < end), filters, group)
        )
        return _finish(out, group)
    # Buckets that a cut falls inside are read raw, for just the part in the window.
    split = sorted({bucket_floor(c) for c in cuts if bucket_floor(c) != c})
    if split:
        raw = _raw(metric, filters.tags, tag_group, themed=themed)
        edges = or_(
            *(and_(raw.time >= max(s, start), raw.time < min(s + BUCKET, end)) for s in split)
        )
        _merge(out, _run(session, raw, cuts, edges, filters, group))

    def body(src: _Source) -> ColumnElement[bool]:
        return and_(src.time >= bucket_floor(start), src.time < end, src.time.not_in(split))

    if themed:
        src = _theme_buckets(metric)
        _merge(out, _run(session, src, cuts, body(src), filters, group))
    elif filters.tags:
        ((key, value),) = filters.tags
        src = _tag_buckets(metric, key, value)
        _merge(out, _run(session, src, cuts, body(src), filters, group))
    elif tag_group is not None:
        src = _tag_buckets(metric, tag_group)
        tagged = _run(session, src, cuts, body(src), filters, group)
        whole = _whole_buckets(session, metric, cuts, split, filters, None)
        tagged_sum: dict[int, Tally] = defaultdict(Tally)
        for (i, _), part in tagged.items():
            tagged_sum[i] = tagged_sum[i] + part
        for (i, _), t in whole.items():
            out[(i, None)] = out[(i, None)] + (t - tagged_sum[i])
        _merge(out, tagged)
    else:
        _merge(out, _whole_buckets(session, metric, cuts, split, filters, group))
    return _finish(out, group)


MAX_LISTED_QUARTERS = 4096
"""Beyond this many quarter hours left over by the rollups, one range scan of the quarter-hour
buckets is cheaper than probing each of them (a series in a zone such as +05:45)."""


def _whole_buckets(
    session: Session,
    metric: str,
    cuts: Sequence[datetime],
    split: Sequence[datetime],
    filters: Filters,
    group: GroupBy | None,
) -> Grid:
    """The window's whole quarter hours: UTC days and hours no cut falls inside come from the
    rollups (see services/api/rollup_plan.py), the remaining quarter hours from the buckets."""
    start, end = cuts[0], cuts[-1]
    first, last = bucket_floor(start), bucket_floor(end)
    lo = first if first == start else first + BUCKET
    spans = coarse_spans(lo, last, cuts) if lo < last else {}
    covered = sorted(span for unit in spans.values() for span in unit)
    quarters: list[datetime] = []
    at, skipped = first, set(split)
    for a, b in [*covered, (end, end)]:
        while at < a and len(quarters) <= MAX_LISTED_QUARTERS:
            if at not in skipped:
                quarters.append(at)
            at += BUCKET
        at = max(at, b)
    out: dict[tuple[int, Key], Tally] = defaultdict(Tally)
    quarter_src = _buckets(metric)
    if len(quarters) > MAX_LISTED_QUARTERS:
        t = quarter_src.time
        when = and_(t >= first, t < end, t.not_in(split))
        return _run(session, quarter_src, cuts, when, filters, group)
    for unit, table in ((DAY, MetricRollupDay), (HOUR, MetricRollupHour)):
        if spans.get(unit):
            src = _buckets(metric, table)
            when = or_(*(and_(src.time >= a, src.time < b) for a, b in spans[unit]))
            _merge(out, _run(session, src, cuts, when, filters, group))
    if quarters:
        listed = bindparam("quarters", quarters, type_=ARRAY(DateTime(timezone=True)))
        _merge(
            out,
            _run(session, quarter_src, cuts, quarter_src.time == func.any(listed), filters, group),
        )
    return dict(out)


def _finish(grid: dict[tuple[int, Key], Tally], group: GroupBy | None) -> Grid:
    """Absent touchpoint/language are '' in buckets; report them as None like untagged."""
    if group is None or group.dimension is None:
        return dict(grid)
    out: dict[tuple[int, Key], Tally] = defaultdict(Tally)
    for (i, key), t in grid.items():
        out[(i, key or None)] = out[(i, key or None)] + t
    return dict(out)
