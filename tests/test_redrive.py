"""Replaying a dead letter once its cause is fixed, through real processes: ingest dead-letters a
survey answer to an unmapped question, the recorder stores it, the source's map is fixed over
the API, the API has ingest parse it again, and scoring stores the feedback once."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition

from services.ingest.normalise import kept_headers
from shared.kafka import REQUEST_ID_HEADER
from shared.redrive import (
    REDRIVE_PATH,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    InternalSettings,
    RedriveRequest,
    refusal,
    signed_headers,
)
from shared.settings import CommonSettings, SettingsError, load
from tests.ingest.providers_support import typeform
from tests.support.stack import Service, http_service, service_env, wait_for
from tests.support.topics import read_records

INTERNAL_SECRET = "replay-secret-of-this-test-run-0123456789"
TYPEFORM_SECRET = "typeform-secret-pasted-in-the-console"
QUESTION = "Q7M2XAwY04dW"
WHY = "gFFf3xAkJKsr"
RESPONSE: dict[str, Any] = {
    "event_id": "01EK4R5PFZZP6C8H14RTP4YW6C",
    "event_type": "form_response",
    "form_response": {
        "form_id": "lT4Z3j",
        "token": "a3a12ec67a1365927098a606107fac15",
        "submitted_at": "2026-11-23T06:00:00Z",
        "answers": [
            {"type": "number", "number": 9, "field": {"id": QUESTION, "type": "opinion_scale"}},
            {"type": "text", "text": "التوصيل سريع", "field": {"id": WHY, "type": "long_text"}},
        ],
    },
}


@pytest.fixture
def stack(common_env: dict[str, str], log_dir: Path) -> Iterator[dict[str, Service]]:
    """Ingest, API, scoring and the dead-letter recorder sharing the internal secret."""
    env = service_env(common_env, VOC_INTERNAL_SECRET=INTERNAL_SECRET)
    ingest = http_service("ingest", env, log_dir)
    api = http_service("api", {**env, "API_INGEST_URL": ingest.url}, log_dir)
    services = {
        "ingest": ingest,
        "api": api,
        "scoring": Service("scoring", env, log_dir / "scoring.log"),
        "dead-letters": Service("dead-letters", env, log_dir / "dead-letters.log"),
    }
    for s in services.values():
        s.start(wait=False)
    for s in (ingest, api):
        s.start_wait()
    yield services
    for s in services.values():
        s.stop()


def _committed(common: CommonSettings, group: str) -> int:
    """Records the scoring group has committed past, over every partition of the topic."""
    consumer = KafkaConsumer(
        bootstrap_servers=common.kafka_bootstrap_servers.split(","),
        group_id=group,
        enable_auto_commit=False,
    )
    try:
        topic = common.voc_feedback_topic
        parts = consumer.partitions_for_topic(topic) or set()
        return sum(consumer.committed(TopicPartition(topic, p)) or 0 for p in parts)
    finally:
        consumer.close()


def test_a_fixed_source_replays_its_dead_letter_into_one_feedback(
    stack: dict[str, Service],
    make_key: Callable[..., str],
    common: CommonSettings,
    common_env: dict[str, str],
) -> None:
    api, ingest = stack["api"].url, stack["ingest"].url
    admin = {"Authorization": f"Bearer {make_key('admin')}"}
    created = httpx.post(
        f"{api}/v1/sources",
        headers=admin,
        json={
            "name": "NPS form",
            "channel": "web",
            "provider": "typeform",
            "secret": TYPEFORM_SECRET,
            "config": {"questions": {"nps_question": "nps"}},  # the form's ref was never set
        },
    )
    assert created.status_code == 201, created.text
    source_id = created.json()["id"]
    body, headers = typeform(TYPEFORM_SECRET, RESPONSE)
    refused = httpx.post(f"{ingest}/v1/webhooks/{source_id}", content=body, headers=headers)
    assert refused.status_code == 422, refused.text

    def letters() -> list[dict[str, Any]]:
        page = httpx.get(
            f"{api}/v1/dead-letters", params={"source_id": source_id}, headers=admin
        ).json()
        items: list[dict[str, Any]] = page["items"]
        return items

    wait_for(lambda: len(letters()) == 1, timeout_s=60, what="the dead letter to be recorded")
    [letter] = letters()
    replay_url = f"{api}/v1/dead-letters/{letter['id']}/replay"

    # Not fixed yet: the replay fails the same way, and the failure is kept on the letter.
    still = httpx.post(replay_url, headers=admin, timeout=60)
    assert still.status_code == 422, still.text
    assert "no answer to any question" in still.json()["detail"]
    shown = httpx.get(f"{api}/v1/dead-letters/{letter['id']}", headers=admin).json()
    assert shown["replayed_at"] is None and shown["replay_error"]["status"] == 422
    assert shown["headers"] == {"content-type": "application/json"}  # no signature kept

    for scopes in (("read",), ("write",)):
        key = {"Authorization": f"Bearer {make_key(*scopes)}"}
        assert httpx.post(replay_url, headers=key).status_code == 403

    patch_url = f"{api}/v1/sources/{source_id}"
    read_key = {"Authorization": f"Bearer {make_key('read')}"}
    assert httpx.patch(patch_url, headers=read_key, json={"name": "x"}).status_code == 403
    bad = httpx.patch(patch_url, headers=admin, json={"config": {"questions": {"q": "joy"}}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"].startswith("body.config")
    fixed = httpx.patch(
        patch_url,
        headers=admin,
        json={"config": {"questions": {QUESTION: "nps", WHY: "comment"}}},
    )
    assert fixed.status_code == 200, fixed.text
    first = httpx.post(replay_url, headers=admin, timeout=60)
    assert first.status_code == 200, first.text
    [event_id] = first.json()["event_ids"]
    second = httpx.post(replay_url, headers=admin, timeout=60)
    assert second.status_code == 200, second.text
    assert second.json()["event_ids"] == [event_id]
    # Each replayed record is traced to the delivery that was dead-lettered, as a webhook's is.
    replayed = [
        r
        for r in read_records(common.kafka_bootstrap_servers, common.voc_feedback_topic)
        if r.key == uuid.UUID(event_id).bytes
    ]
    assert [r.headers.get(REQUEST_ID_HEADER) for r in replayed] == 2 * [
        refused.headers["x-request-id"].encode()
    ]

    # Both replays reached the topic; once scoring has committed past both, one row exists.
    group = common_env["SCORING_GROUP_ID"]
    wait_for(lambda: _committed(common, group) >= 2, timeout_s=90, what="scoring to consume")
    listed = httpx.get(f"{api}/v1/feedback", params={"source_id": source_id}, headers=admin)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [(i["event_id"], i["score"], i["text"]) for i in items] == [
        (event_id, 9, "التوصيل سريع")
    ]
    shown = httpx.get(f"{api}/v1/dead-letters/{letter['id']}", headers=admin).json()
    assert shown["replay_event_ids"] == [event_id] and shown["replay_error"] is None
    assert shown["replayed_at"] is not None
    pending = httpx.get(f"{api}/v1/dead-letters", params={"replayed": "false"}, headers=admin)
    assert pending.json()["items"] == []


def test_only_a_call_signed_with_the_internal_secret_reaches_the_parsers(
    common_env: dict[str, str], log_dir: Path
) -> None:
    ingest = http_service(
        "ingest", service_env(common_env, VOC_INTERNAL_SECRET=INTERNAL_SECRET), log_dir
    ).start()
    try:
        call = RedriveRequest(
            source_id="src_does_not_exist",
            content_type="application/json",
            body_base64="e30=",
            received_at=datetime.now(UTC),
        )
        body = call.model_dump_json().encode()
        url = f"{ingest.url}{REDRIVE_PATH}"
        now = datetime.now(UTC)
        forged = signed_headers("some-other-secret-of-the-same-length-000", body, now=now)
        stale = signed_headers(INTERNAL_SECRET, body, now=now - timedelta(minutes=10))
        for headers in ({}, forged, stale):
            answer = httpx.post(url, content=body, headers=headers)
            assert answer.status_code == 401, answer.text
            assert answer.headers["content-type"] == "application/problem+json"
        tampered = signed_headers(INTERNAL_SECRET, body, now=now)
        assert httpx.post(url, content=body + b" ", headers=tampered).status_code == 401
        genuine = httpx.post(
            url, content=body, headers=signed_headers(INTERNAL_SECRET, body, now=now)
        )
        assert genuine.status_code == 404, genuine.text  # authentic, but no such source
    finally:
        ingest.stop()


def test_signature_checks_refuse_what_the_api_did_not_sign() -> None:
    now = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    body = b'{"source_id":"src_1"}'
    good = signed_headers(INTERNAL_SECRET, body, now=now)
    assert refusal(INTERNAL_SECRET, body, good, now=now + timedelta(seconds=299)) is None
    assert "from now" in str(refusal(INTERNAL_SECRET, body, good, now=now + timedelta(hours=1)))
    assert "does not match" in str(refusal(INTERNAL_SECRET, body + b"x", good, now=now))
    assert "does not match" in str(refusal("x" * 40, body, good, now=now))
    for broken in ({}, {**good, TIMESTAMP_HEADER: "9" * 5000}, {**good, TIMESTAMP_HEADER: "٣"}):
        assert "required" in str(refusal(INTERNAL_SECRET, body, broken, now=now))
    assert "required" in str(
        refusal(INTERNAL_SECRET, body, {TIMESTAMP_HEADER: good[TIMESTAMP_HEADER]}, now=now)
    )
    assert good[SIGNATURE_HEADER].startswith("v1=")


def test_the_internal_secret_is_optional_but_never_short(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOC_INTERNAL_SECRET", raising=False)
    assert load(InternalSettings).internal_secret is None
    monkeypatch.setenv("VOC_INTERNAL_SECRET", "  ")
    assert load(InternalSettings).internal_secret is None
    monkeypatch.setenv("VOC_INTERNAL_SECRET", "short")
    with pytest.raises(SettingsError) as raised:
        load(InternalSettings)
    assert raised.value.lines == ["VOC_INTERNAL_SECRET must be at least 32 characters"]
    assert "short" not in str(raised.value)


def test_a_replay_request_carries_the_delivery_byte_for_byte() -> None:
    raw = "نعم 9\x00".encode() + bytes(range(256))
    call = RedriveRequest(
        source_id="src_1",
        content_type="multipart/form-data; boundary=xYzZY",
        headers={"webhook-id": "msg_1"},
        body_base64=base64.b64encode(raw).decode(),
        received_at=datetime(2026, 11, 23, tzinfo=UTC),
    )
    again = RedriveRequest.model_validate_json(call.model_dump_json())
    assert again.body() == raw and again == call


def test_a_dead_letter_keeps_the_headers_parsers_read_and_no_credentials() -> None:
    received = {
        "Content-Type": "application/json; charset=utf-8",
        "Webhook-Id": "msg_1",
        "X-Chatwoot-Timestamp": "1763877600",
        "Authorization": "Basic c2VjcmV0",
        "Typeform-Signature": "sha256=abc",
        "Cookie": "session=1",
    }
    assert kept_headers(received) == {
        "content-type": "application/json; charset=utf-8",
        "webhook-id": "msg_1",
        "x-chatwoot-timestamp": "1763877600",
    }
