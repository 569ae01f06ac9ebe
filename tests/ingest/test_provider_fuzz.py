"""Every provider endpoint under random bodies, headers and encodings: never a 5xx, and every
event acknowledged with 202 is on the topic. Also: HEAD on a webhook URL answers 200."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from shared.models import Source
from shared.providers import PROVIDERS, mint_standard_webhooks_secret
from tests.ingest import providers_support as sign
from tests.support.webhooks import signed

SECRET = "fuzz-secret"
WHSEC = mint_standard_webhooks_secret()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**20), 10**20) | st.floats() | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
# Shapes close to the real payloads, so parsing (not only the signature check) gets exercised.
known_keys = st.sampled_from(
    [
        "event_type",
        "event",
        "topic",
        "data",
        "item",
        "form_response",
        "event_data",
        "token",
        "answers",
        "id",
        "rating",
        "comment",
        "ticket_id",
        "content_type",
        "content_attributes",
        "score",
        "survey_type",
        "conversation_rating",
        "updated_at",
        "created_at",
        "questions",
    ]
)
shaped = st.recursive(
    json_values,
    lambda inner: st.dictionaries(known_keys, inner, max_size=6),
    max_leaves=20,
)
bodies = st.one_of(
    st.binary(max_size=600),
    json_values.map(lambda v: json.dumps(v).encode()),
    shaped.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8")),
    shaped.map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-16")),
    st.dictionaries(st.text(max_size=15), st.text(max_size=40), max_size=6).map(
        lambda d: urlencode(d).encode()
    ),
)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80)
content_types = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xYzZY",
        "multipart/form-data",
        "text/plain; charset=utf-16",
        "application/json; charset=latin-1",
        "",
    ]
)
noise_headers = st.dictionaries(
    st.sampled_from(
        [
            "x-twilio-signature",
            "x-hub-signature",
            "typeform-signature",
            "x-delighted-webhook-signature",
            "x-zendesk-webhook-signature",
            "x-zendesk-webhook-signature-timestamp",
            "x-chatwoot-signature",
            "x-chatwoot-timestamp",
            "webhook-id",
            "webhook-timestamp",
            "webhook-signature",
            "authorization",
        ]
    ),
    header_text,
    max_size=4,
)


def _sign(
    provider: str, source: Source, body: bytes, form: dict[str, str]
) -> tuple[bytes, dict[str, str]]:
    """A correctly signed delivery of `body` (or of `form` for the form providers)."""
    if provider in ("intercom", "typeform", "delighted"):
        return getattr(sign, provider)(SECRET, body)
    if provider in ("zendesk", "chatwoot"):
        return getattr(sign, provider)(SECRET, body)
    if provider in ("generic", "formbricks"):
        return signed(WHSEC, body.decode("utf-8", errors="replace").encode())
    if provider == "sendgrid":
        return body, {"authorization": f"Bearer {SECRET}"}
    if provider == "mailgun":
        fields = {**form, **sign.mailgun_fields(SECRET, token=json.dumps(form)[:40] + "x" * 10)}
        return urlencode(fields).encode(), {"content-type": "application/x-www-form-urlencoded"}
    url = f"http://testserver/v1/webhooks/{source.id}"
    signature = RequestValidator(SECRET).compute_signature(url, form)
    return urlencode(form).encode(), {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": signature,
    }


CONFIGS: dict[str, dict[str, Any]] = {
    "typeform": {"questions": {"nps_question": "nps", "why": "comment", "id": "csat"}},
    "formbricks": {"questions": {"q": "nps", "score": "ces", "comment": "comment"}},
    "twilio": {"metric": "nps"},
    "mailgun": {"metric": "csat"},
    "sendgrid": {"metric": "ces"},
}


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_random_deliveries_never_5xx_and_every_202_is_on_the_topic(
    ingest: TestClient, make_source: Callable[..., Source], events: Callable, provider: str
) -> None:
    channel = sorted(PROVIDERS[provider].channels)[0]
    secret = WHSEC if provider in ("generic", "formbricks") else SECRET
    source = make_source(
        channel=channel, provider=provider, secret=secret, config=CONFIGS.get(provider)
    )
    acknowledged: set[str] = set()

    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        body=bodies,
        form=st.dictionaries(
            st.sampled_from(
                [
                    "MessageSid",
                    "Body",
                    "From",
                    "body-plain",
                    "Message-Id",
                    "sender",
                    "message-headers",
                    "stripped-text",
                ]
            ),
            st.text(max_size=60),
            max_size=6,
        ),
        content_type=content_types,
        noise=noise_headers,
        sign_it=st.integers(0, 3).map(lambda n: n > 0),  # mostly signed: reach the parsers
    )
    def deliver(
        body: bytes, form: dict[str, str], content_type: str, noise: dict[str, str], sign_it: bool
    ) -> None:
        headers = {"content-type": content_type, **noise}
        if sign_it:
            body, good = _sign(provider, source, body, form)
            headers = {"content-type": content_type, **good}
        answer = ingest.post(f"/v1/webhooks/{source.id}", content=body, headers=headers)
        assert answer.status_code < 500, answer.text
        if answer.status_code == 202:
            acknowledged.update(answer.json()["event_ids"])

    deliver()
    stored = {str(e.event_id) for e in events()}
    assert acknowledged <= stored


def test_head_on_a_webhook_url_is_200(
    ingest: TestClient, make_source: Callable[..., Source]
) -> None:
    source = make_source(provider="typeform", secret=SECRET)
    assert ingest.head(f"/v1/webhooks/{source.id}").status_code == 200
    assert ingest.head("/v1/webhooks/src_missing").status_code == 404
