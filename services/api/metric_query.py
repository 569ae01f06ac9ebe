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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import DateTime

from services.scoring.aggregation import BUCKET, bucket_floor
from shared.metric_math import Metric, Tally, band_scores
from shared.models import Feedback, MetricBucket, MetricTagBucket

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

    def dimensions(self) -> dict[str, str]:
        """The non-tag filters that are set."""
        return {d: v for d in DIMENSIONS if (v := getattr(self, d)) is not None}


@dataclass(frozen=True)
class GroupBy:
    """A breakdown: by one dimension column, or by the value of one tag key."""

    dimension: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class _Source:
    """A table tallies can be read from, with its columns under common names."""

    time: Any
    tallies: tuple[ColumnElement[Any], ...]
    conditions: tuple[ColumnElement[bool], ...]
    dims: Mapping[str, ColumnElement[str]]
    tag_value: Any = None  # the group key of a tag breakdown, if this source can give it


def _bucket_sums(t: type[MetricBucket] | type[MetricTagBucket]) -> tuple[ColumnElement[Any], ...]:
    cols = (t.count, t.score_sum, t.score_sq_sum, t.low, t.mid, t.high)
    return tuple(func.coalesce(func.sum(c), 0) for c in cols)


def _buckets(metric: Metric) -> _Source:
    b = MetricBucket
    return _Source(
        time=b.bucket_start,
        tallies=_bucket_sums(b),
        conditions=(b.metric == metric,),
        dims={d: getattr(b, d) for d in DIMENSIONS},
    )


def _tag_buckets(metric: Metric, key: str, value: str | None = None) -> _Source:
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


def _raw(metric: Metric, tags: Sequence[tuple[str, str]], group_tag: str | None) -> _Source:
    fb = Feedback
    bands = []
    for which in ("low", "mid", "high"):
        scores = band_scores(metric, which)
        bands.append(func.count().filter(fb.score.in_(scores)) if scores else literal(0))
    conditions = [fb.metric == metric, fb.score.is_not(None), fb.excluded_reason.is_(None)]
    if tags:
        conditions.append(fb.tags.contains(dict(tags)))
    return _Source(
        time=fb.occurred_at,
        tallies=(
            func.count(fb.score),
            func.coalesce(func.sum(fb.score), 0),
            func.coalesce(func.sum(fb.score * fb.score), 0),
            *bands,
        ),
        conditions=tuple(conditions),
        dims={d: func.coalesce(getattr(fb, d), "") for d in DIMENSIONS},
        tag_value=None if group_tag is None else fb.tags.op("->>")(group_tag),
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
    out: Grid = {}
    for row in session.execute(query):
        key = row[1] if group is not None else None
        count, total, total_sq, low, mid, high = row[len(keys) :]
        tally = Tally(int(count), float(total), float(total_sq), int(low), int(mid), int(high))
        out[(int(row[0]) - 1, key)] = tally
    return out


def _minus(a: Tally, b: Tally) -> Tally:
    return Tally(
        a.count - b.count,
        a.score_sum - b.score_sum,
        a.score_sq_sum - b.score_sq_sum,
        a.low - b.low,
        a.mid - b.mid,
        a.high - b.high,
    )


def _merge(into: dict[tuple[int, Key], Tally], part: Grid) -> None:
    for k, t in part.items():
        into[k] = into[k] + t


def tallies(
    *,
    session: Session,
    metric: Metric,
    cuts: Sequence[datetime],
    filters: Filters,
    group: GroupBy | None = None,
) -> Grid:
    """Tallies of counted responses in each [cuts[i], cuts[i+1]), by group key if asked."""
    start, end = cuts[0], cuts[-1]
    out: dict[tuple[int, Key], Tally] = defaultdict(Tally)
    tag_group = group.tag if group is not None else None
    if len(filters.tags) >= 2 or (filters.tags and tag_group is not None):
        raw = _raw(metric, filters.tags, tag_group)
        _merge(
            out, _run(session, raw, cuts, and_(raw.time >= start, raw.time < end), filters, group)
        )
        return _finish(out, group)
    # Buckets that a cut falls inside are read raw, for just the part in the window.
    split = sorted({bucket_floor(c) for c in cuts if bucket_floor(c) != c})
    if split:
        raw = _raw(metric, filters.tags, tag_group)
        edges = or_(
            *(and_(raw.time >= max(s, start), raw.time < min(s + BUCKET, end)) for s in split)
        )
        _merge(out, _run(session, raw, cuts, edges, filters, group))

    def body(src: _Source) -> ColumnElement[bool]:
        return and_(src.time >= bucket_floor(start), src.time < end, src.time.not_in(split))

    if filters.tags:
        ((key, value),) = filters.tags
        src = _tag_buckets(metric, key, value)
        _merge(out, _run(session, src, cuts, body(src), filters, group))
    elif tag_group is not None:
        src = _tag_buckets(metric, tag_group)
        tagged = _run(session, src, cuts, body(src), filters, group)
        whole_src = _buckets(metric)
        whole = _run(session, whole_src, cuts, body(whole_src), filters, None)
        tagged_sum: dict[int, Tally] = defaultdict(Tally)
        for (i, _), part in tagged.items():
            tagged_sum[i] = tagged_sum[i] + part
        for (i, _), t in whole.items():
            out[(i, None)] = out[(i, None)] + _minus(t, tagged_sum[i])
        _merge(out, tagged)
    else:
        src = _buckets(metric)
        _merge(out, _run(session, src, cuts, body(src), filters, group))
    return _finish(out, group)


def _finish(grid: dict[tuple[int, Key], Tally], group: GroupBy | None) -> Grid:
    """Absent touchpoint/language are '' in buckets; report them as None like untagged."""
    if group is None or group.dimension is None:
        return dict(grid)
    out: dict[tuple[int, Key], Tally] = defaultdict(Tally)
    for (i, key), t in grid.items():
        out[(i, key or None)] = out[(i, key or None)] + t
    return dict(out)
