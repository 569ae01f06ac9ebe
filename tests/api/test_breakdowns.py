"""Breakdowns and combined filters: parts that add up to the whole, counted by hand."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.events import make_event

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
# The window cuts the 10:00 and 11:45 buckets, so its edges come from raw feedback.
WINDOW = {"from": "2026-11-20T10:07:00Z", "to": "2026-11-20T11:52:00Z"}

# (id, minutes after 10:00, score, channel, touchpoint, language, tags)
ROWS: list[tuple[str, int, int, str, str | None, str | None, dict[str, str]]] = [
    ("e1", 5, 10, "web", "checkout", "en", {"plan": "pro"}),  # before the window
    ("e2", 10, 10, "web", "checkout", "en", {"plan": "pro", "region": "eu"}),
    ("e3", 30, 9, "email", "support", "ar", {"plan": "free"}),
    ("e4", 45, 7, "web", None, "ar", {}),
    ("e5", 60, 0, "sms", "checkout", "en", {"plan": "pro", "region": "us"}),
    ("e6", 80, 3, "email", "support", None, {"region": "eu"}),
    ("e7", 110, 10, "chat", "checkout", "ar", {"plan": "free", "region": "eu"}),
    ("e8", 115, 0, "web", "checkout", "en", {"plan": "pro"}),  # after the window
]


@pytest.fixture
def read(
    api: TestClient, stored: Callable, make_key: Callable[..., str]
) -> Callable[..., dict[str, Any]]:
    stored(
        [
            make_event(
                response_id=rid,
                score=score,
                occurred_at=T0 + timedelta(minutes=m),
                channel=channel,
                touchpoint=touchpoint,
                language=language,
                tags=tags,
            )
            for rid, m, score, channel, touchpoint, language, tags in ROWS
        ]
    )
    headers = {"Authorization": f"Bearer {make_key('read')}"}

    def get(path: str = "", **params: Any) -> dict[str, Any]:
        answer = api.get(f"/v1/metrics/nps{path}", params=WINDOW | params, headers=headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    return get


def parts(body: dict[str, Any]) -> dict[str | None, int]:
    return {g["key"]: g["count"] for g in body["groups"]}


def assert_adds_up(whole: dict[str, Any], groups: list[dict[str, Any]]) -> None:
    assert sum(g["count"] for g in groups) == whole["count"]
    bands: Counter[str] = Counter()
    for g in groups:
        bands.update(g["breakdown"])
    assert dict(bands) == whole["breakdown"]
    for g in groups:
        for field in ("count", "margin_of_error", "reliable", "min_count", "value"):
            assert field in g


def test_whole_window_by_hand(read: Callable) -> None:
    body = read()
    # e2..e7: promoters e2, e3, e7; passive e4; detractors e5, e6 -> (3 - 2) / 6.
    assert (body["count"], body["value"]) == (6, 16.67)
    assert body["breakdown"] == {"promoters": 3, "passives": 1, "detractors": 2}
    assert body["groups"] is None


@pytest.mark.parametrize(
    ("group_by", "expected"),
    [
        ("channel", {"web": 2, "email": 2, "sms": 1, "chat": 1}),
        ("touchpoint", {"checkout": 3, "support": 2, None: 1}),
        ("language", {"ar": 3, "en": 2, None: 1}),
        ("source_id", {"src_test": 6}),
        ("tag:plan", {"pro": 2, "free": 2, None: 2}),
        ("tag:region", {"eu": 3, "us": 1, None: 2}),
    ],
)
def test_breakdown_parts_add_up_to_the_whole(
    read: Callable, group_by: str, expected: dict[str | None, int]
) -> None:
    whole = read()
    body = read(group_by=group_by)
    assert parts(body) == expected
    assert (body["count"], body["breakdown"]) == (whole["count"], whole["breakdown"])
    assert_adds_up(whole, body["groups"])
    assert body["groups"][-1]["key"] is None or None not in expected


def test_tag_breakdown_values_by_hand(read: Callable) -> None:
    groups = {g["key"]: g for g in read(group_by="tag:plan")["groups"]}
    # pro: e2 (10), e5 (0) -> 0; free: e3 (9), e7 (10) -> 100; untagged: e4 (7), e6 (3) -> -50.
    assert {k: g["value"] for k, g in groups.items()} == {"pro": 0.0, "free": 100.0, None: -50.0}
    assert groups[None]["breakdown"] == {"promoters": 0, "passives": 1, "detractors": 1}


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"channel": "web", "touchpoint": "checkout"}, 1),  # e2
        ({"channel": "email", "language": "ar"}, 1),  # e3
        ({"tag": "plan:pro"}, 2),  # e2, e5
        ({"tag": ["plan:pro", "region:eu"]}, 1),  # e2, two tags: raw feedback
        ({"tag": "region:eu", "channel": "email"}, 1),  # e6
        ({"tag": "plan:free", "language": "ar", "touchpoint": "checkout"}, 1),  # e7
        ({"tag": "plan:none"}, 0),
    ],
)
def test_combined_filters(read: Callable, params: dict[str, Any], count: int) -> None:
    body = read(**params)
    assert body["count"] == count
    assert {k for k in body["filters"]} == set(params)


def test_tag_filter_with_breakdowns(read: Callable) -> None:
    # One tag filter and a tag breakdown need two tags per response: raw feedback.
    assert parts(read(tag="plan:pro", group_by="tag:region")) == {"eu": 1, "us": 1}
    assert parts(read(tag="region:eu", group_by="touchpoint")) == {"checkout": 2, "support": 1}
    assert parts(read(tag="region:eu", group_by="tag:plan")) == {"pro": 1, "free": 1, None: 1}


def test_series_groups_add_up_point_by_point(read: Callable) -> None:
    body = read("/series", interval="1h", group_by="tag:plan")
    assert [p["count"] for p in body["points"]] == [3, 3]  # e2 e3 e4 | e5 e6 e7
    series = {g["key"]: [p["count"] for p in g["points"]] for g in body["groups"]}
    assert series == {"pro": [1, 1], "free": [1, 1], None: [1, 1]}
    for i, whole in enumerate(body["points"]):
        assert_adds_up(whole, [g["points"][i] for g in body["groups"]])
    channels = read("/series", interval="1h", group_by="channel", touchpoint="checkout")
    assert {g["key"]: [p["count"] for p in g["points"]] for g in channels["groups"]} == {
        "web": [1, 0],
        "sms": [0, 1],
        "chat": [0, 1],
    }
