"""Storing a batch of events once and adding them to their buckets, in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from services.scoring.aggregation import bucket_deltas
from shared.events import FeedbackEvent
from shared.models import Feedback, MetricBucket


@dataclass(frozen=True)
class Positioned:
    """An event with the broker position it was read from, kept for tracing it back."""

    event: FeedbackEvent
    partition: int
    offset: int


@dataclass(frozen=True)
class StoreResult:
    """What a batch did: new events stored, redeliveries ignored, and events kept out of scores."""

    stored: int
    duplicates: int
    excluded: int


def exclusion_reason(event: FeedbackEvent, *, future_tolerance: timedelta) -> str | None:
    """Why an event must not count in the scores, or None if it should."""
    ahead = event.occurred_at - event.received_at
    if ahead > future_tolerance:
        hours = ahead.total_seconds() / 3600
        return f"occurred_at is {hours:.1f} h after received_at (limit {future_tolerance})"
    return None


def store_batch(
    *, session: Session, batch: Sequence[Positioned], future_tolerance: timedelta
) -> StoreResult:
    """Insert the events not stored before and add exactly those to the buckets.

    The feedback primary key is the event id, so a redelivered record inserts nothing and
    adds nothing: this is what makes re-processing after a crash harmless.
    """
    unique: dict[object, Positioned] = {}
    for item in batch:
        unique.setdefault(item.event.event_id, item)
    rows = []
    reasons = {}
    for item in unique.values():
        e = item.event
        reason = exclusion_reason(e, future_tolerance=future_tolerance)
        reasons[e.event_id] = reason
        rows.append(
            {
                "event_id": e.event_id,
                "source_id": e.source_id,
                "channel": e.channel,
                "provider": e.provider,
                "provider_message_id": e.provider_message_id,
                "metric": e.metric,
                "score": e.score,
                "text_": e.text,
                "language": e.language,
                "respondent_id": e.respondent_id,
                "touchpoint": e.touchpoint,
                "tags": e.tags,
                "occurred_at": e.occurred_at,
                "received_at": e.received_at,
                "excluded_reason": reason,
                "request_id": e.request_id,
                "kafka_partition": item.partition,
                "kafka_offset": item.offset,
            }
        )
    if not rows:
        return StoreResult(stored=0, duplicates=len(batch), excluded=0)
    # executemany form: one cached statement, batched by the driver, instead of compiling
    # a thousand-row VALUES clause for every batch.
    inserted = set(
        session.scalars(
            pg_insert(Feedback)
            .on_conflict_do_nothing(index_elements=[Feedback.event_id])
            .returning(Feedback.event_id),
            rows,
        )
    )
    counted = [unique[i].event for i in inserted if reasons[i] is None]
    deltas = bucket_deltas(counted)
    if deltas:
        # Sorted so that concurrent workers lock bucket rows in the same order and never deadlock.
        values = [
            {
                **key._asdict(),
                "count": t.count,
                "score_sum": t.score_sum,
                "score_sq_sum": t.score_sq_sum,
                "low": t.low,
                "mid": t.mid,
                "high": t.high,
            }
            for key, t in sorted(deltas.items())
        ]
        stmt = pg_insert(MetricBucket)
        session.execute(
            stmt.on_conflict_do_update(
                constraint="pk_metric_bucket",
                set_={
                    col: getattr(MetricBucket, col) + getattr(stmt.excluded, col)
                    for col in ("count", "score_sum", "score_sq_sum", "low", "mid", "high")
                },
            ),
            values,
        )
    return StoreResult(
        stored=len(inserted),
        duplicates=len(batch) - len(inserted),
        excluded=sum(1 for i in inserted if reasons[i] is not None),
    )
