"""A realistic event stream with its ground truth, for the exactly-once and scale-out tests.

The stream has what real streams have: several sources and dimensions, events arriving
days late and out of order, and the same event produced more than once (a provider
retrying after a timeout). The ground truth is computed in Python from the sent data,
independently of the SQL that maintains the buckets.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from kafka import TopicPartition
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from shared.buckets import bucket_floor
from shared.events import FeedbackEvent, event_id_for
from shared.kafka import EventProducer
from shared.metric_math import METRICS, SCALES, Metric, Tally, tally_of
from shared.models import MetricBucket, MetricTagBucket

BucketKey = tuple[str, datetime, str, str, str, str]


def generate(n: int, *, seed: int, duplicate_share: float = 0.05) -> list[FeedbackEvent]:
    """n distinct responses plus re-sent copies, in arrival order (late ones mixed in)."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    events = []
    for i in range(n):
        metric: Metric = rng.choice(("nps", "nps", "csat", "ces"))
        lo, hi = SCALES[metric]
        late = rng.random() < 0.1  # a tenth arrive days after they happened
        occurred = now - timedelta(seconds=rng.randint(0, 3 * 86400 if late else 3600))
        source = f"src_{rng.randint(1, 3)}"
        events.append(
            FeedbackEvent(
                event_id=event_id_for(source_id=source, provider_message_id=f"r{seed}-{i}"),
                source_id=source,
                channel=rng.choice(("web", "sms", "email", "chat")),
                provider="generic",
                provider_message_id=f"r{seed}-{i}",
                occurred_at=occurred,
                received_at=now,
                metric=metric,
                score=rng.randint(lo, hi),
                touchpoint=rng.choice((None, "checkout", "support")),
                language=rng.choice(("en", "ar")),
                tags={"plan": rng.choice(("pro", "free"))} if rng.random() < 0.5 else {},
                text=rng.choice((None, "fast", "بطيء جدا")),
                request_id=uuid.uuid4().hex,
            )
        )
    copies = rng.sample(events, int(n * duplicate_share))
    stream = events + copies
    rng.shuffle(stream)
    return stream


def expected_buckets(stream: Iterable[FeedbackEvent]) -> tuple[dict[BucketKey, Tally], dict]:
    """Ground truth: each distinct event counted once in its quarter-hour, by plain Python."""
    unique = {e.event_id: e for e in stream}
    scores: dict[BucketKey, list[int]] = defaultdict(list)
    tag_scores: dict[tuple, list[int]] = defaultdict(list)
    for e in unique.values():
        assert e.metric is not None and e.score is not None
        key = (
            e.metric,
            bucket_floor(e.occurred_at.astimezone(UTC)),
            e.channel,
            e.source_id,
            e.touchpoint or "",
            e.language or "",
        )
        scores[key].append(e.score)
        for tag, value in e.tags.items():
            tag_scores[(*key, tag, value)].append(e.score)
    return (
        {k: tally_of(k[0], v) for k, v in scores.items()},  # type: ignore[arg-type]
        {k: tally_of(k[0], v) for k, v in tag_scores.items()},
    )


def stored_buckets(sessions: sessionmaker[Session]) -> tuple[dict[BucketKey, Tally], dict]:
    """What the database holds, in the same shape as expected_buckets."""

    def tally(r: MetricBucket | MetricTagBucket) -> Tally:
        return Tally(r.count, r.score_sum, r.score_sq_sum, r.low, r.mid, r.high)

    with sessions() as s:
        plain = {
            (r.metric, r.bucket_start, r.channel, r.source_id, r.touchpoint, r.language): tally(r)
            for r in s.scalars(select(MetricBucket))
            if r.count and r.metric in METRICS  # comment sentiment is checked elsewhere
        }
        tagged = {
            (
                r.metric,
                r.bucket_start,
                r.channel,
                r.source_id,
                r.touchpoint,
                r.language,
                r.tag_key,
                r.tag_value,
            ): tally(r)
            for r in s.scalars(select(MetricTagBucket))
            if r.count and r.metric in METRICS
        }
    return plain, tagged


def produce(
    bootstrap: str, topic: str, stream: Iterable[FeedbackEvent]
) -> dict[TopicPartition, int]:
    """Produce with acks=all as ingest does; return the last acknowledged offset per partition."""
    producer = EventProducer(bootstrap, client_id="test-stream", linger_ms=5)
    last: dict[TopicPartition, int] = {}
    try:
        client = producer._client()
        futures = [client.send(topic, key=e.event_id.bytes, value=e.to_bytes()) for e in stream]
        client.flush()
        for f in futures:
            meta = f.get(timeout=30)
            tp = TopicPartition(meta.topic, meta.partition)
            last[tp] = max(last.get(tp, -1), meta.offset)
    finally:
        producer.close()
    return last


def rollup_mismatches(sessions: sessionmaker[Session]) -> list[tuple[object, ...]]:
    """Rows where the hour or day rollup differs from its quarter-hour buckets summed up.

    Sums are rounded: comment sentiment scores are floats, added in a different order.
    """
    dims = "metric, channel, source_id, touchpoint, language"
    sums = (
        "sum(count), round(sum(score_sum)::numeric, 6), round(sum(score_sq_sum)::numeric, 6), "
        "sum(low), sum(mid), sum(high)"
    )
    wrong: list[tuple[object, ...]] = []
    with sessions() as s:
        for unit, table in (("hour", "metric_rollup_hour"), ("day", "metric_rollup_day")):
            derived = (
                f"SELECT {dims}, date_trunc('{unit}', bucket_start, 'UTC') AS at, {sums} "  # noqa: S608
                f"FROM metric_bucket GROUP BY {dims}, at HAVING sum(count) <> 0"
            )
            stored = (
                f"SELECT {dims}, bucket_start AS at, {sums} FROM {table} "  # noqa: S608
                f"GROUP BY {dims}, at HAVING sum(count) <> 0"
            )
            for a, b in ((derived, stored), (stored, derived)):
                wrong += [tuple(r) for r in s.execute(text(f"({a}) EXCEPT ({b})"))]
    return wrong
