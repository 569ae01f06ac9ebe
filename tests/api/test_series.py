"""Series in a time zone: local days and weeks, DST, empty intervals and late events, by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.events import make_event


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def series(api: TestClient, make_key: Callable[..., str]) -> Callable[..., dict[str, Any]]:
    headers = {"Authorization": f"Bearer {make_key('read')}"}

    def get(metric: str = "nps", **params: Any) -> dict[str, Any]:
        answer = api.get(f"/v1/metrics/{metric}/series", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    return get


def counts(body: dict[str, Any]) -> list[int]:
    return [p["count"] for p in body["points"]]


def test_riyadh_days_start_at_local_midnight(series: Callable, stored: Callable) -> None:
    # Riyadh is UTC+03 all year: 20:30Z on the 20th is 23:30 local (the 20th), 21:10Z is
    # 00:10 local on the 21st, 22:00Z on the 21st is 01:00 local on the 22nd.
    stored(
        [
            make_event(response_id="a", score=10, occurred_at=utc("2026-11-20T20:30:00Z")),
            make_event(response_id="b", score=0, occurred_at=utc("2026-11-20T21:10:00Z")),
            make_event(response_id="c", score=8, occurred_at=utc("2026-11-21T22:00:00Z")),
        ]
    )
    window = {"from": "2026-11-20T00:00:00+03:00", "to": "2026-11-24T00:00:00+03:00"}
    body = series(interval="1d", tz="Asia/Riyadh", **window)
    assert [p["start"] for p in body["points"]] == [
        "2026-11-20T00:00:00+03:00",
        "2026-11-21T00:00:00+03:00",
        "2026-11-22T00:00:00+03:00",
        "2026-11-23T00:00:00+03:00",
    ]
    assert counts(body) == [1, 1, 1, 0]
    assert [p["value"] for p in body["points"]] == [100.0, -100.0, 0.0, None]
    assert not any(p["partial"] for p in body["points"])
    empty = body["points"][3]
    assert (empty["margin_of_error"], empty["reliable"], empty["min_count"]) == (None, False, 30)
    # The same data by UTC day: the first two fall on the 20th.
    utc_days = series(
        interval="1d", tz="UTC", **{"from": "2026-11-20T00:00:00Z", "to": "2026-11-22T00:00:00Z"}
    )
    assert counts(utc_days) == [2, 1]


def test_kolkata_half_hour_offset(series: Callable, stored: Callable) -> None:
    # Kolkata is UTC+05:30: local midnight is 18:30Z, in the middle of a UTC hour.
    stored(
        [
            make_event(response_id="a", score=10, occurred_at=utc("2026-11-20T18:20:00Z")),
            make_event(response_id="b", score=0, occurred_at=utc("2026-11-20T18:40:00Z")),
            make_event(response_id="c", score=0, occurred_at=utc("2026-11-20T18:29:59Z")),
        ]
    )
    body = series(
        interval="1d",
        tz="Asia/Kolkata",
        **{"from": "2026-11-20T00:00:00+05:30", "to": "2026-11-22T00:00:00+05:30"},
    )
    assert [p["start"] for p in body["points"]] == [
        "2026-11-20T00:00:00+05:30",
        "2026-11-21T00:00:00+05:30",
    ]
    assert counts(body) == [2, 1]
    assert [p["value"] for p in body["points"]] == [0.0, -100.0]
    hours = series(
        interval="1h",
        tz="Asia/Kolkata",
        **{"from": "2026-11-20T23:00:00+05:30", "to": "2026-11-21T01:00:00+05:30"},
    )
    assert [p["start"] for p in hours["points"]] == [
        "2026-11-20T23:00:00+05:30",
        "2026-11-21T00:00:00+05:30",
    ]
    assert counts(hours) == [2, 1]


def test_new_york_day_of_the_dst_change_has_25_hours(series: Callable, stored: Callable) -> None:
    # 2026-11-01 02:00 EDT (-04) becomes 01:00 EST (-05): that local day runs from 04:00Z
    # to 05:00Z the next day.
    stored(
        [
            make_event(response_id="oct31", score=10, occurred_at=utc("2026-11-01T03:50:00Z")),
            make_event(response_id="nov1a", score=10, occurred_at=utc("2026-11-01T04:10:00Z")),
            make_event(response_id="nov1b", score=0, occurred_at=utc("2026-11-02T04:30:00Z")),
            make_event(response_id="nov2", score=9, occurred_at=utc("2026-11-02T05:10:00Z")),
        ]
    )
    body = series(
        interval="1d",
        tz="America/New_York",
        **{"from": "2026-10-31T00:00:00-04:00", "to": "2026-11-03T00:00:00-05:00"},
    )
    points = body["points"]
    assert [p["start"] for p in points] == [
        "2026-10-31T00:00:00-04:00",
        "2026-11-01T00:00:00-04:00",
        "2026-11-02T00:00:00-05:00",
    ]
    hours = [
        (datetime.fromisoformat(p["end"]) - datetime.fromisoformat(p["start"])) / timedelta(hours=1)
        for p in points
    ]
    assert hours == [24, 25, 24]
    assert counts(body) == [1, 2, 1]
    assert [p["value"] for p in points] == [100.0, 0.0, 100.0]
    # Hourly, the repeated 01:00 hour is two points, one at each offset.
    by_hour = series(
        interval="1h",
        tz="America/New_York",
        **{"from": "2026-11-01T00:00:00-04:00", "to": "2026-11-01T03:00:00-05:00"},
    )
    assert [p["start"] for p in by_hour["points"]] == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]
    assert counts(by_hour) == [1, 0, 0, 0]


def test_spring_forward_day_has_23_hours(series: Callable) -> None:
    body = series(
        interval="1d",
        tz="America/New_York",
        **{"from": "2026-03-08T00:00:00-05:00", "to": "2026-03-09T00:00:00-04:00"},
    )
    (point,) = body["points"]
    length = datetime.fromisoformat(point["end"]) - datetime.fromisoformat(point["start"])
    assert length == timedelta(hours=23)
    assert (point["count"], point["value"], point["partial"]) == (0, None, False)


def test_iso_weeks_start_on_local_monday(series: Callable, stored: Callable) -> None:
    # Monday 2026-11-16 00:00 in Riyadh is Sunday 21:00Z; an event at 21:30Z on Sunday the
    # 15th belongs to the week of the 16th there, to the week of the 9th in UTC.
    stored([make_event(response_id="a", score=10, occurred_at=utc("2026-11-15T21:30:00Z"))])
    window = {"from": "2026-11-12T00:00:00Z", "to": "2026-11-24T00:00:00Z"}
    riyadh = series(interval="1w", tz="Asia/Riyadh", **window)
    assert [p["start"][:10] for p in riyadh["points"]] == ["2026-11-12", "2026-11-16", "2026-11-23"]
    assert [p["partial"] for p in riyadh["points"]] == [True, False, True]
    assert counts(riyadh) == [0, 1, 0]
    assert counts(series(interval="1w", tz="UTC", **window)) == [1, 0, 0]


def test_late_event_lands_in_its_historical_point(
    series: Callable, stored: Callable, api: TestClient, make_key: Callable[..., str]
) -> None:
    received = datetime.now(UTC)
    day = (received - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    window = {"window": "7d", "interval": "1d", "tz": "UTC"}
    before = series(**window)
    assert sum(counts(before)) == 0 and len(before["points"]) == 8
    stored(
        [
            make_event(response_id="late", score=0, occurred_at=day, received_at=received),
            make_event(
                response_id="future",
                score=10,
                occurred_at=received + timedelta(days=3),
                received_at=received,
            ),
        ]
    )
    after = series(**window)
    hit = [p for p in after["points"] if p["count"]]
    assert len(hit) == 1 and hit[0]["start"][:10] == day.date().isoformat()
    assert hit[0]["value"] == -100.0
    # The event stamped three days ahead is stored, flagged and kept out of every score.
    wide = series(
        interval="1w",
        **{
            "from": (received - timedelta(days=1)).isoformat(),
            "to": (received + timedelta(days=5)).isoformat(),
        },
    )
    assert sum(counts(wide)) == 0
    feedback = api.get(
        "/v1/feedback", headers={"Authorization": f"Bearer {make_key('read')}"}
    ).json()["items"]
    reasons = {f["score"]: f["excluded_reason"] for f in feedback}
    assert reasons[0] is None and reasons[10]


def test_series_edge_inside_a_quarter_hour_is_exact(series: Callable, stored: Callable) -> None:
    at = utc("2026-11-20T10:00:00Z")
    minutes = [5, 8, 20, 50, 53, 70]
    stored(
        [
            make_event(response_id=f"m{m}", score=10, occurred_at=at + timedelta(minutes=m))
            for m in minutes
        ]
    )
    body = series(interval="1h", **{"from": "2026-11-20T10:07:00Z", "to": "2026-11-20T11:12:00Z"})
    assert counts(body) == [4, 1]  # 8, 20, 50, 53 | 70; not 5
    assert [p["partial"] for p in body["points"]] == [True, True]
