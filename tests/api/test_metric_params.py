"""Bad metric parameters are 422 problems naming the parameter; the docs state the method."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

SERIES = "/v1/metrics/nps/series"
VALUE = "/v1/metrics/nps"


@pytest.mark.parametrize(
    ("path", "params", "loc"),
    [
        (SERIES, {"interval": "2d"}, "query.interval"),
        (SERIES, {"tz": "Mars/Olympus_Mons"}, "query.tz"),
        (SERIES, {"tz": "../etc/passwd"}, "query.tz"),
        (SERIES, {"window": "3660d", "interval": "1h"}, "query.interval"),
        (SERIES, {"window": "90d", "interval": "1d", "group_by": "colour"}, "query.group_by"),
        (SERIES, {"window": "fortnight"}, "query.window"),
        (VALUE, {"group_by": "tag:"}, "query.group_by"),
        (VALUE, {"group_by": "score"}, "query.group_by"),
        (VALUE, {"tag": "no-colon"}, "query.tag"),
        (VALUE, {"tag": ["plan:pro", "plan:free"]}, "query.tag"),
        (VALUE, {"tag": [f"k{i}:v" for i in range(11)]}, "query.tag"),
        (VALUE, {"channel": "fax"}, "query.channel"),
        (VALUE, {"min_count": "0"}, "query.min_count"),
    ],
)
def test_bad_parameter_is_a_422_naming_it(
    api: TestClient, make_key: Callable[..., str], path: str, params: dict[str, Any], loc: str
) -> None:
    answer = api.get(path, params=params, headers={"Authorization": f"Bearer {make_key('read')}"})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert loc in [e["loc"] for e in answer.json()["errors"]]


def test_most_points_allowed(api: TestClient, make_key: Callable[..., str]) -> None:
    answer = api.get(
        SERIES,
        params={"from": "2026-01-01T00:00:00Z", "to": "2026-03-25T08:00:00Z", "interval": "1h"},
        headers={"Authorization": f"Bearer {make_key('read')}"},
    )
    assert answer.status_code == 200, answer.text
    assert len(answer.json()["points"]) == 2000


def test_openapi_states_the_margin_method_and_the_cost(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    for path in ("/v1/metrics/{metric}", "/v1/metrics/{metric}/series"):
        text = paths[path]["get"]["description"]
        for phrase in ("Wilson", "+1/0/-1", "Student-t", "min_count", "number of buckets"):
            assert phrase in text, (path, phrase)
    names = {p["name"] for p in paths["/v1/metrics/{metric}/series"]["get"]["parameters"]}
    assert {"interval", "tz", "group_by", "tag", "language", "from", "to", "window"} <= names
