"""Dead letters: recorded from the real DLQ topic once each, then listed and shown to admins."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from shared.dead_letters import DeadLetterRecorder
from shared.events import DeadLetter
from shared.kafka import CONTROL_HEADER, EventProducer
from shared.models import DeadLetterRecord
from shared.settings import CommonSettings

Auth = Callable[..., dict[str, str]]
RAW = b'{"score": 11, "comment": "\xd9\x85\xd9\x85\xd8\xaa\xd8\xa7\xd8\xb2"}'


def _letter(n: int) -> bytes:
    return DeadLetter(
        source_id="src_dlq",
        provider="generic",
        received_at=datetime(2026, 11, 20, 10, n, tzinfo=UTC),
        reason="body does not match the survey response schema",
        errors=[{"loc": "body.score", "msg": "nps scores are 0 to 10", "type": "value_error"}],
        content_type="application/json",
        body_base64=base64.b64encode(RAW + str(n).encode()).decode(),
        request_id=f"req-{n}",
    ).to_bytes()


def _publish(common: CommonSettings) -> None:
    producer = EventProducer(common.kafka_bootstrap_servers)
    try:
        topic = common.voc_dlq_topic
        for n in range(3):
            producer.send_sync(topic, key=b"src_dlq", value=_letter(n))
        producer.send_sync(
            topic, key=b"", value=b"\x00garbled", headers={"voc-reason": b"undecodable event"}
        )
        producer.send_sync(topic, key=b"", value=b"", headers={CONTROL_HEADER: b"marker"})
    finally:
        producer.close()


def _record_all(common: CommonSettings, sessions: sessionmaker[Session], want: int) -> int:
    """Run a recorder in a fresh group until `want` rows exist; return how many it added."""
    recorder = DeadLetterRecorder(
        bootstrap_servers=common.kafka_bootstrap_servers,
        topic=common.voc_dlq_topic,
        group_id=f"dlq-{uuid.uuid4().hex[:8]}",
        sessions=sessions,
        poll_timeout_ms=200,
    )
    added = 0
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            added += recorder.poll_once()
            with sessions() as s:
                if s.scalar(select(func.count()).select_from(DeadLetterRecord)) >= want:
                    # keep polling briefly so a replayed batch would show up as a duplicate
                    for _ in range(3):
                        added += recorder.poll_once()
                    return added
    finally:
        recorder.close()
    raise AssertionError("dead letters not recorded in time")


def test_recorder_stores_each_letter_once_and_the_api_shows_them(
    common: CommonSettings, sessions: sessionmaker[Session], api: TestClient, auth: Auth
) -> None:
    _publish(common)
    assert _record_all(common, sessions, want=4) == 4  # the control record is skipped
    assert _record_all(common, sessions, want=4) == 0  # the whole topic again: nothing new

    admin = auth("admin")
    page = api.get("/v1/dead-letters", params={"limit": 3}, headers=admin).json()
    assert len(page["items"]) == 3 and page["next_cursor"] is not None
    rest = api.get("/v1/dead-letters", params={"cursor": page["next_cursor"]}, headers=admin)
    items = page["items"] + rest.json()["items"]
    assert rest.json()["next_cursor"] is None and len(items) == 4
    raw = [i for i in items if i["source_id"] is None]
    assert [i["reason"] for i in raw] == ["undecodable event"]
    only = api.get("/v1/dead-letters", params={"source_id": "src_dlq"}, headers=admin).json()
    assert {i["request_id"] for i in only["items"]} == {"req-0", "req-1", "req-2"}

    shown = api.get(f"/v1/dead-letters/{only['items'][-1]['id']}", headers=admin).json()
    assert base64.b64decode(shown["body_base64"]) == RAW + b"0"
    assert shown["errors"][0]["loc"] == "body.score"
    assert shown["received_at"] == "2026-11-20T10:00:00Z"
    assert shown["kafka_topic"] == common.voc_dlq_topic
    assert api.get("/v1/dead-letters/999999", headers=admin).status_code == 404
    assert api.get("/v1/dead-letters", headers=auth("read", "write")).status_code == 403


def test_nul_characters_never_block_the_topic(sessions: sessionmaker[Session]) -> None:
    from types import SimpleNamespace

    from shared.dead_letters import store_dead_letters

    doc = DeadLetter(
        source_id="src\x00x",
        provider="generic",
        received_at=datetime(2026, 11, 20, tzinfo=UTC),
        reason="bad\x00reason",
        errors=[{"loc": "body\x00", "msg": {"k\x00": "v\x00"}}],
        body_base64=base64.b64encode(b"\x00raw").decode(),
    ).to_bytes()
    record = SimpleNamespace(topic="t", partition=0, offset=7, value=doc, headers=[])
    with sessions() as s, s.begin():
        assert store_dead_letters(session=s, records=[record, record]) == 1
    with sessions() as s:
        row = s.scalars(select(DeadLetterRecord)).one()
    assert (row.source_id, row.reason, row.body) == ("srcx", "badreason", b"\x00raw")
    assert row.errors == [{"loc": "body", "msg": {"k": "v"}}]


def test_replay_without_the_internal_secret_says_which_setting_to_set(
    common: CommonSettings, sessions: sessionmaker[Session], api: TestClient, auth: Auth
) -> None:
    from types import SimpleNamespace

    from shared.dead_letters import store_dead_letters

    record = SimpleNamespace(topic="t", partition=0, offset=1, value=_letter(1), headers=[])
    with sessions() as s, s.begin():
        store_dead_letters(session=s, records=[record])
    with sessions() as s:
        letter_id = s.scalars(select(DeadLetterRecord.id)).one()
    url = f"/v1/dead-letters/{letter_id}/replay"
    assert api.post(url, headers=auth("read", "write")).status_code == 403
    answer = api.post(url, headers=auth("admin"))
    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "VOC_INTERNAL_SECRET" in answer.json()["detail"]
    with sessions() as s:
        row = s.get(DeadLetterRecord, letter_id)
        assert row is not None and row.replay_attempted_at is None  # nothing was attempted
