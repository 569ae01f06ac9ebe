"""Storing batches in the real database: each event counted once, in the hour it happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.store import Positioned, StoreResult, store_batch
from shared.db import transaction
from shared.metric_math import tally_of
from shared.models import Feedback, MetricBucket
from tests.support.events import make_event

TOLERANCE = timedelta(hours=24)
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def store(sessions: sessionmaker[Session], events: list, start_offset: int = 0) -> StoreResult:
    batch = [
        Positioned(event=e, partition=0, offset=start_offset + i) for i, e in enumerate(events)
    ]
    with transaction(sessions) as session:
        return store_batch(session=session, batch=batch, future_tolerance=TOLERANCE)


def buckets(sessions: sessionmaker[Session]) -> dict[tuple, tuple]:
    with sessions() as s:
        rows = s.execute(select(MetricBucket)).scalars()
        return {
            (r.metric, r.bucket_start, r.source_id, r.touchpoint): (
                r.count,
                r.score_sum,
                r.score_sq_sum,
                r.low,
                r.mid,
                r.high,
            )
            for r in rows
        }


def test_each_event_counts_once_however_often_it_is_delivered(
    sessions: sessionmaker[Session],
) -> None:
    scores = [10, 9, 8, 7, 6, 0, 9]
    events = [
        make_event(response_id=f"r{i}", score=s, occurred_at=T0 + timedelta(minutes=i))
        for i, s in enumerate(scores)
    ]
    first = store(sessions, events + events[:2])  # duplicates inside one batch
    again = store(sessions, events, start_offset=100)  # the whole batch redelivered
    assert (first.stored, first.duplicates) == (7, 2)
    assert (again.stored, again.duplicates) == (0, 7)
    t = tally_of("nps", scores)
    assert buckets(sessions) == {
        ("nps", T0, "src_test", ""): (t.count, t.score_sum, t.score_sq_sum, 2, 2, 3)
    }
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == 7


def test_events_count_in_the_hour_they_occurred_even_when_late(
    sessions: sessionmaker[Session],
) -> None:
    now = datetime.now(UTC)
    late = make_event(
        response_id="late", score=3, occurred_at=T0 - timedelta(days=3, minutes=-5), received_at=now
    )
    on_time = make_event(response_id="now", score=10, occurred_at=T0 + timedelta(minutes=59))
    other_zone = make_event(
        response_id="tz", score=10, occurred_at=datetime.fromisoformat("2026-11-20T13:30:00+03:00")
    )
    store(sessions, [late, on_time, other_zone])
    got = buckets(sessions)
    assert got[("nps", T0 - timedelta(days=3), "src_test", "")][0] == 1
    assert got[("nps", T0, "src_test", "")][0] == 2  # 10:59 UTC and 13:30+03:00 = 10:30 UTC


def test_future_events_are_stored_flagged_and_kept_out_of_scores(
    sessions: sessionmaker[Session],
) -> None:
    now = datetime.now(UTC)
    future = make_event(response_id="future", occurred_at=now + timedelta(days=3), received_at=now)
    result = store(sessions, [future])
    assert (result.stored, result.excluded) == (1, 1)
    assert buckets(sessions) == {}
    with sessions() as s:
        reason = s.scalar(select(Feedback.excluded_reason))
    assert reason is not None and "after received_at" in reason


def test_comment_only_feedback_is_stored_without_touching_scores(
    sessions: sessionmaker[Session],
) -> None:
    result = store(
        sessions, [make_event(response_id="c", metric=None, score=None, text="Slow app")]
    )
    assert result.stored == 1
    assert buckets(sessions) == {}


def test_dimensions_get_separate_buckets(sessions: sessionmaker[Session]) -> None:
    events = [
        make_event(response_id="a", occurred_at=T0, touchpoint="checkout"),
        make_event(response_id="b", occurred_at=T0, touchpoint="support"),
        make_event(response_id="c", occurred_at=T0, source_id="src_other"),
        make_event(response_id="d", occurred_at=T0, metric="csat", score=4),
    ]
    store(sessions, events)
    assert set(buckets(sessions)) == {
        ("nps", T0, "src_test", "checkout"),
        ("nps", T0, "src_test", "support"),
        ("nps", T0, "src_other", ""),
        ("csat", T0, "src_test", ""),
    }
