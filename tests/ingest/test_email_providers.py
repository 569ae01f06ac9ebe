"""Mailgun routes and SendGrid Inbound Parse: signatures, replay, reply stripping, Message-ID."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

import psycopg
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from sqlalchemy import make_url

from services.ingest.app import create_app
from services.ingest.config import IngestSettings
from shared.models import Source
from shared.settings import CommonSettings
from tests.ingest import providers_support as sign

KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


def mailgun_route(**extra: str) -> dict[str, str]:
    """The fields a Mailgun route's forward() posts (Mailgun's "Receiving messages via HTTP")."""
    return {
        "recipient": "survey@mg.example.com",
        "sender": "bob@example.com",
        "from": "Bob <bob@example.com>",
        "subject": "Re: How likely are you to recommend us?",
        "Message-Id": "<CAF7VNN5x=9bQ@mail.gmail.com>",
        "message-headers": json.dumps(
            [
                ["Message-Id", "<CAF7VNN5x=9bQ@mail.gmail.com>"],
                ["Subject", "Re: How likely are you to recommend us?"],
            ]
        ),
        "body-plain": "9 - great service\r\n\r\nOn Mon, Nov 23, 2026 at 10:00 AM Survey "
        "<survey@mg.example.com> wrote:\r\n> How likely are you to recommend us?\r\n",
        "stripped-text": "9 - great service",
        "attachment-count": "0",
        **extra,
    }


def send_mailgun(client: TestClient, source: Source, fields: dict[str, str]) -> object:
    return client.post(
        f"/v1/webhooks/{source.id}",
        content=urlencode(fields).encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


def test_mailgun_reply_is_scored_from_the_new_text(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(channel="email", provider="mailgun", secret=KEY, config={"metric": "nps"})
    answer = send_mailgun(ingest, source, {**mailgun_route(), **sign.mailgun_fields(KEY)})
    assert answer.status_code == 202, answer.text
    [event] = events()
    assert (event.channel, event.metric, event.score) == ("email", "nps", 9)
    assert event.text == "9 - great service"
    assert event.provider_message_id == "CAF7VNN5x=9bQ@mail.gmail.com"


def test_mailgun_reused_token_is_406_and_stale_timestamp_401(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(channel="email", provider="mailgun", secret=KEY, config={"metric": "nps"})
    fields = {**mailgun_route(), **sign.mailgun_fields(KEY, token="u" * 50)}
    assert send_mailgun(ingest, source, fields).status_code == 202
    replay = send_mailgun(ingest, source, fields)
    assert replay.status_code == 406
    stale = sign.mailgun_fields(KEY, timestamp=int(datetime.now(UTC).timestamp()) - 3600)
    assert send_mailgun(ingest, source, {**mailgun_route(), **stale}).status_code == 401
    assert len(events()) == 1


def test_mailgun_wrong_key_401_and_rotation(
    ingest: TestClient, make_source: Callable[..., Source]
) -> None:
    source = make_source(channel="email", provider="mailgun", secret=KEY, previous_secret="old")
    assert (
        send_mailgun(ingest, source, {**mailgun_route(), **sign.mailgun_fields("nope")}).status_code
        == 401
    )
    assert (
        send_mailgun(ingest, source, {**mailgun_route(), **sign.mailgun_fields("old")}).status_code
        == 202
    )


def test_mailgun_multipart_with_attachment_and_arabic_reply(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(channel="email", provider="mailgun", secret=KEY, config={"metric": "csat"})
    fields = {
        **mailgun_route(),
        "body-plain": "خمسة، شكرا\n-- \nأحمد",
        **sign.mailgun_fields(KEY, token="m" * 50),
    }
    body, content_type = sign.multipart(fields)
    body = body.replace(
        b"--xYzZY--",
        b"--xYzZY\r\nContent-Disposition: form-data; "
        b'name="attachment-1"; filename="a.png"\r\n\r\n\x89PNG\r\n--xYzZY--',
    )
    answer = ingest.post(
        f"/v1/webhooks/{source.id}", content=body, headers={"content-type": content_type}
    )
    assert answer.status_code == 202, answer.text
    [event] = events()
    assert (event.score, event.text, event.language) == (5, "خمسة، شكرا", "ar")


def test_mailgun_without_message_id_is_406_and_dead_lettered(
    ingest: TestClient, make_source: Callable[..., Source], dead_letters: Callable
) -> None:
    source = make_source(channel="email", provider="mailgun", secret=KEY)
    fields = {
        k: v for k, v in mailgun_route().items() if k not in ("Message-Id", "message-headers")
    }
    answer = send_mailgun(ingest, source, {**fields, **sign.mailgun_fields(KEY)})
    assert answer.status_code == 406
    assert "Message-Id" in dead_letters()[0]["reason"]


def test_mailgun_token_check_with_the_database_gone_is_503_and_counted(
    common: CommonSettings, postgres_admin_url: str, make_source: Callable[..., Source]
) -> None:
    """The replay guard's look-up failing is answered like any database outage: 503, retry."""
    source = make_source(channel="email", provider="mailgun", secret=KEY, config={"metric": "nps"})
    settings = IngestSettings(source_cache_seconds=300)  # the source outlives the database
    with TestClient(create_app(common, settings)) as client:
        first = send_mailgun(client, source, {**mailgun_route(), **sign.mailgun_fields(KEY)})
        assert first.status_code == 202, first.text
        name = make_url(common.database_url).database
        with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        fields = {**mailgun_route(), **sign.mailgun_fields(KEY, token="d" * 50)}
        answer = send_mailgun(client, source, fields)
    assert answer.status_code == 503, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == str(settings.retry_after_seconds)
    outcome = {"source": source.id, "outcome": "database_unavailable"}
    assert REGISTRY.get_sample_value("voc_webhook_deliveries_total", outcome) == 1


