"""Listing feedback: newest first, filters, and cursors that stay stable while feedback arrives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.support.events import make_event

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_pages_newest_first_without_gaps_or_repeats_while_feedback_arrives(
    api: TestClient, stored: Callable, make_key: Callable[..., str]
) -> None:
    stored(
        [
            make_event(response_id=f"r{i:02}", occurred_at=T0 + timedelta(minutes=i))
            for i in range(25)
        ]
    )
    headers = {"Authorization": f"Bearer {make_key('read')}"}
    seen: list[str] = []
    cursor = None
    for page_no in range(10):
        params = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        page = api.get("/v1/feedback", params=params, headers=headers).json()
        seen += [item["occurred_at"] for item in page["items"]]
        if page_no == 0:  # newer feedback arriving mid-listing must not shift later pages
            stored([make_event(response_id="new", occurred_at=T0 + timedelta(hours=5))])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = [
        (T0 + timedelta(minutes=i)).isoformat().replace("+00:00", "Z") for i in range(24, -1, -1)
    ]
    assert seen == expected


def test_filters_and_fields(
    api: TestClient, stored: Callable, make_key: Callable[..., str]
) -> None:
    stored(
        [
            make_event(
                response_id="a",
                occurred_at=T0,
                touchpoint="checkout",
                text="Great",
                respondent_id="cust-1",
                tags={"plan": "pro"},
            ),
            make_event(response_id="b", occurred_at=T0, metric="csat", score=2),
        ]
    )
    headers = {"Authorization": f"Bearer {make_key('read')}"}
    items = api.get("/v1/feedback", params={"touchpoint": "checkout"}, headers=headers).json()[
        "items"
    ]
    assert len(items) == 1
    item = items[0]
    assert (item["text"], item["respondent_id"], item["tags"]) == (
        "Great",
        "cust-1",
        {"plan": "pro"},
    )
    csat = api.get("/v1/feedback", params={"metric": "csat"}, headers=headers).json()["items"]
    assert [i["score"] for i in csat] == [2]


def test_garbage_cursor_is_422(api: TestClient, make_key: Callable[..., str]) -> None:
    answer = api.get(
        "/v1/feedback",
        params={"cursor": "not-a-cursor"},
        headers={"Authorization": f"Bearer {make_key('read')}"},
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == "query.cursor"
