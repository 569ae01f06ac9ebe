"""Turning newly stored events into additions to hourly metric buckets."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from shared.events import FeedbackEvent
from shared.metric_math import Tally, tally_of


class BucketKey(NamedTuple):
    """The primary key of a metric bucket; absent dimensions are ''."""

    metric: str
    bucket_start: datetime
    channel: str
    source_id: str
    touchpoint: str


def bucket_start(at: datetime) -> datetime:
    """The UTC hour of event time a response counts in; late events simply add to an old hour."""
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def bucket_deltas(events: Iterable[FeedbackEvent]) -> dict[BucketKey, Tally]:
    """Sum the scored events by bucket, so each bucket row is updated once per batch."""
    deltas: dict[BucketKey, Tally] = defaultdict(Tally)
    for e in events:
        if e.metric is None or e.score is None:
            continue
        key = BucketKey(
            e.metric, bucket_start(e.occurred_at), e.channel, e.source_id, e.touchpoint or ""
        )
        deltas[key] = deltas[key] + tally_of(e.metric, [e.score])
    return dict(deltas)
