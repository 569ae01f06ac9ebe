"""The alert rules, destinations and alerts routes: scopes, validation, lifecycle over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.alerts.lifecycle import evaluate_rules
from shared.events import FeedbackEvent
from tests.alerts.conftest import utc_now
from tests.alerts.feed import spread

DROP = {"name": "NPS drop", "metric": "nps", "condition": {"type": "drop"}}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v1/alert-rules"),
        ("post", "/v1/alert-rules"),
        ("get", "/v1/notification-destinations"),
        ("post", "/v1/notification-destinations"),
    ],
)
def test_rules_and_destinations_need_admin(
    api: TestClient, auth: Callable[..., dict[str, str]], method: str, path: str
) -> None:
    answer = api.request(method, path, json=DROP, headers=auth("read", "write"))
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert api.request(method, path, json=DROP).status_code == 401


def test_rule_crud(api: TestClient, auth: Callable[..., dict[str, str]]) -> None:
    admin = auth("admin")
    created = api.post("/v1/alert-rules", json=DROP, headers=admin)
    assert created.status_code == 201, created.text
    rule = created.json()
    assert rule["condition"] == {
        "type": "drop",
        "recent_window_seconds": 86400,
        "baseline_window_seconds": 604800,
        "min_points": 5.0,
        "confidence": 0.999,
        "min_count": 30,
    }
    url = f"/v1/alert-rules/{rule['id']}"
    assert api.get(url, headers=admin).json() == rule
    patched = api.patch(
        url, json={"group_by": "channel", "filters": {"language": "ar"}}, headers=admin
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["group_by"] == "channel" and patched.json()["filters"] == {
        "language": "ar"
    }
    assert patched.json()["condition"] == rule["condition"]
    assert api.post(f"{url}/disable", headers=admin).json()["enabled"] is False
    assert api.post(f"{url}/enable", headers=admin).json()["enabled"] is True
    assert [r["id"] for r in api.get("/v1/alert-rules", headers=admin).json()] == [rule["id"]]
    assert api.delete(url, headers=admin).status_code == 204
    missing = api.get(url, headers=admin)
    assert missing.status_code == 404 and missing.json()["status"] == 404


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"name": "x", "condition": {"type": "drop"}}, "body.metric"),
        (
            {"name": "x", "metric": "nps", "condition": {"type": "drop", "confidence": 1.5}},
            "body.condition.drop.confidence",
        ),
        ({"name": "x", "metric": "nps", "condition": {"type": "sideways"}}, "body.condition"),
        (
            {"name": "x", "metric": "csat", "condition": {"type": "threshold", "level": 150}},
            "body.condition.level",
        ),
        (
            {"name": "x", "metric": "csat", "condition": {"type": "each_response", "max_score": 9}},
            "body.condition.max_score",
        ),
        ({"name": "x", "condition": {"type": "silence"}, "group_by": "colour"}, "body.group_by"),
        (
            {"name": "x", "condition": {"type": "silence"}, "destination_ids": ["dst_nope"]},
            "body.destination_ids.0",
        ),
        (
            {"name": "x", "condition": {"type": "silence"}, "filters": {"channel": "fax"}},
            "body.filters.channel",
        ),
    ],
)
def test_invalid_rules_are_422_naming_the_field(
    api: TestClient, auth: Callable[..., dict[str, str]], body: dict[str, object], loc: str
) -> None:
    answer = api.post("/v1/alert-rules", json=body, headers=auth("admin"))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert any(e["loc"].startswith(loc) for e in answer.json()["errors"]), answer.json()


def test_patch_that_breaks_the_rule_is_422(
    api: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    admin = auth("admin")
    rule = api.post("/v1/alert-rules", json=DROP, headers=admin).json()
    answer = api.patch(f"/v1/alert-rules/{rule['id']}", json={"metric": None}, headers=admin)
    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == "body.metric"
    unknown = api.patch(f"/v1/alert-rules/{rule['id']}", json={"colour": 1}, headers=admin)
    assert unknown.status_code == 422


def test_destinations_show_the_secret_once_and_never_the_url_path(
    api: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    admin = auth("admin")
    body = {
        "name": "Slack",
        "kind": "slack",
        "url": "https://hooks.slack.com/services/T0/B0/sEcReT",
    }
    slack = api.post("/v1/notification-destinations", json=body, headers=admin).json()
    assert slack["secret"] is None and slack["url_host"] == "https://hooks.slack.com"
    hook = api.post(
        "/v1/notification-destinations",
        json={"name": "pager", "kind": "webhook", "url": "https://example.com/hook"},
        headers=admin,
    ).json()
    assert hook["secret"].startswith("whsec_")
    listed = api.get("/v1/notification-destinations", headers=admin)
    assert "sEcReT" not in listed.text and hook["secret"] not in listed.text
    bad = api.post(
        "/v1/notification-destinations",
        json={"name": "x", "kind": "webhook", "url": "ftp://example.com", "secret": "nope"},
        headers=admin,
    )
    assert bad.status_code == 422
    assert {e["loc"] for e in bad.json()["errors"]} == {"body.url", "body.secret"}
    assert (
        api.delete(f"/v1/notification-destinations/{slack['id']}", headers=admin).status_code == 204
    )


def test_alerts_list_show_and_ack(
    api: TestClient,
    auth: Callable[..., dict[str, str]],
    stored: Callable[[list[FeedbackEvent]], None],
    sessions: sessionmaker[Session],
) -> None:
    admin, read, write = auth("admin"), auth("read"), auth("write")
    now = utc_now()
    stored(spread([1] * 40, start=now - timedelta(hours=3), end=now, metric="csat"))
    rule = api.post(
        "/v1/alert-rules",
        json={
            "name": "CSAT low",
            "metric": "csat",
            "condition": {"type": "threshold", "level": 60},
        },
        headers=admin,
    ).json()
    (alert_id,) = evaluate_rules(sessions=sessions).fired
    listed = api.get("/v1/alerts", params={"state": "firing", "rule_id": rule["id"]}, headers=read)
    assert [a["id"] for a in listed.json()] == [alert_id]
    assert api.get("/v1/alerts", params={"state": "resolved"}, headers=read).json() == []
    assert api.get("/v1/alerts", params={"state": "sideways"}, headers=read).status_code == 422
    detail = api.get(f"/v1/alerts/{alert_id}", headers=read).json()
    assert detail["evidence"]["value"] == 0.0 and detail["evidence"]["count"] == 40
    assert [n["kind"] for n in detail["notifications"]] == ["kafka"]

    assert api.post(f"/v1/alerts/{alert_id}/ack", headers=read).status_code == 403
    acked = api.post(f"/v1/alerts/{alert_id}/ack", headers=write)
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    again = api.post(f"/v1/alerts/{alert_id}/ack", headers=write).json()
    assert again["acknowledged_at"] == acked.json()["acknowledged_at"]
    events = [
        n["event"] for n in api.get(f"/v1/alerts/{alert_id}", headers=read).json()["notifications"]
    ]
    assert events == ["fired", "acknowledged"]
    # Acknowledged is still open: no second alert while the condition holds.
    assert evaluate_rules(sessions=sessions).fired == []
    assert api.get("/v1/alerts/999999", headers=read).status_code == 404
    assert api.post("/v1/alerts/0/ack", headers=write).status_code == 422
