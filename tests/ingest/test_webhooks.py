"""The webhook endpoint against the real broker and database: what a provider sees, what lands on Kafka."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from services.ingest.app import create_app
from services.ingest.config import IngestSettings
from shared.embedded import free_port
from shared.events import FeedbackEvent, event_id_for
from shared.models import Source
from shared.providers import mint_standard_webhooks_secret
from shared.settings import CommonSettings
from tests.support.topics import read_all
from tests.support.webhooks import signed

RESPONSE = {
    "response_id": "resp-1",
    "respondent": {"id": "cust-42"},
    "metric": "nps",
    "score": 9,
    "comment": "Quick and easy",
    "occurred_at": "2026-11-20T10:15:00+03:00",
    "touchpoint": "checkout",
    "tags": {"plan": "pro"},
    "language": "en",
}


@pytest.fixture
def client(common: CommonSettings) -> Iterator[TestClient]:
    """The ingest app with its lifespan running, producing to this test's topics."""
    settings = IngestSettings(max_body_bytes=4096, source_cache_seconds=0)
    with TestClient(create_app(common, settings)) as c:
        yield c


def read_topic(common: CommonSettings, topic: str) -> list[bytes]:
    """Every record on one of this test's topics."""
    return read_all(common.kafka_bootstrap_servers, topic)


def post(client: TestClient, source: Source, payload: dict | bytes, **kw) -> object:
    body, headers = signed(source.secret, payload, **kw)
    return client.post(f"/v1/webhooks/{source.id}", content=body, headers=headers)


def test_accepted_response_is_on_the_topic_as_a_normalised_event(
    client: TestClient, common: CommonSettings, make_source: Callable[..., Source]
) -> None:
    source = make_source()
    answer = post(client, source, RESPONSE)
    assert answer.status_code == 202, answer.text
    expected_id = event_id_for(source_id=source.id, provider_message_id="resp-1")
    assert answer.json()["event_id"] == str(expected_id)

    [raw] = read_topic(common, common.voc_feedback_topic)
    event = FeedbackEvent.from_bytes(raw)
    assert event.event_id == expected_id
    assert (event.source_id, event.channel, event.metric, event.score) == (
        source.id,
        "web",
        "nps",
        9,
    )
    assert event.text == "Quick and easy"
    assert event.respondent_id == "cust-42"
    assert event.touchpoint == "checkout" and event.tags == {"plan": "pro"}
    assert event.occurred_at == datetime(2026, 11, 20, 7, 15, tzinfo=UTC)
    assert event.schema_version == 1


def test_redelivery_keeps_its_event_id(
    client: TestClient, make_source: Callable[..., Source]
) -> None:
    source = make_source()
    first = post(client, source, RESPONSE, msg_id="msg_a")
    again = post(client, source, RESPONSE, msg_id="msg_b")  # a retry carries a new webhook-id
    assert first.status_code == again.status_code == 202
    assert first.json()["event_id"] == again.json()["event_id"]


