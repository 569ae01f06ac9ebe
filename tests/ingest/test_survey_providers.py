"""Typeform, Formbricks and Delighted: question mapping, follow-ups replacing the first version."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from shared.models import Source
from shared.providers import mint_standard_webhooks_secret
from tests.ingest import providers_support as sign
from tests.support.webhooks import signed

SECRET = "typeform-secret-pasted-in-the-console"

# The example form_response from Typeform's webhook docs ("Example webhook payload"), reduced
# to an opinion-scale (NPS) question and a long-text question.
TYPEFORM = {
    "event_id": "01EK4R5PFZZP6C8H14RTP4YW6C",
    "event_type": "form_response",
    "form_response": {
        "form_id": "lT4Z3j",
        "token": "a3a12ec67a1365927098a606107fac15",
        "landed_at": "2018-01-18T18:07:02Z",
        "submitted_at": "2018-01-18T18:17:02Z",
        "hidden": {"user_id": "abc123456"},
        "definition": {
            "id": "lT4Z3j",
            "title": "Webhooks example",
            "fields": [
                {
                    "id": "Q7M2XAwY04dW",
                    "title": "How likely...",
                    "type": "opinion_scale",
                    "ref": "nps_question",
                },
                {"id": "gFFf3xAkJKsr", "title": "Why?", "type": "long_text", "ref": "why"},
            ],
        },
        "answers": [
            {
                "type": "number",
                "number": 9,
                "field": {"id": "Q7M2XAwY04dW", "type": "opinion_scale", "ref": "nps_question"},
            },
            {
                "type": "text",
                "text": "Lorem ipsum dolor",
                "field": {"id": "gFFf3xAkJKsr", "type": "long_text", "ref": "why"},
            },
        ],
    },
}


def post(client: TestClient, source: Source, signed_: tuple[bytes, dict[str, str]]) -> object:
    body, headers = signed_
    return client.post(f"/v1/webhooks/{source.id}", content=body, headers=headers)


def test_typeform_answers_map_to_nps_and_comment(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(
        provider="typeform",
        secret=SECRET,
        config={"questions": {"nps_question": "nps", "gFFf3xAkJKsr": "comment"}},
    )
    answer = post(ingest, source, sign.typeform(SECRET, TYPEFORM))
    assert answer.status_code == 202, answer.text
    [event] = events()
    assert (event.metric, event.score, event.text) == ("nps", 9, "Lorem ipsum dolor")
    assert event.provider_message_id == "a3a12ec67a1365927098a606107fac15"
    assert event.respondent_id == "abc123456"
    assert event.occurred_at == datetime(2018, 1, 18, 18, 17, 2, tzinfo=UTC)


def test_typeform_forged_signature_and_unmapped_form(
    ingest: TestClient, make_source: Callable[..., Source], dead_letters: Callable
) -> None:
    source = make_source(provider="typeform", secret=SECRET, config={"questions": {"x": "nps"}})
    assert post(ingest, source, sign.typeform("guess", TYPEFORM)).status_code == 401
    answer = post(ingest, source, sign.typeform(SECRET, TYPEFORM))
    assert answer.status_code == 422  # authentic but the mapping names no question answered
    [letter] = dead_letters()
    assert letter["source_id"] == source.id and "no answer" in letter["reason"]


def test_typeform_score_off_the_scale_is_dead_lettered(
    ingest: TestClient, make_source: Callable[..., Source], dead_letters: Callable
) -> None:
    source = make_source(
        provider="typeform", secret=SECRET, config={"questions": {"nps_question": "csat"}}
    )
    assert post(ingest, source, sign.typeform(SECRET, TYPEFORM)).status_code == 422
    assert "csat" in dead_letters()[0]["reason"]


def formbricks_event(event: str, updated: str, data: dict) -> dict:
    """A Formbricks response webhook body (responseCreated/Updated/Finished)."""
    return {
        "webhookId": "cm2xqg0pu0005xyz",
        "event": event,
        "data": {
            "id": "cm2r0zpyz000b",
            "createdAt": "2026-11-20T10:00:00.000Z",
            "updatedAt": updated,
            "surveyId": "cm2qz1ofs0001",
            "finished": event == "responseFinished",
            "data": data,
            "contact": {"id": "ct_42", "userId": "user-42"},
            "meta": {"source": "", "url": "https://shop.example/thanks"},
            "language": "ar",
            "tags": [],
        },
    }


def test_formbricks_follow_up_replaces_the_score_only_version(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    secret = mint_standard_webhooks_secret()
    source = make_source(
        provider="formbricks",
        secret=secret,
        config={"questions": {"q_nps": "nps", "q_why": "comment"}},
    )
    first = formbricks_event("responseCreated", "2026-11-20T10:00:00.000Z", {"q_nps": 10})
    later = formbricks_event(
        "responseFinished", "2026-11-20T10:01:30.000Z", {"q_nps": 10, "q_why": "التوصيل سريع"}
    )
    assert post(ingest, source, signed(secret, first)).status_code == 202
    assert post(ingest, source, signed(secret, later)).status_code == 202
    a, b = events()
    assert a.event_id == b.event_id and b.revision > a.revision
    assert (b.metric, b.score, b.text, b.language) == ("nps", 10, "التوصيل سريع", "ar")
    assert b.respondent_id == "ct_42"


def test_formbricks_needs_a_standard_webhooks_signature(
    ingest: TestClient, make_source: Callable[..., Source]
) -> None:
    source = make_source(
        provider="formbricks",
        secret=mint_standard_webhooks_secret(),
        config={"questions": {"q_nps": "nps"}},
    )
    body = formbricks_event("responseCreated", "2026-11-20T10:00:00.000Z", {"q_nps": 10})
    assert post(ingest, source, signed(mint_standard_webhooks_secret(), body)).status_code == 401


# Delighted's documented example (API docs, Webhooks: "Example request body").
DELIGHTED_UPDATED = {
    "event_type": "survey_response.updated",
    "event_id": "b8d057c59327541d7ec2104c0a9a255ad1997fb00831b9c6bbf09561e6d5cbd0",
    "event_data": {
        "id": "5435",
        "person": {
            "id": "5975",
            "email": "charlie_gravis@example.com",
            "name": "Charlie Gravis",
            "created_at": 1732186784,
        },
        "survey_type": "nps",
        "score": 9,
        "comment": "Your service is fast and flawless!",
        "permalink": "https://app.delighted.com/r/5pFDpmlyC8GUc5oxU6USto5VonSKAqOa",
        "created_at": 1732186844,
        "updated_at": 1732187444,
        "person_properties": None,
        "notes": [],
        "tags": [],
        "additional_answers": [],
    },
}


def test_delighted_created_then_updated_is_one_response(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    key = "delighted-private-api-key"
    source = make_source(provider="delighted", secret=key)
    created = copy.deepcopy(DELIGHTED_UPDATED)
    created["event_type"] = "survey_response.created"
    created["event_data"].update(comment=None, updated_at=1732186844)
    assert post(ingest, source, sign.delighted(key, created)).status_code == 202
    assert post(ingest, source, sign.delighted(key, DELIGHTED_UPDATED)).status_code == 202
    a, b = events()
    assert a.event_id == b.event_id and b.revision > a.revision
    assert (a.text, b.text) == (None, "Your service is fast and flawless!")
    assert (b.metric, b.score, b.respondent_id) == ("nps", 9, "5975")


def test_delighted_unsubscribe_is_ignored_and_bad_key_refused(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(provider="delighted", secret="k")
    unsubscribe = {"event_type": "unsubscribe.created", "event_id": "x", "event_data": {}}
    assert post(ingest, source, sign.delighted("k", unsubscribe)).status_code == 200
    assert post(ingest, source, sign.delighted("wrong", DELIGHTED_UPDATED)).status_code == 401
    assert events() == []
