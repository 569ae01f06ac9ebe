"""Windows and series read from the hour and day rollups give exactly what the raw responses give.

Responses are scattered over twelve days at random minutes; series in zones whose
midnights fall on a UTC day, on a whole hour, on a half hour and on a quarter hour
(UTC, New York, Kolkata, Kathmandu) and windows with edges at odd minutes are compared,
point by point, with counts and sums computed in Python from the responses themselves.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.support.events import make_event

END = datetime(2026, 11, 20, tzinfo=UTC)
START = END - timedelta(days=12)


@pytest.fixture
def responses(stored: Callable) -> list[tuple[datetime, int]]:
    rng = random.Random(5)
    scattered = [
        (START + timedelta(minutes=rng.randrange(12 * 24 * 60), seconds=rng.randrange(60)), s)
        for s in (rng.randint(0, 10) for _ in range(1500))
    ]
    stored(
        [
            make_event(response_id=f"r{i}", score=score, occurred_at=at)
            for i, (at, score) in enumerate(scattered)
        ]
    )
    return scattered


def _truth(responses: list[tuple[datetime, int]], lo: datetime, hi: datetime) -> tuple[int, int]:
    scores = [s for at, s in responses if lo <= at < hi]
    return len(scores), sum(1 for s in scores if s >= 9) - sum(1 for s in scores if s <= 6)


def _check(point: dict[str, Any], want: tuple[int, int]) -> None:
    count, net = want
    assert point["count"] == count
    if count:
        assert point["value"] == pytest.approx(
            100 * net / count, abs=0.005
        )  # values have 2 decimals


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"])
def test_daily_series_in_any_zone_matches_the_responses(
    api: TestClient, auth: Callable, responses: list[tuple[datetime, int]], zone: str
) -> None:
    tz = ZoneInfo(zone)
    first = (START + timedelta(days=1)).astimezone(tz).replace(hour=0, minute=0, second=0)
    last = first + timedelta(days=10)
    answer = api.get(
        "/v1/metrics/nps/series",
        params={
            "interval": "1d",
            "tz": zone,
            "from": first.isoformat(),
            "to": last.isoformat(),
        },
        headers=auth("read"),
    )
    assert answer.status_code == 200, answer.text
    points = answer.json()["points"]
    assert len(points) == 10
    for point in points:
        lo = datetime.fromisoformat(point["start"])
        hi = datetime.combine(lo.date() + timedelta(days=1), lo.time(), tzinfo=tz)
        _check(point, _truth(responses, lo, hi))


def test_windows_with_odd_edges_match_the_responses(
    api: TestClient, auth: Callable, responses: list[tuple[datetime, int]]
) -> None:
    rng = random.Random(9)
    headers = auth("read")
    for _ in range(12):
        lo = START + timedelta(minutes=rng.randrange(6 * 24 * 60), seconds=rng.randrange(60))
        hi = lo + timedelta(minutes=rng.randrange(30, 6 * 24 * 60))
        answer = api.get(
            "/v1/metrics/nps",
            params={"from": lo.isoformat(), "to": hi.isoformat(), "min_count": 1},
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
        _check(answer.json(), _truth(responses, lo, hi))
