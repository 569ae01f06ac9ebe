"""Rules evaluated against stored feedback: what fires, what does not, and how alerts end."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from services.scoring.alerts.dispatcher import Dispatcher
from services.scoring.alerts.lifecycle import evaluate_rules
from shared.alert_models import Alert, Notification
from shared.events import FeedbackEvent
from tests.alerts.conftest import Receiver, utc_now
from tests.alerts.feed import days, nps_mix, spread

Store = Callable[[list[FeedbackEvent]], None]


def _destination(
    api: TestClient, headers: dict[str, str], url: str, kind: str = "webhook"
) -> dict[str, Any]:
    created = api.post(
        "/v1/notification-destinations",
        json={"name": "ops", "kind": kind, "url": url},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


def _rule(api: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    created = api.post("/v1/alert-rules", json={"name": "rule", **body}, headers=headers)
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


def _alerts(sessions: sessionmaker[Session], rule_id: str) -> list[Alert]:
    with sessions() as s:
        return list(s.scalars(select(Alert).where(Alert.rule_id == rule_id).order_by(Alert.id)))


def test_drop_fires_for_the_dropped_channel_only_is_delivered_signed_and_resolves(
    api: TestClient,
    auth: Callable[..., dict[str, str]],
    stored: Store,
    sessions: sessionmaker[Session],
    receiver: Receiver,
    dispatcher: Callable[..., Dispatcher],
) -> None:
    admin = auth("admin")
    now = utc_now()
    baseline = (now - days(6), now - days(1.5))
    recent = (now - days(0.9), now - timedelta(minutes=1))
    events = []
    for channel in ("web", "sms", "email", "chat"):
        events += spread(nps_mix(60, 20, 20), start=baseline[0], end=baseline[1], channel=channel)
    events += spread(nps_mix(25, 20, 55), start=recent[0], end=recent[1], channel="web")  # -70
    events += spread(nps_mix(58, 22, 20), start=recent[0], end=recent[1], channel="sms")  # -2
    events += spread(nps_mix(62, 18, 20), start=recent[0], end=recent[1], channel="email")  # +2
    events += spread(nps_mix(0, 0, 12), start=recent[0], end=recent[1], channel="chat")  # few
    stored(events)
    dest = _destination(api, admin, receiver.url())
    rule = _rule(
        api,
        admin,
        metric="nps",
        condition={"type": "drop", "min_points": 5, "confidence": 0.99, "min_count": 30},
        group_by="channel",
        destination_ids=[dest["id"]],
        hold_off_seconds=600,
    )

    result = evaluate_rules(sessions=sessions, now=now)
    assert result.errors == 0 and len(result.fired) == 1
    (alert,) = _alerts(sessions, rule["id"])
    assert (alert.group_key, alert.state) == ("web", "firing")
    ev = alert.evidence
    assert (ev["recent_count"], ev["baseline_count"]) == (100, 100)
    assert ev["recent_value"] == -30.0 and ev["baseline_value"] == 40.0
    assert ev["statistic"] < 0 and ev["p_value"] < 0.01 and ev["degrees_of_freedom"] > 100
    assert evaluate_rules(sessions=sessions, now=now).fired == []  # one open alert per group

    d = dispatcher()
    assert d.dispatch_due() == 2  # the webhook and the Kafka record
    (msg,) = receiver.received()
    body = Webhook(dest["secret"]).verify(msg.body, msg.headers)
    assert body["type"] == "alert.fired" and body["alert"]["group_key"] == "web"
    assert msg.headers["webhook-id"] == f"alert-{alert.id}-fired-{dest['id']}"

    # Recovery: web's recent window back to the baseline's level.
    stored(spread(nps_mix(400, 100, 0), start=recent[0], end=recent[1], channel="web"))
    assert evaluate_rules(sessions=sessions, now=now + timedelta(seconds=60)).resolved == []
    later = evaluate_rules(sessions=sessions, now=now + timedelta(seconds=601))
    assert later.resolved == [alert.id]
    (alert,) = _alerts(sessions, rule["id"])
    assert alert.state == "resolved"
    d.dispatch_due()
    assert [r.json()["type"] for r in receiver.received()] == ["alert.fired", "alert.resolved"]


def test_threshold_and_silence_rules(
    api: TestClient,
    auth: Callable[..., dict[str, str]],
    stored: Store,
    sessions: sessionmaker[Session],
) -> None:
    admin = auth("admin")
    now = utc_now()
    csat_low = [1] * 20 + [5] * 20  # CSAT 50% on 40
    stored(
        spread(csat_low, start=now - timedelta(hours=20), end=now, metric="csat", source_id="src_a")
    )
    stored(
        spread([5] * 40, start=now - timedelta(hours=20), end=now, metric="csat", source_id="src_b")
    )
    # src_quiet had plenty last week and nothing for the last 3 hours.
    stored(
        spread([9] * 30, start=now - days(5), end=now - timedelta(hours=3), source_id="src_quiet")
    )
    threshold = _rule(
        api,
        admin,
        metric="csat",
        condition={"type": "threshold", "level": 70, "direction": "below", "min_count": 30},
        group_by="source_id",
    )
    silence = _rule(
        api,
        admin,
        condition={"type": "silence", "silent_seconds": 7200, "min_count": 10},
        group_by="source_id",
        hold_off_seconds=0,
    )
    evaluate_rules(sessions=sessions, now=now)
    (low,) = _alerts(sessions, threshold["id"])
    assert (
        low.group_key == "src_a" and low.evidence["value"] == 50.0 and low.evidence["count"] == 40
    )
    (quiet,) = _alerts(sessions, silence["id"])
    assert quiet.group_key == "src_quiet" and quiet.evidence["baseline_count"] == 30

    stored(spread([9], start=now - timedelta(minutes=1), end=now, source_id="src_quiet"))
    result = evaluate_rules(sessions=sessions, now=now)
    assert result.resolved == [quiet.id]


def test_each_response_sends_one_slack_message_per_detractor_with_a_comment(
    api: TestClient,
    auth: Callable[..., dict[str, str]],
    stored: Store,
    sessions: sessionmaker[Session],
    receiver: Receiver,
    dispatcher: Callable[..., Dispatcher],
) -> None:
    admin = auth("admin")
    slack = _destination(api, admin, receiver.url("/slack"), kind="slack")
    rule = _rule(
        api,
        admin,
        metric="nps",
        condition={"type": "each_response", "max_score": 6, "require_comment": True},
        destination_ids=[slack["id"]],
    )
    now = utc_now()
    stored(
        [
            *spread([2], start=now, end=now, text="Never again", respondent_id="cust-1"),
            *spread([6], start=now, end=now, text="الخدمة بطيئة", respondent_id="cust-2"),
            *spread([0], start=now, end=now, text="  ", respondent_id="cust-3"),  # no comment
            *spread([10], start=now, end=now, text="Great", respondent_id="cust-4"),  # promoter
        ]
    )
    assert len(evaluate_rules(sessions=sessions).fired) == 2
    assert evaluate_rules(sessions=sessions).fired == []
    assert {a.latest_evidence["respondent_id"] for a in _alerts(sessions, rule["id"])} == {
        "cust-1",
        "cust-2",
    }
    d = dispatcher()
    while d.dispatch_due():
        pass
    texts = sorted(r.json()["text"] for r in receiver.received("/slack"))
    assert len(texts) == 2
    assert "cust-1" in texts[0] + texts[1] and "الخدمة بطيئة" in texts[0] + texts[1]
    assert all(r.json()["blocks"] for r in receiver.received("/slack"))


def test_receiver_answering_500_three_times_gets_the_message_once_after_visible_retries(
    api: TestClient,
    auth: Callable[..., dict[str, str]],
    stored: Store,
    sessions: sessionmaker[Session],
    receiver: Receiver,
    dispatcher: Callable[..., Dispatcher],
) -> None:
    admin = auth("admin")
    dest = _destination(api, admin, receiver.url())
    _rule(
        api,
        admin,
        metric="nps",
        condition={"type": "each_response", "max_score": 6},
        destination_ids=[dest["id"]],
    )
    now = utc_now()
    stored(spread([1], start=now, end=now, respondent_id="cust-9"))
    (alert_id,) = evaluate_rules(sessions=sessions).fired
    receiver.fail_next(500, 500, 500)
    d = dispatcher(base_s=0.05)
    deadline = now + timedelta(seconds=20)
    while len(receiver.received()) < 4 and utc_now() < deadline:
        d.dispatch_due()
    d.dispatch_due()
    got = receiver.received()
    assert len(got) == 4 and len({r.headers["webhook-id"] for r in got}) == 1
    detail = api.get(f"/v1/alerts/{alert_id}", headers=auth("read")).json()
    (hook,) = [n for n in detail["notifications"] if n["kind"] == "webhook"]
    assert hook["status"] == "delivered" and hook["attempts"] == 4
    assert [a["status_code"] for a in hook["attempt_log"]] == [500, 500, 500, 200]
    assert hook["idempotency_key"] == got[0].headers["webhook-id"]


def test_concurrent_evaluations_open_one_alert(
    api: TestClient,
    auth: Callable[..., dict[str, str]],
    stored: Store,
    sessions: sessionmaker[Session],
) -> None:
    admin = auth("admin")
    now = utc_now()
    stored(spread([1] * 40, start=now - timedelta(hours=5), end=now, metric="csat"))
    rule = _rule(api, admin, metric="csat", condition={"type": "threshold", "level": 50})
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        evaluate_rules(sessions=sessions, now=now)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(_alerts(sessions, rule["id"])) == 1
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Notification)) == 1  # Kafka only
