"""Answering "what is the metric over this window, with these filters" exactly and cheaply.

Whole hours are summed from the hourly buckets; the partial hours at either end of the
window are read from the stored feedback itself, so a window that does not start on the
hour (the last 1 h, say) is exact rather than rounded to bucket edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.orm import Session

from shared.metric_math import SCALES, Metric, Tally, band
from shared.models import Feedback, MetricBucket


@dataclass(frozen=True)
class Filters:
    """Dimension filters a metric read can be narrowed by; None means any."""

    channel: str | None = None
    source_id: str | None = None
    touchpoint: str | None = None


def floor_hour(at: datetime) -> datetime:
    """The start of the UTC hour containing `at`."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def ceil_hour(at: datetime) -> datetime:
    """The first UTC hour boundary at or after `at`."""
    floor = floor_hour(at)
    return floor if floor == at else floor + timedelta(hours=1)


def tally_between(
    *, session: Session, metric: Metric, start: datetime, end: datetime, filters: Filters
) -> Tally:
    """The tally of all counted responses with start <= occurred_at < end."""
    if end <= start:
        return Tally()
    body_start, body_end = ceil_hour(start), floor_hour(end)
    if body_start >= body_end:
        return _raw_tally(session, metric, start, end, filters)
    total = _bucket_tally(session, metric, body_start, body_end, filters)
    if start < body_start:
        total = total + _raw_tally(session, metric, start, body_start, filters)
    if body_end < end:
        total = total + _raw_tally(session, metric, body_end, end, filters)
    return total


def _bucket_tally(
    session: Session, metric: Metric, start: datetime, end: datetime, f: Filters
) -> Tally:
    b = MetricBucket
    query = select(
        func.coalesce(func.sum(b.count), 0),
        func.coalesce(func.sum(b.score_sum), 0.0),
        func.coalesce(func.sum(b.score_sq_sum), 0.0),
        func.coalesce(func.sum(b.low), 0),
        func.coalesce(func.sum(b.mid), 0),
        func.coalesce(func.sum(b.high), 0),
    ).where(b.metric == metric, b.bucket_start >= start, b.bucket_start < end)
    if f.channel is not None:
        query = query.where(b.channel == f.channel)
    if f.source_id is not None:
        query = query.where(b.source_id == f.source_id)
    if f.touchpoint is not None:
        query = query.where(b.touchpoint == f.touchpoint)
    return _tally(session.execute(query).one())


def _band_count(metric: Metric, which: str) -> ColumnElement[int]:
    scores = [
        s for s in range(SCALES[metric][0], SCALES[metric][1] + 1) if band(metric, s) == which
    ]
    if not scores:
        return literal(0)
    return func.count(case((Feedback.score.in_(scores), 1)))


def _raw_tally(
    session: Session, metric: Metric, start: datetime, end: datetime, f: Filters
) -> Tally:
    fb = Feedback
    query = select(
        func.count(fb.score),
        func.coalesce(func.sum(fb.score), 0),
        func.coalesce(func.sum(fb.score * fb.score), 0),
        _band_count(metric, "low"),
        _band_count(metric, "mid"),
        _band_count(metric, "high"),
    ).where(
        fb.metric == metric,
        fb.excluded_reason.is_(None),
        fb.occurred_at >= start,
        fb.occurred_at < end,
    )
    if f.channel is not None:
        query = query.where(fb.channel == f.channel)
    if f.source_id is not None:
        query = query.where(fb.source_id == f.source_id)
    if f.touchpoint is not None:
        query = query.where(func.coalesce(fb.touchpoint, "") == f.touchpoint)
    return _tally(session.execute(query).one())


def _tally(row: Any) -> Tally:
    count, total, total_sq, low, mid, high = row
    return Tally(int(count), float(total), float(total_sq), int(low), int(mid), int(high))