def test_without_response_id_the_webhook_id_is_the_idempotency_key(
    client: TestClient, make_source: Callable[..., Source]
) -> None:
    source = make_source()
    payload = {k: v for k, v in RESPONSE.items() if k != "response_id"}
    first = post(client, source, payload, msg_id="msg_same")
    again = post(client, source, payload, msg_id="msg_same")
    other = post(client, source, payload, msg_id="msg_other")
    assert first.json()["event_id"] == again.json()["event_id"] != other.json()["event_id"]


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h, b: ({**h, "webhook-signature": "v1,AAAA"}, b), id="wrong-signature"),
        pytest.param(lambda h, b: (h, b.replace(b'"score": 9', b'"score": 0')), id="body-changed"),
        pytest.param(
            lambda h, b: ({k: v for k, v in h.items() if k != "webhook-signature"}, b),
            id="no-signature",
        ),
        pytest.param(lambda h, b: ({**h, "webhook-timestamp": "yesterday"}, b), id="bad-timestamp"),
        pytest.param(lambda h, b: ({**h, "webhook-signature": "garbage"}, b), id="malformed"),
    ],
)
def test_unauthenticated_delivery_is_refused_and_produces_nothing(
    client: TestClient, common: CommonSettings, make_source: Callable[..., Source], tamper: Callable
) -> None:
    source = make_source()
    body, headers = signed(source.secret, RESPONSE)
    headers, body = tamper(headers, body)
    answer = client.post(f"/v1/webhooks/{source.id}", content=body, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert read_topic(common, common.voc_feedback_topic) == []


def test_signature_older_than_five_minutes_is_refused(
    client: TestClient, make_source: Callable[..., Source]
) -> None:
    source = make_source()
    stale = post(client, source, RESPONSE, at=datetime.now(UTC) - timedelta(minutes=6))
    fresh = post(client, source, RESPONSE, at=datetime.now(UTC) - timedelta(minutes=4))
    assert (stale.status_code, fresh.status_code) == (401, 202)


def test_previous_secret_still_works_during_rotation(
    client: TestClient, make_source: Callable[..., Source]
) -> None:
    old = mint_standard_webhooks_secret()
    source = make_source(previous_secret=old)
    body, headers = signed(old, RESPONSE)
    assert (
        client.post(f"/v1/webhooks/{source.id}", content=body, headers=headers).status_code == 202
    )
    assert post(client, source, RESPONSE).status_code == 202


def test_unknown_source_is_404(client: TestClient) -> None:
    body, headers = signed(mint_standard_webhooks_secret(), RESPONSE)
    answer = client.post("/v1/webhooks/src_nope", content=body, headers=headers)
    assert answer.status_code == 404
    assert "src_nope" in answer.json()["detail"]


def test_body_over_the_limit_is_413(client: TestClient, make_source: Callable[..., Source]) -> None:
    source = make_source()
    answer = post(client, source, {**RESPONSE, "comment": "x" * 5000})
    assert answer.status_code == 413
    assert answer.json()["status"] == 413


def test_invalid_body_is_422_naming_the_field_and_dead_lettered_whole(
    client: TestClient, common: CommonSettings, make_source: Callable[..., Source]
) -> None:
    source = make_source()
    payload = {**RESPONSE, "score": 11}
    body, headers = signed(source.secret, payload)
    answer = client.post(f"/v1/webhooks/{source.id}", content=body, headers=headers)
    assert answer.status_code == 422
    problem = answer.json()
    assert answer.headers["content-type"] == "application/problem+json"
    assert any("0 to 10" in e["msg"] and e["loc"].startswith("body") for e in problem["errors"])

    [raw] = read_topic(common, common.voc_dlq_topic)
    letter = json.loads(raw)
    assert letter["source_id"] == source.id
    assert base64.b64decode(letter["body_base64"]) == body
    assert read_topic(common, common.voc_feedback_topic) == []


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"metric": "nps"}, "body"),
        ({"metric": "stars", "score": 3}, "body.metric"),
        ({"metric": "csat", "score": 4, "occurred_at": "2026-11-20T10:15:00"}, "body.occurred_at"),
        ({"metric": "csat", "score": 4, "scroe": 5}, "body.scroe"),
        ({"comment": ""}, "body"),
    ],
)
def test_each_invalid_field_is_named(
    client: TestClient, make_source: Callable[..., Source], payload: dict, field: str
) -> None:
    answer = post(client, make_source(), payload)
    assert answer.status_code == 422
    assert field in [e["loc"] for e in answer.json()["errors"]], answer.json()


def test_signed_garbage_is_422_and_dead_lettered(
    client: TestClient, common: CommonSettings, make_source: Callable[..., Source]
) -> None:
    source = make_source()
    answer = post(client, source, b"score=9&comment=not json")
    assert answer.status_code == 422
    assert "not valid JSON" in answer.json()["detail"]
    [raw] = read_topic(common, common.voc_dlq_topic)
    assert base64.b64decode(json.loads(raw)["body_base64"]) == b"score=9&comment=not json"


def test_broker_down_is_503_with_retry_after(
    database_url: str, make_source: Callable[..., Source]
) -> None:
    dead = CommonSettings(
        database_url=database_url, kafka_bootstrap_servers=f"127.0.0.1:{free_port()}"
    )
    settings = IngestSettings(delivery_timeout_ms=1500, source_cache_seconds=0)
    source = make_source()
    with TestClient(create_app(dead, settings)) as c:
        answer = post(c, source, RESPONSE)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "5"
