"""`voc seed`: realistic feedback in bulk, whose scores the API reads like any other."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from services.seed import SOURCES
from tests.support.stack import service_env
from tests.support.stream import rollup_mismatches


def test_seeded_feedback_is_varied_and_the_api_scores_it_like_streamed_feedback(
    common_env: dict[str, str],
    sessions: sessionmaker[Session],
    make_key: Callable[..., str],
) -> None:
    from fastapi.testclient import TestClient

    from services.api.app import create_app
    from services.api.config import ApiSettings
    from shared.settings import CommonSettings

    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "seed", "--events", "20000", "--days", "30"],
        env=service_env(common_env, VOC_LOG_LEVEL="WARNING"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("seeded 20,000 responses")

    with sessions() as s:
        stats = s.execute(
            text(
                "SELECT count(*), count(DISTINCT source_id), count(DISTINCT channel),"
                " count(text), count(*) FILTER (WHERE language = 'ar'),"
                " count(sentiment_label), count(*) FILTER (WHERE cardinality(themes) > 0),"
                " min(occurred_at) > now() - interval '31 days', max(occurred_at) < now()"
                " FROM feedback"
            )
        ).one()
        nps_by_hand = s.execute(
            text(
                "SELECT round(100.0 * (count(*) FILTER (WHERE score >= 9)"
                " - count(*) FILTER (WHERE score <= 6)) / count(*), 2), count(*)"
                " FROM feedback WHERE metric = 'nps'"
            )
        ).one()
    total, sources, channels, commented, arabic, analysed, themed, after, before = stats
    assert (total, sources, channels) == (20_000, len(SOURCES), 4)
    assert 0.3 < commented / total < 0.4
    assert 0.2 < arabic / total < 0.5
    assert analysed == commented and themed > 0.3 * commented
    assert after and before
    assert rollup_mismatches(sessions) == []

    common = CommonSettings(
        database_url=common_env["DATABASE_URL"],
        kafka_bootstrap_servers=common_env["KAFKA_BOOTSTRAP_SERVERS"],
    )
    with TestClient(create_app(common, ApiSettings())) as api:
        answer = api.get(
            "/v1/metrics/nps",
            params={"window": "90d"},
            headers={"Authorization": f"Bearer {make_key('read')}"},
        )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["value"], body["count"]) == (float(nps_by_hand[0]), nps_by_hand[1])
    assert 10 < body["value"] < 50  # the seed's weights make a believable programme
