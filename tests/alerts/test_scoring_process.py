"""Alerts from a real `voc scoring` process fed through the real broker, including a SIGKILL mid-send."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.alert_models import Alert, Notification
from shared.settings import CommonSettings
from tests.alerts.conftest import Receiver, utc_now
from tests.alerts.feed import days, nps_mix, spread
from tests.support.stack import Service, http_service, service_env, wait_for
from tests.support.stream import produce
from tests.support.topics import read_all

FAST = {
    "SCORING_ALERTS_INTERVAL_SECONDS": "0.5",
    "SCORING_NOTIFY_POLL_SECONDS": "0.1",
    "SCORING_NOTIFY_BACKOFF_BASE_SECONDS": "0.1",
    "SCORING_NOTIFY_BACKOFF_MAX_SECONDS": "0.5",
}


@pytest.fixture
def scoring(common_env: dict[str, str], log_dir: Path) -> Iterator[Callable[..., Service]]:
    """Start `voc scoring` processes with fast alert settings; all are stopped afterwards."""
    started: list[Service] = []

    def start(**extra: str) -> Service:
        env = service_env(common_env, **FAST, **extra)
        service = http_service("scoring", env, log_dir, log_name=f"scoring-{len(started)}")
        started.append(service.start())
        return service

    yield start
    for s in started:
        s.stop()


def _setup(api: TestClient, headers: dict[str, str], url: str, **rule: Any) -> tuple[str, str]:
    dest = api.post(
        "/v1/notification-destinations",
        json={"name": "ops", "kind": "webhook", "url": url},
        headers=headers,
    ).json()
    created = api.post(
        "/v1/alert-rules",
        json={"name": "rule", "destination_ids": [dest["id"]], **rule},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return dest["id"], created.json()["id"]


def _rows(sessions: sessionmaker[Session], model: Any) -> list[Any]:
    with sessions() as s:
        return list(s.scalars(select(model).order_by(model.id)))


def test_a_real_drop_streamed_through_scoring_fires_once_and_reaches_the_topic(
    api: TestClient,
    auth: Callable[..., dict[str, str]],
    common: CommonSettings,
    sessions: sessionmaker[Session],
    receiver: Receiver,
    scoring: Callable[..., Service],
) -> None:
    _, rule_id = _setup(
        api,
        auth("admin"),
        receiver.url(),
        metric="nps",
        group_by="channel",
        condition={"type": "drop", "min_points": 10, "confidence": 0.99, "min_count": 40},
    )
    worker = scoring()
    now = utc_now()
    events = []
    for channel in ("web", "sms"):
        events += spread(
            nps_mix(60, 20, 20), start=now - days(6), end=now - days(2), channel=channel
        )
    recent = (now - timedelta(hours=20), now)
    events += spread(nps_mix(30, 20, 50), start=recent[0], end=recent[1], channel="web")
    events += spread(nps_mix(60, 20, 20), start=recent[0], end=recent[1], channel="sms")
    produce(common.kafka_bootstrap_servers, common.voc_feedback_topic, events)

    wait_for(lambda: bool(receiver.received()), timeout_s=60, what="the alert notification")
    (alert,) = _rows(sessions, Alert)
    assert (alert.rule_id, alert.group_key, alert.state) == (rule_id, "web", "firing")
    assert alert.evidence["recent_value"] == -20.0 and alert.evidence["baseline_value"] == 40.0
    (message,) = receiver.received()
    assert message.json()["alert"]["id"] == alert.id
    wait_for(
        lambda: all(n.status == "delivered" for n in _rows(sessions, Notification)),
        timeout_s=30,
        what="the Kafka record to be acknowledged",
    )
    records = [
        json.loads(v) for v in read_all(common.kafka_bootstrap_servers, common.voc_alerts_topic)
    ]
    assert [(r["type"], r["idempotency_key"]) for r in records] == [
        ("alert.fired", f"alert-{alert.id}-fired-kafka")
    ]
    assert worker.proc is not None and worker.proc.poll() is None


def test_sigkill_between_deciding_and_delivering_still_delivers_each_decision(
    api: TestClient,
    auth: Callable[..., dict[str, str]],
    common: CommonSettings,
    sessions: sessionmaker[Session],
    receiver: Receiver,
    scoring: Callable[..., Service],
) -> None:
    _setup(
        api,
        auth("admin"),
        receiver.url(),
        metric="nps",
        condition={"type": "each_response", "max_score": 6, "require_comment": True},
    )
    receiver.hang_next = 1  # the first delivery never gets an answer
    first = scoring(SCORING_NOTIFY_TIMEOUT_SECONDS="5")
    now = utc_now()
    detractors = spread([0, 3, 6], start=now - timedelta(minutes=5), end=now, text="slow refund")
    produce(common.kafka_bootstrap_servers, common.voc_feedback_topic, detractors)
    wait_for(lambda: bool(receiver.received()), timeout_s=60, what="the first delivery to arrive")
    first.kill()
    hung = receiver.received()[0].headers["webhook-id"]
    decided = {n.idempotency_key for n in _rows(sessions, Notification) if n.kind == "webhook"}
    assert hung in decided

    scoring(SCORING_NOTIFY_TIMEOUT_SECONDS="5")
    wait_for(
        lambda: (
            len({r.headers["webhook-id"] for r in receiver.received()}) == 3
            and all(n.status == "delivered" for n in _rows(sessions, Notification))
        ),
        timeout_s=90,
        what="every decided notification to be delivered after the restart",
    )
    keys = [r.headers["webhook-id"] for r in receiver.received()]
    assert set(keys) == {
        n.idempotency_key for n in _rows(sessions, Notification) if n.kind == "webhook"
    }
    assert keys.count(hung) == 2  # sent again with the same idempotency key
    assert len(_rows(sessions, Alert)) == 3
    records = read_all(common.kafka_bootstrap_servers, common.voc_alerts_topic)
    assert len({json.loads(v)["idempotency_key"] for v in records}) == 3
