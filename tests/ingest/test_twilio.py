"""Twilio inbound SMS, signed by the `twilio` package's own RequestValidator."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from services.ingest.app import create_app
from services.ingest.config import IngestSettings
from shared.models import Source
from shared.settings import CommonSettings

TOKEN = "12345abcdef67890fedcba0987654321"
PUBLIC = "https://voc.example.com"


def inbound(sid: str = "SM" + "a" * 32, body: str = "9 great service") -> dict[str, str]:
    """The parameters Twilio posts for an inbound SMS (from Twilio's messaging webhook docs)."""
    return {
        "ToCountry": "US",
        "ToState": "CA",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ToCity": "SAN FRANCISCO",
        "FromZip": "94105",
        "SmsSid": sid,
        "FromState": "CA",
        "SmsStatus": "received",
        "FromCity": "SAN FRANCISCO",
        "Body": body,
        "FromCountry": "US",
        "To": "+15017122661",
        "MessagingServiceSid": "MG" + "b" * 32,
        "ToZip": "94105",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": "AC" + "c" * 32,
        "From": "+15558675310",
        "ApiVersion": "2010-04-01",
    }


@pytest.fixture
def ingest(common: CommonSettings) -> Iterator[TestClient]:
    """Ingest behind a proxy: Twilio posts to https://voc.example.com, we see http://testserver."""
    settings = IngestSettings(source_cache_seconds=0, public_base_url=PUBLIC)
    with TestClient(create_app(common, settings)) as c:
        yield c


def send(
    client: TestClient,
    source: Source,
    params: dict[str, str],
    *,
    token: str = TOKEN,
    signed_url: str | None = None,
    query: str = "",
) -> object:
    path = f"/v1/webhooks/{source.id}" + (f"?{query}" if query else "")
    url = signed_url or PUBLIC + path
    signature = RequestValidator(token).compute_signature(url, params)
    return client.post(
        path,
        content=urlencode(params).encode(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": signature,
        },
    )


@pytest.fixture
def sms_source(make_source: Callable[..., Source]) -> Source:
    return make_source(
        channel="sms",
        provider="twilio",
        secret=TOKEN,
        config={"metric": "nps", "reply": "Thanks & goodbye <3", "touchpoint": "delivery"},
    )


def test_reply_is_scored_and_answered_with_twiml(
    ingest: TestClient, sms_source: Source, events: Callable
) -> None:
    answer = send(ingest, sms_source, inbound())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    assert answer.text.endswith(
        "<Response><Message>Thanks &amp; goodbye &lt;3</Message></Response>"
    )
    [event] = events()
    assert (event.channel, event.metric, event.score) == ("sms", "nps", 9)
    assert event.text == "9 great service"
    assert event.provider_message_id == "SM" + "a" * 32
    assert event.respondent_id == "+15558675310" and event.touchpoint == "delivery"


@pytest.mark.parametrize(
    ("body", "score"), [("٩", 9), ("تسعة", 9), ("nine", 9), ("10/10", 10), ("slow delivery", None)]
)
def test_scores_in_any_script(
    ingest: TestClient, sms_source: Source, events: Callable, body: str, score: int | None
) -> None:
    assert send(ingest, sms_source, inbound(body=body)).status_code == 200
    [event] = events()
    assert event.score == score and event.text == body
    assert event.metric == ("nps" if score is not None else None)


def test_redelivery_has_the_same_event_id(
    ingest: TestClient, sms_source: Source, events: Callable
) -> None:
    assert send(ingest, sms_source, inbound()).status_code == 200
    assert send(ingest, sms_source, inbound()).status_code == 200
    first, again = events()
    assert first.event_id == again.event_id


def test_signature_over_the_query_string_and_rotated_token(
    ingest: TestClient, make_source: Callable[..., Source]
) -> None:
    old = "0" * 32
    source = make_source(
        channel="sms",
        provider="twilio",
        secret=TOKEN,
        previous_secret=old,
        config={"metric": "csat"},
    )
    assert send(ingest, source, inbound(body="5"), query="survey=a&b=1").status_code == 200
    assert send(ingest, source, inbound(body="5"), token=old).status_code == 200


def test_explicit_default_port_in_the_signed_url_is_accepted(
    ingest: TestClient, sms_source: Source
) -> None:
    url = f"https://voc.example.com:443/v1/webhooks/{sms_source.id}"
    assert send(ingest, sms_source, inbound(), signed_url=url).status_code == 200


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param({"token": "f" * 32}, id="wrong-token"),
        pytest.param({"signed_url": "http://testserver/v1/webhooks/x"}, id="internal-url"),
    ],
)
def test_forged_or_misaddressed_is_401(
    ingest: TestClient, sms_source: Source, events: Callable, tamper: dict
) -> None:
    answer = send(ingest, sms_source, inbound(), **tamper)
    assert answer.status_code == 401
    assert events() == []


def test_changed_parameter_is_401(ingest: TestClient, sms_source: Source) -> None:
    params = inbound()
    signature = RequestValidator(TOKEN).compute_signature(
        f"{PUBLIC}/v1/webhooks/{sms_source.id}", params
    )
    answer = ingest.post(
        f"/v1/webhooks/{sms_source.id}",
        content=urlencode({**params, "Body": "0"}).encode(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-twilio-signature": signature,
        },
    )
    assert answer.status_code == 401


def test_without_public_base_the_received_url_is_signed(
    common: CommonSettings, sms_source: Source, events: Callable
) -> None:
    with TestClient(create_app(common, IngestSettings(source_cache_seconds=0))) as c:
        answer = send(
            c, sms_source, inbound(), signed_url=f"http://testserver/v1/webhooks/{sms_source.id}"
        )
    assert answer.status_code == 200


def test_empty_reply_config_sends_empty_twiml(
    ingest: TestClient, make_source: Callable[..., Source]
) -> None:
    source = make_source(channel="sms", provider="twilio", secret=TOKEN, config={"reply": ""})
    answer = send(ingest, source, inbound())
    assert answer.status_code == 200 and answer.text.endswith("<Response></Response>")


def test_authentic_message_without_sid_is_dead_lettered(
    ingest: TestClient, sms_source: Source, dead_letters: Callable
) -> None:
    params = {k: v for k, v in inbound().items() if "Sid" not in k}
    answer = send(ingest, sms_source, params)
    assert answer.status_code == 422
    [letter] = dead_letters()
    assert letter["source_id"] == sms_source.id and "MessageSid" in letter["reason"]
