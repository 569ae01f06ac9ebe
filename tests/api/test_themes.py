"""Sentiment metrics, theme counts and trends, key drivers and the taxonomy over the API,
on comments analysed and stored the way the scoring worker stores them."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.analysis import BatchAnalyser
from services.scoring.store import Positioned, store_batch
from shared.db import transaction
from shared.text import analyse
from tests.support.events import make_event

Auth = Callable[..., dict[str, str]]
# A quarter-hour start in the past; the window cuts the first and last buckets, so edges
# are read from raw feedback and the middle from buckets.
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
WINDOW = {
    "from": (T0 + timedelta(minutes=1)).isoformat(),
    "to": (T0 + timedelta(hours=2, minutes=7)).isoformat(),
}
LATE = "The delivery was very late"
EASY = "Great app, super easy to use!"
# (response id, nps score, comment, minutes after T0)
RESPONSES = [
    ("d1", 2, LATE, 3),
    ("d2", 3, LATE, 40),
    ("d3", 9, LATE, 125),
    ("e1", 10, EASY, 2),
    ("e2", 10, EASY, 50),
    ("e3", 9, EASY, 90),
    ("e4", 7, EASY, 126),
    ("n1", 8, None, 60),
    ("out", 0, LATE, 200),  # after the window
]


@pytest.fixture
def analysed(sessions: sessionmaker[Session]) -> None:
    """The responses stored with comment analysis, as the worker stores them."""
    events = [
        make_event(
            response_id=rid, score=score, text=comment, occurred_at=T0 + timedelta(minutes=m)
        )
        for rid, score, comment, m in RESPONSES
    ]
    batch = [Positioned(e, 0, i) for i, e in enumerate(events)]
    with transaction(sessions) as s:
        store_batch(
            session=s, batch=batch, future_tolerance=timedelta(hours=24), analyser=BatchAnalyser()
        )


def in_window(rid: str) -> bool:
    return rid != "out"


def nps_value(scores: list[int]) -> float:
    """Hand NPS: per-response +100 / 0 / -100."""
    return statistics.mean(100 if s >= 9 else -100 if s <= 6 else 0 for s in scores)


def test_sentiment_metrics_equal_the_hand_computed_values(
    api: TestClient, auth: Auth, analysed: None
) -> None:
    sentiments = [
        analyse(c).sentiment_score  # type: ignore[union-attr]
        for rid, _, c, _ in RESPONSES
        if c is not None and in_window(rid)
    ]
    answer = api.get("/v1/metrics/sentiment", params=WINDOW, headers=auth("read"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    mean, sd, n = statistics.mean(sentiments), statistics.stdev(sentiments), len(sentiments)
    assert body["count"] == n == 7
    assert body["value"] == pytest.approx(round(mean, 2))
    assert body["margin_of_error"] == pytest.approx(round(2.447 * sd / math.sqrt(n), 2))  # t(6)
    assert body["breakdown"] == {"negative": 3, "neutral": 0, "positive": 4}

    share = api.get("/v1/metrics/negative_share", params=WINDOW, headers=auth("read")).json()
    p, z = 3 / 7, 1.96
    centre = (p + z * z / 14) / (1 + z * z / 7)
    half = z * math.sqrt(p * (1 - p) / 7 + z * z / (4 * 49)) / (1 + z * z / 7)
    assert share["value"] == pytest.approx(round(100 * 3 / 7, 2))
    assert (share["ci_low"], share["ci_high"]) == pytest.approx(
        (round(100 * (centre - half), 2), round(100 * (centre + half), 2))
    )

    series = api.get(
        "/v1/metrics/positive_share/series",
        params=WINDOW | {"interval": "1h"},
        headers=auth("read"),
    ).json()
    assert [p["count"] for p in series["points"]] == [4, 1, 2]  # 10:01-11, 11-12, 12-12:07
    assert [p["breakdown"]["positive"] for p in series["points"]] == [2, 1, 1]


def test_theme_counts_shares_and_series(api: TestClient, auth: Auth, analysed: None) -> None:
    answer = api.get("/v1/themes", params=WINDOW, headers=auth("read"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["comments"] == 7
    themes = {t["key"]: t for t in body["themes"]}
    delivery = themes["delivery"]
    assert (delivery["count"], delivery["share"]) == (3, round(100 * 3 / 7, 2))
    assert delivery["sentiment"] == pytest.approx(round(analyse(LATE).sentiment_score, 3))  # type: ignore[union-attr]
    assert delivery["sentiment_breakdown"] == {"negative": 3, "neutral": 0, "positive": 0}
    assert delivery["name_ar"] == "التوصيل"
    assert themes["website_app"]["count"] == 4
    assert themes["availability"]["count"] == 0  # listed from the taxonomy, never mentioned

    series = api.get(
        "/v1/themes/series",
        params=WINDOW | {"interval": "1h", "key": ["delivery", "website_app"]},
        headers=auth("read"),
    ).json()
    assert series["comments"] == [4, 1, 2]
    by_key = {s["key"]: [p["count"] for p in s["points"]] for s in series["themes"]}
    assert by_key == {"delivery": [2, 0, 1], "website_app": [2, 1, 1]}


def test_key_drivers_match_a_hand_computation(api: TestClient, auth: Auth, analysed: None) -> None:
    answer = api.get("/v1/themes/drivers", params=WINDOW | {"metric": "nps"}, headers=auth("read"))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    scored = {rid: s for rid, s, _, _ in RESPONSES if in_window(rid)}
    with_ = [s for rid, s in scored.items() if rid.startswith("d")]
    without = [s for rid, s in scored.items() if not rid.startswith("d")]
    overall = nps_value(list(scored.values()))
    assert body["overall"] == {"value": round(overall, 2), "count": 8}
    delivery = next(t for t in body["themes"] if t["key"] == "delivery")
    values = [[100 if s >= 9 else -100 if s <= 6 else 0 for s in g] for g in (with_, without)]
    se = math.sqrt(
        statistics.variance(values[0]) / len(with_) + statistics.variance(values[1]) / len(without)
    )
    diff = nps_value(with_) - nps_value(without)
    assert delivery["count_with"] == 3 and delivery["count_without"] == 5
    assert delivery["value_with"] == pytest.approx(round(nps_value(with_), 2))
    assert delivery["value_without"] == pytest.approx(round(nps_value(without), 2))
    assert delivery["difference"] == pytest.approx(round(diff, 2))
    assert delivery["z"] == pytest.approx(round(diff / se, 3))
    assert delivery["p_value"] == pytest.approx(math.erfc(abs(diff / se) / math.sqrt(2)), rel=1e-3)
    assert delivery["significant"] is False
    assert delivery["impact"] == pytest.approx(round(overall - nps_value(without), 2))  # -35
    assert "Welch" in body["method"]

    narrowed = api.get(
        "/v1/metrics/nps", params=WINDOW | {"theme": "delivery"}, headers=auth("read")
    ).json()
    assert (narrowed["value"], narrowed["count"]) == (round(nps_value(with_), 2), 3)


def test_feedback_carries_and_filters_by_sentiment_and_theme(
    api: TestClient, auth: Auth, analysed: None
) -> None:
    answer = api.get(
        "/v1/feedback",
        params={"theme": "delivery", "sentiment": "negative"},
        headers=auth("read"),
    )
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert len(items) == 4  # d1, d2, d3 and out
    assert all("delivery" in i["themes"] and i["sentiment_label"] == "negative" for i in items)
    assert all(-1 <= i["sentiment_score"] < 0 and i["language"] == "en" for i in items)
    silent = api.get("/v1/feedback", params={"has_comment": "false"}, headers=auth("read"))
    assert [(i["themes"], i["sentiment_score"]) for i in silent.json()["items"]] == [([], None)]
    bad = api.get("/v1/feedback", params={"theme": "Not A Key"}, headers=auth("read"))
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


def test_taxonomy_crud_with_scopes_and_validation(api: TestClient, auth: Auth) -> None:
    read, admin = auth("read"), auth("admin")
    listed = api.get("/v1/themes/taxonomy", headers=read).json()
    assert {"delivery", "price_value", "website_app"} <= {t["key"] for t in listed}
    parking = {
        "key": "parking",
        "name_en": "Parking",
        "name_ar": "المواقف",
        "keywords": {"en": ["parking", "car park*"], "ar": ["مواقف"]},
    }
    assert api.post("/v1/themes/taxonomy", json=parking, headers=read).status_code == 403
    created = api.post("/v1/themes/taxonomy", json=parking, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["enabled"] is True
    assert api.post("/v1/themes/taxonomy", json=parking, headers=admin).status_code == 409
    for bad in (
        parking | {"key": "Parking Lot"},
        parking | {"key": "lot", "keywords": {"en": ["!!!"]}},
        parking | {"key": "lot", "keywords": {"EN": ["lot"]}},
        parking | {"key": "lot", "colour": "red"},
    ):
        answer = api.post("/v1/themes/taxonomy", json=bad, headers=admin)
        assert answer.status_code == 422, bad
        assert answer.headers["content-type"] == "application/problem+json"
    changed = api.patch(
        "/v1/themes/taxonomy/parking",
        json={"enabled": False, "name_en": "Car parking"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["enabled"], changed.json()["name_en"]) == (False, "Car parking")
    assert changed.json()["keywords"] == parking["keywords"]
    assert api.get("/v1/themes/taxonomy/parking", headers=read).json()["enabled"] is False
    assert api.delete("/v1/themes/taxonomy/parking", headers=read).status_code == 403
    assert api.delete("/v1/themes/taxonomy/parking", headers=admin).status_code == 204
    missing = api.get("/v1/themes/taxonomy/parking", headers=read)
    assert missing.status_code == 404 and missing.json()["status"] == 404


def test_theme_reads_refuse_what_they_cannot_answer(api: TestClient, auth: Auth) -> None:
    for path, params in (
        ("/v1/themes", {"group_by": "channel"}),
        ("/v1/themes/drivers", {"metric": "sentiment"}),
        ("/v1/themes/series", {"key": "Bad Key"}),
        ("/v1/metrics/nps", {"theme": "x y"}),
    ):
        answer = api.get(path, params=params, headers=auth("read"))
        assert answer.status_code == 422, (path, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
