"""Intercom, Zendesk and Chatwoot ratings, signed as each provider documents."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from shared.models import Source
from tests.ingest import providers_support as sign

SECRET = "s3cr3t-from-the-provider"

# Intercom's notification_event for conversation.rating.added, trimmed from the webhook model
# and the Conversation Rating model in Intercom's developer docs.
INTERCOM_RATING = {
    "type": "notification_event",
    "app_id": "ecahpwf5",
    "data": {
        "type": "notification_event_data",
        "item": {
            "type": "conversation",
            "id": "147",
            "created_at": 1732186784,
            "conversation_rating": {
                "rating": 5,
                "remark": "Quick and friendly",
                "created_at": 1732186844,
                "contact": {"type": "contact", "id": "5ba682d23d7cf92bef87bfd4"},
                "teammate": {"type": "admin", "id": "1295"},
            },
        },
    },
    "topic": "conversation.rating.added",
    "id": "notif_ccd8a4d0-f965-11e3-a367-c779cae3e1b3",
    "created_at": 1732186845,
}


def post(client: TestClient, source: Source, signed: tuple[bytes, dict[str, str]]) -> object:
    body, headers = signed
    return client.post(f"/v1/webhooks/{source.id}", content=body, headers=headers)


def test_intercom_rating_is_csat(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(
        channel="chat", provider="intercom", secret=SECRET, config={"touchpoint": "support"}
    )
    answer = post(ingest, source, sign.intercom(SECRET, INTERCOM_RATING))
    assert answer.status_code == 202, answer.text
    again = post(ingest, source, sign.intercom(SECRET, INTERCOM_RATING))
    assert again.json()["event_id"] == answer.json()["event_id"]
    event = events()[0]
    assert (event.metric, event.score, event.text) == ("csat", 5, "Quick and friendly")
    assert event.respondent_id == "5ba682d23d7cf92bef87bfd4" and event.touchpoint == "support"
    assert event.provider_message_id == "conversation:147"


def test_intercom_ping_is_acknowledged_and_ignored(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(channel="chat", provider="intercom", secret=SECRET)
    ping = {"type": "notification_event", "topic": "ping", "data": {"item": {"message": "hi"}}}
    answer = post(ingest, source, sign.intercom(SECRET, ping))
    assert answer.status_code == 200 and answer.json()["event_ids"] == []
    assert events() == []


@pytest.mark.parametrize("provider", ["intercom", "zendesk", "chatwoot"])
def test_wrong_secret_is_401(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable, provider: str
) -> None:
    source = make_source(channel="chat", provider=provider, secret=SECRET)
    signer = getattr(sign, provider)
    assert post(ingest, source, signer("not-the-secret", INTERCOM_RATING)).status_code == 401
    body, headers = signer(SECRET, INTERCOM_RATING)
    assert post(ingest, source, (body + b" ", headers)).status_code == 401  # one byte changed
    assert events() == []


def test_rotated_secret_still_verifies(
    ingest: TestClient, make_source: Callable[..., Source]
) -> None:
    source = make_source(channel="chat", provider="intercom", secret=SECRET, previous_secret="old")
    assert post(ingest, source, sign.intercom("old", INTERCOM_RATING)).status_code == 202


ZENDESK_RATING = {
    "ticket_id": "35436",
    "rating": "Good, I'm satisfied",
    "comment": "الدعم كان سريع",
    "requester_id": "20978392",
    "updated_at": "2026-11-20T09:30:00Z",
}


def test_zendesk_good_bad_and_changed_rating(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(channel="chat", provider="zendesk", secret=SECRET)
    assert post(ingest, source, sign.zendesk(SECRET, ZENDESK_RATING)).status_code == 202
    changed = {**ZENDESK_RATING, "rating": "bad", "updated_at": "2026-11-20T10:00:00Z"}
    assert post(ingest, source, sign.zendesk(SECRET, changed)).status_code == 202
    first, second = events()
    assert (first.score, second.score) == (5, 1)
    assert first.event_id == second.event_id and second.revision > first.revision
    assert first.text == "الدعم كان سريع"


def test_zendesk_offer_is_ignored_and_stale_timestamp_refused(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(channel="chat", provider="zendesk", secret=SECRET)
    offered = {**ZENDESK_RATING, "rating": "offered"}
    assert post(ingest, source, sign.zendesk(SECRET, offered)).status_code == 200
    stale = sign.zendesk(SECRET, ZENDESK_RATING, at=datetime.now(UTC) - timedelta(minutes=10))
    assert post(ingest, source, stale).status_code == 401
    assert events() == []


def test_zendesk_unknown_rating_is_dead_lettered(
    ingest: TestClient, make_source: Callable[..., Source], dead_letters: Callable
) -> None:
    source = make_source(channel="chat", provider="zendesk", secret=SECRET)
    answer = post(ingest, source, sign.zendesk(SECRET, {**ZENDESK_RATING, "rating": "meh"}))
    assert answer.status_code == 422
    assert "meh" in dead_letters()[0]["reason"]


# Chatwoot's message_updated for an answered CSAT survey (content_type input_csat).
CHATWOOT_CSAT = {
    "event": "message_updated",
    "id": 4812,
    "content": "Please rate the conversation",
    "content_type": "input_csat",
    "content_attributes": {
        "display_type": "emoji",
        "submitted_values": {
            "csat_survey_response": {"rating": 4, "feedback_message": "Solved my issue"}
        },
    },
    "message_type": "template",
    "conversation": {"id": 207, "contact_inbox": {"contact_id": 4, "inbox_id": 3}},
    "account": {"id": 1, "name": "Acme"},
}


def test_chatwoot_csat_answer(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(channel="chat", provider="chatwoot", secret=SECRET)
    assert post(ingest, source, sign.chatwoot(SECRET, CHATWOOT_CSAT)).status_code == 202
    [event] = events()
    assert (event.metric, event.score, event.text) == ("csat", 4, "Solved my issue")
    assert event.respondent_id == "4" and event.provider_message_id == "message:4812"


def test_chatwoot_other_events_are_ignored(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(channel="chat", provider="chatwoot", secret=SECRET)
    created = {"event": "message_created", "id": 1, "content": "hi", "content_type": "text"}
    assert post(ingest, source, sign.chatwoot(SECRET, created)).status_code == 200
    stale = sign.chatwoot(SECRET, CHATWOOT_CSAT, at=datetime.now(UTC).timestamp() - 3600)
    assert post(ingest, source, stale).status_code == 401
    assert events() == []
