"""Feedback filters, Arabic and English comment search, and one feedback item."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.support.events import make_event

Auth = Callable[..., dict[str, str]]
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

COMMENTS = {
    "ar1": "الأسعار مرتفعة جداً",  # hamza alef, tanween
    "ar2": "خدمة ممتـــازة وسريعة",  # tatweel, teh marbuta
    "ar3": "مُسْتَشْفَى",  # diacritics, alef maqsura
    "en1": "Delivery was LATE again",
    "en2": "100% happy_customer",
}


@pytest.fixture
def corpus(stored: Callable) -> None:
    """Five comments and one score-only response, with varied dimensions."""
    events = [
        make_event(
            response_id=rid,
            occurred_at=T0 + timedelta(minutes=i),
            text=text,
            language="ar" if rid.startswith("ar") else "en",
            score=i * 2,
            touchpoint="checkout" if i % 2 else "delivery",
            tags={"plan": "pro" if i < 3 else "free", "region": "gcc"},
            channel="sms" if i == 4 else "web",
            source_id="src_b" if i == 4 else "src_a",
        )
        for i, (rid, text) in enumerate(COMMENTS.items())
    ]
    stored([*events, make_event(response_id="silent", occurred_at=T0 - timedelta(days=1))])


def _texts(api: TestClient, auth: Auth, **params: object) -> list[str | None]:
    answer = api.get("/v1/feedback", params=params, headers=auth("read"))
    assert answer.status_code == 200, answer.text
    return [i["text"] for i in answer.json()["items"]]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("اسعار", ["ar1"]),  # bare alef finds the hamza form
        ("الإسعار", ["ar1"]),  # a variant in the query folds too
        ("جدا", ["ar1"]),  # tanween on the stored word is ignored
        ("ممتازه", ["ar2"]),  # tatweel stored, teh marbuta folded to heh
        ("ممتازة خدمة", ["ar2"]),  # every word must occur, in any order
        ("مستشفي", ["ar3"]),  # diacritics and alef maqsura
        ("مُسْتَشْفَى", ["ar3"]),  # diacritics in the query are ignored as well
        ("late", ["en1"]),
        ("DELIVERY again", ["en1"]),
        ("100%", ["en2"]),
        ("%", ["en2"]),  # LIKE wildcards are searched for literally
        ("_", ["en2"]),
        ("absent", []),
    ],
)
def test_search_folds_arabic_variants_diacritics_tatweel_and_case(
    api: TestClient, auth: Auth, corpus: None, q: str, expected: list[str]
) -> None:
    assert _texts(api, auth, q=q) == [COMMENTS[e] for e in expected]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"language": "AR"}, ["ar3", "ar2", "ar1"]),
        ({"score_min": 4, "score_max": 6}, ["en1", "ar3"]),
        ({"tag": "plan:pro"}, ["ar3", "ar2", "ar1"]),
        ({"tag": ["plan:free", "region:gcc"]}, ["en2", "en1"]),
        ({"touchpoint": "checkout"}, ["en1", "ar2"]),
        ({"channel": "sms"}, ["en2"]),
        ({"source_id": "src_b"}, ["en2"]),
        ({"from": "2026-11-20T10:01:00Z", "to": "2026-11-20T13:03:00+03:00"}, ["ar3", "ar2"]),
        ({"has_comment": "true", "metric": "nps"}, ["en2", "en1", "ar3", "ar2", "ar1"]),
        ({"has_comment": "true", "q": "late", "language": "en"}, ["en1"]),
    ],
)
def test_filters_combine(
    api: TestClient, auth: Auth, corpus: None, params: dict, expected: list[str]
) -> None:
    assert _texts(api, auth, **params) == [COMMENTS[e] for e in expected]


def test_has_comment_false_lists_score_only_responses(
    api: TestClient, auth: Auth, corpus: None
) -> None:
    assert _texts(api, auth, has_comment="false") == [None]


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"score_min": 7, "score_max": 3}, "query.score_min"),
        ({"score_min": 11}, "query.score_min"),
        ({"tag": "nocolon"}, "query.tag"),
        ({"q": " "}, "query.q"),
        ({"q": "a\x00b"}, "query.q"),
        ({"from": "2026-11-20T10:00:00"}, "query.from"),  # no offset
    ],
)
def test_bad_filters_are_422_naming_the_parameter(
    api: TestClient, auth: Auth, params: dict, loc: str
) -> None:
    answer = api.get("/v1/feedback", params=params, headers=auth("read"))
    assert answer.status_code == 422, answer.text
    assert loc in [e["loc"] for e in answer.json()["errors"]]


def test_one_item_by_event_id(api: TestClient, auth: Auth, corpus: None) -> None:
    listed = api.get("/v1/feedback", params={"q": "late"}, headers=auth("read")).json()
    event_id = listed["items"][0]["event_id"]
    item = api.get(f"/v1/feedback/{event_id}", headers=auth("read"))
    assert item.status_code == 200 and item.json() == listed["items"][0]
    assert item.json()["occurred_at"] == "2026-11-20T10:03:00Z"
    missing = api.get("/v1/feedback/00000000-0000-0000-0000-000000000000", headers=auth("read"))
    assert missing.status_code == 404
    assert api.get("/v1/feedback/not-a-uuid", headers=auth("read")).status_code == 422


def test_search_uses_the_trigram_index(api: TestClient, engine: Engine) -> None:

    with engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                text(
                    "EXPLAIN SELECT event_id FROM feedback WHERE voc_search_text(text) "
                    "LIKE '%' || voc_search_text(:q) || '%'"
                ),
                {"q": "أسعار"},
            )
        )
    assert "ix_feedback_search_text" in plan, plan
