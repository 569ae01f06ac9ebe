"""Comment analysis in scoring: language, sentiment and themes stored with each event and
tallied exactly once, through a real `voc scoring` process, broker and database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from services.run import wait_until_consumed
from services.scoring.analysis import BatchAnalyser
from services.scoring.rebuild import rebuild_aggregates
from services.scoring.store import Positioned, store_batch
from shared.db import transaction
from shared.events import FeedbackEvent
from shared.models import Feedback, MetricBucket, MetricTagBucket, ThemeDefinition
from shared.settings import CommonSettings
from tests.support.events import make_event
from tests.support.stack import Service, service_env
from tests.support.stream import produce

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
BUCKET_TABLES = ("metric_bucket", "metric_tag_bucket", "theme_bucket")


@pytest.fixture
def scoring(common_env: dict[str, str], log_dir: Path) -> Iterator[Service]:
    """One scoring worker that reloads the taxonomy on every batch."""
    env = service_env(common_env, SCORING_TAXONOMY_REFRESH_SECONDS="0", VOC_LOG_LEVEL="INFO")
    worker = Service("scoring", env, log_dir / "scoring.log").start()
    yield worker
    assert worker.stop() == 0


def send(common: CommonSettings, group: str, events: list[FeedbackEvent]) -> None:
    marks = produce(common.kafka_bootstrap_servers, common.voc_feedback_topic, events)
    assert wait_until_consumed(common, group, marks, timeout_s=90), "scoring did not catch up"


def stored(sessions: sessionmaker[Session]) -> dict[str, Feedback]:
    with sessions() as s:
        return {f.provider_message_id: f for f in s.scalars(select(Feedback))}


def sentiment_tally(sessions: sessionmaker[Session], table: type = MetricBucket) -> tuple:
    """(count, score_sum, negative, neutral, positive) of all sentiment bucket rows."""
    columns = (table.count, table.score_sum, table.low, table.mid, table.high)
    query = select(*(func.coalesce(func.sum(c), 0) for c in columns))
    with sessions() as s:
        count, total, low, mid, high = s.execute(query.where(table.metric == "sentiment")).one()
    return int(count), pytest.approx(float(total), abs=1e-9), int(low), int(mid), int(high)


def snapshot(sessions: sessionmaker[Session]) -> dict[str, set[tuple]]:
    with sessions() as s:
        return {
            t: {tuple(r) for r in s.execute(text(f"SELECT * FROM {t} WHERE count <> 0"))}  # noqa: S608
            for t in BUCKET_TABLES
        }


def test_worker_analyses_arabic_and_english_and_follows_taxonomy_edits(
    common: CommonSettings,
    common_env: dict[str, str],
    sessions: sessionmaker[Session],
    scoring: Service,
) -> None:
    events = [
        make_event(
            response_id="en_neg",
            score=2,
            occurred_at=T0,
            text="The delivery was very late and the staff were rude",
        ),
        make_event(
            response_id="en_pos", score=10, occurred_at=T0, text="Great app, super easy to use!"
        ),
        make_event(
            response_id="ar_pos",
            score=9,
            occurred_at=T0,
            text="التوصيل كان سريع جدا والخدمة ممتازة",
        ),
        make_event(
            response_id="ar_neg",
            score=3,
            occurred_at=T0,
            text="السعر غالي والجودة سيئة",
            language="ar-SA",
        ),
        make_event(response_id="silent", score=8, occurred_at=T0),
    ]
    send(common, common_env["SCORING_GROUP_ID"], events)
    rows = stored(sessions)
    assert {k: (r.language, r.sentiment_label) for k, r in rows.items()} == {
        "en_neg": ("en", "negative"),
        "en_pos": ("en", "positive"),
        "ar_pos": ("ar", "positive"),
        "ar_neg": ("ar-SA", "negative"),  # the provider's language is kept
        "silent": (None, None),
    }
    assert {"delivery", "staff_friendliness"} <= set(rows["en_neg"].themes or [])
    assert {"ease_of_use", "website_app"} <= set(rows["en_pos"].themes or [])
    assert "delivery" in (rows["ar_pos"].themes or [])
    assert {"price_value", "product_quality"} <= set(rows["ar_neg"].themes or [])
    assert rows["silent"].themes is None and rows["silent"].sentiment_score is None

    scores = [rows[k].sentiment_score for k in ("en_neg", "en_pos", "ar_pos", "ar_neg")]
    assert all(s is not None and -1 <= s <= 1 for s in scores)
    want = (4, sum(s for s in scores if s is not None), 2, 0, 2)
    assert sentiment_tally(sessions) == want
    with sessions() as s:
        delivery = s.execute(
            text(
                "SELECT metric, sum(count) FROM theme_bucket WHERE theme = 'delivery' "
                "GROUP BY metric ORDER BY metric"
            )
        ).all()
    assert [tuple(r) for r in delivery] == [("nps", 2), ("sentiment", 2)]

    # An admin adds a theme: the next events scored carry it, the stored ones keep theirs.
    with transaction(sessions) as s:
        s.add(
            ThemeDefinition(
                key="parking",
                name_en="Parking",
                name_ar="المواقف",
                keywords={"en": ["parking", "car park"], "ar": ["موقف", "مواقف"]},
            )
        )
    later = [
        make_event(response_id="park_en", occurred_at=T0, text="No parking anywhere, awful"),
        make_event(response_id="park_ar", occurred_at=T0, text="ما في مواقف ابدا"),
    ]
    send(common, common_env["SCORING_GROUP_ID"], later)
    rows = stored(sessions)
    assert "parking" in (rows["park_en"].themes or [])
    assert "parking" in (rows["park_ar"].themes or [])
    assert "parking" not in (rows["en_neg"].themes or [])


def test_a_revision_adding_a_comment_moves_sentiment_once_and_rebuild_equals_stream(
    common: CommonSettings,
    common_env: dict[str, str],
    sessions: sessionmaker[Session],
    scoring: Service,
) -> None:
    first = make_event(response_id="r1", score=4, occurred_at=T0, tags={"plan": "pro"})
    revised = first.model_copy(update={"revision": 1, "text": "Delivery was late, terrible"})
    send(common, common_env["SCORING_GROUP_ID"], [first])
    assert sentiment_tally(sessions) == (0, 0, 0, 0, 0)
    send(common, common_env["SCORING_GROUP_ID"], [revised, revised, first])  # redelivered too
    row = stored(sessions)["r1"]
    assert row.sentiment_label == "negative" and row.sentiment_score is not None
    want = (1, row.sentiment_score, 1, 0, 0)
    assert sentiment_tally(sessions) == want
    assert sentiment_tally(sessions, MetricTagBucket) == want
    streamed = snapshot(sessions)
    assert any(r[0] == "sentiment" and "delivery" in r for r in streamed["theme_bucket"])
    with transaction(sessions) as s:
        s.execute(text("UPDATE theme_bucket SET count = count + 5"))  # damage to repair
        rebuild_aggregates(session=s)
    assert snapshot(sessions) == streamed


def test_analysis_switched_off_stores_comments_unanalysed(sessions: sessionmaker[Session]) -> None:
    event = make_event(response_id="off", occurred_at=T0, text="terrible delivery")
    with transaction(sessions) as s:
        store_batch(session=s, batch=[Positioned(event, 0, 0)], future_tolerance=timedelta(1))
    row = stored(sessions)["off"]
    assert (row.language, row.sentiment_score, row.themes) == (None, None, None)
    assert sentiment_tally(sessions) == (0, 0, 0, 0, 0)


def test_an_empty_taxonomy_table_falls_back_to_the_shipped_one_and_disabled_themes_match_nothing(
    sessions: sessionmaker[Session],
) -> None:
    analyser = BatchAnalyser(refresh_seconds=0)
    event = make_event(response_id="d", text="late delivery")
    with transaction(sessions) as s:
        s.execute(text("UPDATE theme SET enabled = false WHERE key = 'delivery'"))
        analyser.refresh(s)
    analysis = analyser.analyse(event)
    assert analysis is not None and "delivery" not in analysis.themes
    with transaction(sessions) as s:
        s.execute(text("DELETE FROM theme"))
        analyser.refresh(s)
    analysis = analyser.analyse(event)
    assert analysis is not None and "delivery" in analysis.themes
