"""Metric reads over HTTP: values a CX lead can check by hand, exact windows, filters, and errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.support.events import make_event

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_nps_matches_the_hand_computed_value(
    api: TestClient, stored: Callable, make_key: Callable[..., str]
) -> None:
    # 5 promoters, 3 passives, 2 detractors: NPS = 50% - 20% = 30.
    scores = [10, 9, 9, 10, 9, 8, 7, 7, 6, 0]
    stored(
        [
            make_event(response_id=f"r{i}", score=s, occurred_at=T0 + timedelta(minutes=i))
            for i, s in enumerate(scores)
        ]
    )
    answer = api.get(
        "/v1/metrics/nps",
        params={"from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z"},
        headers=auth(make_key("read")),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["value"], body["count"]) == (30.0, 10)
    assert body["breakdown"] == {"promoters": 5, "passives": 3, "detractors": 2}
    # x in {+1,0,-1}: mean .3, population var (7/10 - .09) = .61, sample var .61*10/9;
    # margin = 1.96 * 100 * sqrt(.6778/10) = 51.03
    assert body["margin_of_error"] == pytest.approx(51.03, abs=0.01)
    assert body["reliable"] is False and body["min_count"] == 30


def test_csat_and_ces(api: TestClient, stored: Callable, make_key: Callable[..., str]) -> None:
    stored(
        [
            make_event(response_id=f"c{i}", metric="csat", score=s, occurred_at=T0)
            for i, s in enumerate([5, 4, 4, 3, 1])
        ]
        + [
            make_event(response_id=f"e{i}", metric="ces", score=s, occurred_at=T0)
            for i, s in enumerate([1, 7, 4, 4])
        ]
    )
    key = auth(make_key("read"))
    window = {"from": "2026-11-20T00:00:00Z", "to": "2026-11-21T00:00:00Z"}
    csat = api.get("/v1/metrics/csat", params=window, headers=key).json()
    assert (csat["value"], csat["count"]) == (60.0, 5)
    assert csat["breakdown"] == {"satisfied": 3, "unsatisfied": 2}
    ces = api.get("/v1/metrics/ces", params=window, headers=key).json()
    assert (ces["value"], ces["count"]) == (4.0, 4)
    assert ces["margin_of_error"] == pytest.approx(3.182 * 6**0.5 / 2, abs=0.01)


def test_window_edges_inside_an_hour_are_exact(
    api: TestClient, stored: Callable, make_key: Callable[..., str]
) -> None:
    minutes = [5, 20, 40, 55, 65, 130, 150]  # after 10:00; the window below is 10:15..12:20
    stored(
        [
            make_event(response_id=f"m{m}", score=10, occurred_at=T0 + timedelta(minutes=m))
            for m in minutes
        ]
    )
    answer = api.get(
        "/v1/metrics/nps",
        headers=auth(make_key("read")),
        params={"from": "2026-11-20T10:15:00Z", "to": "2026-11-20T12:20:00Z"},
    )
    assert answer.json()["count"] == 5  # 20, 40, 55, 65, 130; not 5 (before) nor 150 (after)


def test_rolling_window_and_filters(
    api: TestClient, stored: Callable, make_key: Callable[..., str]
) -> None:
    now = datetime.now(UTC)
    stored(
        [
            make_event(
                response_id="recent",
                score=10,
                occurred_at=now - timedelta(minutes=30),
                touchpoint="checkout",
            ),
            make_event(
                response_id="today",
                score=0,
                occurred_at=now - timedelta(hours=5),
                touchpoint="support",
            ),
            make_event(response_id="old", score=0, occurred_at=now - timedelta(days=10)),
            make_event(
                response_id="other",
                score=0,
                occurred_at=now - timedelta(minutes=10),
                source_id="src_other",
            ),
        ]
    )
    key = auth(make_key("read"))

    def count(**params: str) -> int:
        answer = api.get("/v1/metrics/nps", params=params, headers=key)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["count"])

    assert count(window="1h") == 2
    assert count(window="24h") == 3
    assert count(window="30d") == count() == 4
    assert count(window="24h", source_id="src_test") == 2
    assert count(window="24h", touchpoint="checkout") == 1
    assert count(window="24h", channel="email") == 0


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"window": "fortnight"}, "query.window"),
        ({"window": "0h"}, "query.window"),
        ({"window": "1h", "from": "2026-11-20T00:00:00Z"}, "query.window"),
        ({"from": "2026-11-21T00:00:00Z", "to": "2026-11-20T00:00:00Z"}, "query.from"),
        ({"from": "2026-11-20T00:00:00"}, "query.from"),
    ],
)
def test_bad_window_says_which_parameter(
    api: TestClient, make_key: Callable[..., str], params: dict, loc: str
) -> None:
    answer = api.get("/v1/metrics/nps", params=params, headers=auth(make_key("read")))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert loc in [e["loc"] for e in answer.json()["errors"]]


def test_unknown_metric_is_422(api: TestClient, make_key: Callable[..., str]) -> None:
    answer = api.get("/v1/metrics/stars", headers=auth(make_key("read")))
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == "path.metric"


def test_empty_window_has_no_value_rather_than_zero(
    api: TestClient, make_key: Callable[..., str]
) -> None:
    body = api.get("/v1/metrics/nps", headers=auth(make_key("read"))).json()
    assert (body["value"], body["count"], body["margin_of_error"]) == (None, 0, None)


def test_window_edges_inside_a_quarter_hour_are_exact(
    api: TestClient, stored: Callable, make_key: Callable[..., str]
) -> None:
    minutes = [5, 8, 20, 50, 53]  # after 10:00; buckets are 10:00, 10:15, ..., 10:45
    stored(
        [
            make_event(response_id=f"q{m}", score=10, occurred_at=T0 + timedelta(minutes=m))
            for m in minutes
        ]
    )

    def count(start: str, end: str) -> int:
        answer = api.get(
            "/v1/metrics/nps",
            headers=auth(make_key("read")),
            params={"from": f"2026-11-20T{start}Z", "to": f"2026-11-20T{end}Z"},
        )
        assert answer.status_code == 200, answer.text
        return int(answer.json()["count"])

    assert count("10:07:00", "10:52:00") == 3  # 8, 20, 50
    assert count("10:01:00", "10:08:00") == 1  # 5; both edges inside one bucket
    assert count("10:08:00", "10:08:00.001") == 1  # the event exactly at from counts
    assert count("10:15:00", "10:50:00") == 1  # 20; to is exclusive
