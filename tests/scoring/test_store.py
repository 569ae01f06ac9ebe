"""Storing batches in the real database: each event counted once, in the hour it happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.store import Positioned, StoreResult, store_batch
from shared.db import transaction
from shared.metric_math import tally_of
from shared.models import Feedback, MetricBucket, MetricTagBucket
from tests.support.events import make_event

TOLERANCE = timedelta(hours=24)
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def store(sessions: sessionmaker[Session], events: list, start_offset: int = 0) -> StoreResult:
    batch = [
        Positioned(event=e, partition=0, offset=start_offset + i) for i, e in enumerate(events)
    ]
    with transaction(sessions) as session:
        return store_batch(session=session, batch=batch, future_tolerance=TOLERANCE)


def buckets(sessions: sessionmaker[Session], table: type = MetricBucket) -> dict[tuple, tuple]:
    """Non-empty buckets as {(metric, start, source, touchpoint[, tag key, tag value]): tallies}."""
    with sessions() as s:
        rows = s.execute(select(table)).scalars()
        return {
            (
                r.metric,
                r.bucket_start,
                r.source_id,
                r.touchpoint,
                *((r.tag_key, r.tag_value) if table is MetricTagBucket else ()),
            ): (r.count, r.score_sum, r.score_sq_sum, r.low, r.mid, r.high)
            for r in rows
            if r.count
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
    }  # minutes 0-6 all fall in the 10:00 quarter-hour
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Feedback)) == 7


def test_events_count_in_the_quarter_hour_they_occurred_even_when_late(
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
    assert got[("nps", T0 - timedelta(days=3), "src_test", "")][0] == 1  # 10:05 three days ago
    assert got[("nps", T0 + timedelta(minutes=45), "src_test", "")][0] == 1  # 10:59
    assert got[("nps", T0 + timedelta(minutes=30), "src_test", "")][0] == 1  # 13:30+03:00


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


def test_a_higher_revision_replaces_the_stored_response_in_every_bucket(
    sessions: sessionmaker[Session],
) -> None:
    first = make_event(response_id="r", score=3, occurred_at=T0, tags={"plan": "pro"})
    store(sessions, [first])
    # The survey tool sends the response again with a changed score and a comment.
    revised = make_event(
        response_id="r",
        score=9,
        occurred_at=T0,
        tags={"plan": "pro"},
        text="Changed my mind",
        revision=2,
    )
    stale = make_event(response_id="r", score=0, occurred_at=T0, revision=1)
    result = store(sessions, [revised], start_offset=10)
    late_stale = store(sessions, [stale], start_offset=20)
    assert (result.stored, result.revised) == (0, 1)
    assert (late_stale.stored, late_stale.revised, late_stale.duplicates) == (0, 0, 1)
    assert buckets(sessions) == {("nps", T0, "src_test", ""): (1, 9.0, 81.0, 0, 0, 1)}
    assert buckets(sessions, MetricTagBucket) == {
        ("nps", T0, "src_test", "", "plan", "pro"): (1, 9.0, 81.0, 0, 0, 1)
    }
    with sessions() as s:
        assert s.scalar(select(Feedback.text_)) == "Changed my mind"


def test_a_revision_can_move_a_response_out_of_the_scores(sessions: sessionmaker[Session]) -> None:
    store(sessions, [make_event(response_id="r", score=10, occurred_at=T0)])
    store(
        sessions,
        [
            make_event(
                response_id="r",
                metric=None,
                score=None,
                text="just a comment",
                occurred_at=T0,
                revision=1,
            )
        ],
    )
    assert buckets(sessions) == {}


def test_each_tag_gets_its_own_bucket_and_adds_up_to_the_tagged_whole(
    sessions: sessionmaker[Session],
) -> None:
    store(
        sessions,
        [
            make_event(
                response_id="a", score=10, occurred_at=T0, tags={"plan": "pro", "region": "eu"}
            ),
            make_event(response_id="b", score=0, occurred_at=T0, tags={"plan": "free"}),
            make_event(response_id="c", score=8, occurred_at=T0),
        ],
    )
    tagged = buckets(sessions, MetricTagBucket)
    assert {k[4:]: v[0] for k, v in tagged.items()} == {
        ("plan", "pro"): 1,
        ("region", "eu"): 1,
        ("plan", "free"): 1,
    }
    assert buckets(sessions)[("nps", T0, "src_test", "")][0] == 3