def sendgrid_parse(text: bytes = b"10/10\n\n> How was it?", charset: str = "UTF-8") -> dict:
    """Inbound Parse fields (SendGrid's "Setting up the Inbound Parse Webhook" example)."""
    return {
        "headers": "Received: by mx0047p1mdw1.sendgrid.net\nMessage-ID: <abc.123@mail.example>\n"
        "From: Example User <test@example.com>\nSubject: Re: survey\n",
        "dkim": "{@example.com : pass}",
        "to": "survey@parse.example.com",
        "from": "Example User <test@example.com>",
        "text": text,
        "sender_ip": "192.0.2.1",
        "envelope": json.dumps({"to": ["survey@parse.example.com"], "from": "test@example.com"}),
        "attachments": "0",
        "subject": "Re: survey",
        "charsets": json.dumps(
            {"to": "UTF-8", "subject": "UTF-8", "from": "UTF-8", "text": charset}
        ),
        "SPF": "pass",
    }


def test_sendgrid_basic_auth_and_bearer(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(
        channel="email",
        provider="sendgrid",
        secret="tok",
        config={"metric": "nps", "username": "sendgrid"},
    )
    body, content_type = sign.multipart(sendgrid_parse())
    basic = base64.b64encode(b"sendgrid:tok").decode()
    for auth, status in [
        (f"Basic {basic}", 202),
        ("Bearer tok", 202),
        ("Bearer nope", 401),
        (f"Basic {base64.b64encode(b'other:tok').decode()}", 401),
        ("", 401),
    ]:
        answer = ingest.post(
            f"/v1/webhooks/{source.id}",
            content=body,
            headers={"content-type": content_type, "authorization": auth},
        )
        assert answer.status_code == status, (auth, answer.text)
    first, again = events()
    assert first.event_id == again.event_id
    assert (first.score, first.text, first.provider_message_id) == (
        10,
        "10/10",
        "abc.123@mail.example",
    )


def test_sendgrid_text_in_a_declared_charset(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(
        channel="email", provider="sendgrid", secret="tok", config={"metric": "nps"}
    )
    fields = sendgrid_parse(text="تسعة".encode("windows-1256"), charset="windows-1256")
    body, content_type = sign.multipart(fields)
    answer = ingest.post(
        f"/v1/webhooks/{source.id}",
        content=body,
        headers={"content-type": content_type, "authorization": "Bearer tok"},
    )
    assert answer.status_code == 202, answer.text
    assert events()[0].score == 9


def test_sendgrid_raw_mime(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable
) -> None:
    source = make_source(
        channel="email", provider="sendgrid", secret="tok", config={"metric": "ces"}
    )
    mime = (
        b"Message-ID: <raw-1@example>\r\nFrom: a@example.com\r\nContent-Type: text/plain; "
        b"charset=utf-8\r\n\r\n6 easy enough\r\n"
    )
    body, content_type = sign.multipart({"email": mime, "to": "x", "from": "a@example.com"})
    answer = ingest.post(
        f"/v1/webhooks/{source.id}",
        content=body,
        headers={"content-type": content_type, "authorization": "Bearer tok"},
    )
    assert answer.status_code == 202, answer.text
    [event] = events()
    assert (event.metric, event.score, event.provider_message_id) == ("ces", 6, "raw-1@example")
