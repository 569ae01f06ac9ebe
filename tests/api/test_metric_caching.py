"""Metric reads carry a weak ETag and Cache-Control, and answer 304 while the figures stand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.api.caching import etag_matches
from tests.support.events import make_event

Auth = Callable[..., dict[str, str]]


@pytest.mark.parametrize("path", ["/v1/metrics/nps", "/v1/metrics/nps/series"])
def test_304_while_nothing_changes_and_200_once_it_does(
    api: TestClient, auth: Auth, stored: Callable, path: str
) -> None:
    now = datetime.now(UTC)
    stored([make_event(response_id="a", occurred_at=now - timedelta(hours=1), score=10)])
    headers = auth("read")
    first = api.get(path, params={"window": "7d"}, headers=headers)
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    assert first.headers["cache-control"] == "private, max-age=5"
    assert first.headers["vary"] == "Authorization"
    # A rolling window moves with the clock, yet the same figures keep the same tag.
    again = api.get(path, params={"window": "7d"}, headers=headers | {"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    stored([make_event(response_id="b", occurred_at=now - timedelta(hours=1), score=0)])
    changed = api.get(path, params={"window": "7d"}, headers=headers | {"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["metric"] == "nps"


def test_rfc3339_timestamps_carry_an_offset(api: TestClient, auth: Auth) -> None:
    window = api.get("/v1/metrics/nps", headers=auth("read")).json()["window"]
    for value in window.values():
        parsed = datetime.fromisoformat(value)
        assert parsed.utcoffset() is not None, value


def test_if_none_match_lists_and_weak_comparison() -> None:
    assert etag_matches('"x", W/"abc"', 'W/"abc"')
    assert etag_matches('"abc"', 'W/"abc"')
    assert etag_matches("*", 'W/"abc"')
    assert not etag_matches('W/"abd"', 'W/"abc"')
    assert not etag_matches(None, 'W/"abc"')
