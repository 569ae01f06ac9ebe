"""What rule conditions read: window tallies from the metric buckets and recent raw feedback.

Windows are whole 15-minute buckets ending with the bucket that holds `now`, so one grouped
SUM over `metric_bucket` answers both windows of a drop rule at once; the current bucket
counts whatever it holds so far. This reads the tables directly rather than through the
API's query module, since scoring must not depend on the API service.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, literal, select
from sqlalchemy.orm import Session

from shared.alert_models import Alert
from shared.buckets import BUCKET, bucket_floor
from shared.metric_math import Tally
from shared.models import Feedback, MetricBucket


def window_end(now: datetime) -> datetime:
    """The exclusive end of every window evaluated at `now`: the end of now's bucket."""
    return bucket_floor(now) + BUCKET


def _dimension_filters(table: Any, filters: dict[str, str]) -> list[ColumnElement[bool]]:
    out = []
    for name, value in filters.items():
        column = getattr(table, name)
        out.append(func.coalesce(column, "") == value)
    return out


def _group_column(table: Any, group_by: str | None) -> ColumnElement[Any]:
    if group_by is None:
        return literal("")
    return func.coalesce(getattr(table, group_by), "")


def split_window_tallies(
    *,
    session: Session,
    metric: str,
    filters: dict[str, str],
    group_by: str | None,
    start: datetime,
    split: datetime,
    end: datetime,
) -> dict[str, tuple[Tally, Tally]]:
    """Tallies of [start, split) and [split, end) by group key, from one grouped SUM."""
    b = MetricBucket
    group = _group_column(b, group_by)
    recent = b.bucket_start >= split
    sums = (b.count, b.score_sum, b.score_sq_sum, b.low, b.mid, b.high)
    query = (
        select(group, recent, *(func.sum(c) for c in sums))
        .where(
            b.metric == metric,
            b.bucket_start >= start,
            b.bucket_start < end,
            *_dimension_filters(b, filters),
        )
        .group_by(group, recent)
    )
    out: dict[str, list[Tally]] = defaultdict(lambda: [Tally(), Tally()])
    for key, is_recent, count, total, total_sq, low, mid, high in session.execute(query):
        tally = Tally(int(count), float(total), float(total_sq), int(low), int(mid), int(high))
        out[str(key)][1 if is_recent else 0] = tally
    return {k: (v[0], v[1]) for k, v in out.items()}


@dataclass(frozen=True)
class Activity:
    """How much feedback a group received before the quiet period, and when it last did."""

    before: int
    last_seen_at: datetime | None


def activity(
    *,
    session: Session,
    metric: str | None,
    filters: dict[str, str],
    group_by: str | None,
    start: datetime,
    quiet_since: datetime,
) -> dict[str, Activity]:
    """Per group: responses in [start, quiet_since) and the latest occurred_at since start."""
    f = Feedback
    group = _group_column(f, group_by)
    conditions = [f.occurred_at >= start, *_dimension_filters(f, filters)]
    if metric is not None:
        conditions.append(f.metric == metric)
    query = (
        select(group, func.count().filter(f.occurred_at < quiet_since), func.max(f.occurred_at))
        .where(*conditions)
        .group_by(group)
    )
    return {
        str(key): Activity(before=int(before), last_seen_at=last)
        for key, before, last in session.execute(query)
    }


@dataclass(frozen=True)
class Response:
    """One stored response an each_response rule matched, with what a person needs to follow up."""

    event_id: uuid.UUID
    source_id: str
    channel: str
    respondent_id: str | None
    metric: str | None
    score: int | None
    text: str | None
    touchpoint: str | None
    language: str | None
    occurred_at: datetime

    def evidence(self) -> dict[str, Any]:
        """JSON-ready form for the alert's evidence and the notification."""
        return {
            "condition": "each_response",
            "event_id": str(self.event_id),
            "source_id": self.source_id,
            "channel": self.channel,
            "respondent_id": self.respondent_id,
            "metric": self.metric,
            "score": self.score,
            "text": self.text,
            "touchpoint": self.touchpoint,
            "language": self.language,
            "occurred_at": self.occurred_at.isoformat(),
        }


def unmatched_responses(
    *,
    session: Session,
    rule_id: str,
    metric: str | None,
    filters: dict[str, str],
    min_score: int | None,
    max_score: int | None,
    require_comment: bool,
    stored_since: datetime,
    limit: int,
) -> list[Response]:
    """Responses stored since `stored_since` that match and have no alert of this rule yet."""
    f = Feedback
    conditions: list[ColumnElement[bool]] = [
        f.stored_at >= stored_since,
        f.excluded_reason.is_(None),
        *_dimension_filters(f, filters),
        ~select(Alert.id).where(Alert.rule_id == rule_id, Alert.event_id == f.event_id).exists(),
    ]
    if metric is not None:
        conditions.append(f.metric == metric)
    if min_score is not None:
        conditions.append(f.score >= min_score)
    if max_score is not None:
        conditions.append(f.score <= max_score)
    if require_comment:
        conditions.append(func.length(func.btrim(func.coalesce(f.text_, ""))) > 0)
    query = (
        select(
            f.event_id,
            f.source_id,
            f.channel,
            f.respondent_id,
            f.metric,
            f.score,
            f.text_,
            f.touchpoint,
            f.language,
            f.occurred_at,
        )
        .where(*conditions)
        .order_by(f.stored_at, f.event_id)
        .limit(limit)
    )
    return [
        Response(
            event_id=row[0],
            source_id=row[1],
            channel=row[2],
            respondent_id=row[3],
            metric=row[4],
            score=row[5],
            text=row[6],
            touchpoint=row[7],
            language=row[8],
            occurred_at=row[9],
        )
        for row in session.execute(query)
    ]
