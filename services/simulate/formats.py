"""Each provider's webhook as the provider would post it, signed with the source's secret.

The payloads follow the providers' documented formats (the same ones ingest's tests take
from the providers' documentation); signing is shared.provider_signing, the sender's side.
"""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from services.simulate.feedback import SimulatedResponse, score_text
from shared import provider_signing as sign
from shared.events import event_id_for
from shared.metric_math import METRICS, Metric


@dataclass(frozen=True)
class SimSource:
    """A configured source with what a sender needs: its provider, secret and config."""

    id: str
    provider: str
    channel: str
    secret: str
    config: dict[str, Any] = field(default_factory=dict)

    def metric(self, rng: random.Random) -> Metric | None:
        """The metric this source's next response is on (None: the source takes comments only)."""
        if self.provider == "generic":
            return rng.choice(METRICS)
        if self.provider in ("typeform", "formbricks"):
            roles = [r for r in self.config.get("questions", {}).values() if r in METRICS]
            return rng.choice(roles) if roles else None
        if self.provider in ("twilio", "mailgun", "sendgrid"):
            configured: Metric | None = self.config.get("metric")
            return configured
        if self.provider == "delighted":
            return rng.choice(("nps", "nps", "csat"))
        return "csat"  # chat ratings


@dataclass(frozen=True)
class Prepared:
    """A signed request, and the event ids it yields when the answer does not list them."""

    body: bytes
    headers: dict[str, str]
    event_ids: tuple[uuid.UUID, ...] = ()


Builder = Callable[[SimSource, SimulatedResponse, str], Prepared]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _generic(source: SimSource, r: SimulatedResponse, _: str) -> Prepared:
    payload: dict[str, Any] = {
        "response_id": r.key,
        "occurred_at": _iso(r.occurred_at),
        "language": r.language,
        "respondent": {"id": r.respondent},
    }
    if r.metric is not None:
        payload |= {"metric": r.metric, "score": r.score}
    if r.comment:
        payload["comment"] = r.comment
    return Prepared(*sign.standard_webhooks(source.secret, payload, msg_id=f"msg_{r.key}"))


def _questions(source: SimSource, r: SimulatedResponse) -> dict[str, object]:
    """Answers keyed by the source's own question ids, as survey tools send them."""
    answers: dict[str, object] = {}
    for question, role in source.config.get("questions", {}).items():
        if role == r.metric and r.score is not None and question not in answers:
            answers[question] = r.score
        elif role == "comment" and r.comment:
            answers[question] = r.comment
    return answers


def _typeform(source: SimSource, r: SimulatedResponse, _: str) -> Prepared:
    answers = [
        {"type": "number", "number": v, "field": {"id": q, "type": "opinion_scale"}}
        if isinstance(v, int)
        else {"type": "text", "text": v, "field": {"id": q, "type": "long_text"}}
        for q, v in _questions(source, r).items()
    ]
    payload = {
        "event_id": r.key,
        "event_type": "form_response",
        "form_response": {
            "form_id": "sim",
            "token": r.key,
            "landed_at": _iso(r.occurred_at),
            "submitted_at": _iso(r.occurred_at),
            "hidden": {"user_id": r.respondent},
            "answers": answers,
        },
    }
    return Prepared(*sign.typeform(source.secret, payload))


def _formbricks(source: SimSource, r: SimulatedResponse, _: str) -> Prepared:
    payload = {
        "webhookId": "sim",
        "event": "responseFinished",
        "data": {
            "id": r.key,
            "createdAt": _iso(r.occurred_at),
            "updatedAt": _iso(r.occurred_at),
            "finished": True,
            "data": _questions(source, r),
            "contact": {"id": r.respondent},
            "language": r.language,
        },
    }
    return Prepared(*sign.standard_webhooks(source.secret, payload, msg_id=f"msg_{r.key}"))


def _delighted(source: SimSource, r: SimulatedResponse, _: str) -> Prepared:
    payload = {
        "event_type": "survey_response.updated",
        "event_id": r.key,
        "event_data": {
            "id": r.key,
            "person": {"id": r.respondent},
            "survey_type": r.metric or "nps",
            "score": r.score,
            "comment": r.comment,
            "created_at": _epoch(r.occurred_at),
            "updated_at": _epoch(r.occurred_at),
        },
    }
    return Prepared(*sign.delighted(source.secret, payload))


def _intercom(source: SimSource, r: SimulatedResponse, _: str) -> Prepared:
    payload = {
        "type": "notification_event",
        "topic": "conversation.rating.added",
        "id": f"notif_{r.key}",
        "created_at": _epoch(r.occurred_at),
        "data": {
            "type": "notification_event_data",
            "item": {
                "type": "conversation",
                "id": r.key,
                "conversation_rating": {
                    "rating": r.score,
                    "remark": r.comment,
                    "created_at": _epoch(r.occurred_at),
                    "contact": {"type": "contact", "id": r.respondent},
                },
            },
        },
    }
    return Prepared(*sign.intercom(source.secret, payload))


def _zendesk(source: SimSource, r: SimulatedResponse, _: str) -> Prepared:
    rating = {5: "Good, I'm satisfied", 1: "Bad, I'm unsatisfied"}.get(r.score or 0, str(r.score))
    payload = {
        "ticket_id": r.key,
        "rating": rating,
        "comment": r.comment or "",
        "requester_id": r.respondent,
        "updated_at": _iso(r.occurred_at),
    }
    return Prepared(*sign.zendesk(source.secret, payload))


def _chatwoot(source: SimSource, r: SimulatedResponse, _: str) -> Prepared:
    payload = {
        "event": "message_updated",
        "id": r.key,
        "content_type": "input_csat",
        "content_attributes": {
            "submitted_values": {
                "csat_survey_response": {"rating": r.score, "feedback_message": r.comment}
            }
        },
        "conversation": {"contact_inbox": {"contact_id": r.respondent}},
    }
    return Prepared(*sign.chatwoot(source.secret, payload))


def _reply_text(r: SimulatedResponse) -> str:
    parts = [score_text(r.score, r.language)] if r.score is not None else []
    return " ".join([*parts, r.comment or ""]).strip()


def _twilio(source: SimSource, r: SimulatedResponse, url: str) -> Prepared:
    sid = "SM" + r.key
    params = {
        "AccountSid": "AC" + "0" * 32,
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "From": f"+9665{int(r.key[:8], 16) % 10**8:08d}",
        "To": "+15005550006",
        "Body": _reply_text(r),
        "NumMedia": "0",
    }
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-twilio-signature": sign.twilio_signature(source.secret, url, params),
    }
    # Twilio is answered with TwiML, which lists no ids: they follow from the MessageSid.
    ids = (event_id_for(source_id=source.id, provider_message_id=sid),)
    return Prepared(urlencode(params).encode(), headers, ids)


def _email_body(r: SimulatedResponse) -> str:
    return (
        f"{_reply_text(r)}\n\nOn Mon, 23 Nov 2026, VoC <survey@example.com> wrote:\n"
        "> How likely are you to recommend us?\n"
    )


def _mailgun(source: SimSource, r: SimulatedResponse, _: str) -> Prepared:
    fields = sign.mailgun_fields(source.secret, token=uuid.uuid4().hex + uuid.uuid4().hex) | {
        "Message-Id": f"<{r.key}@sim.voc.example>",
        "sender": f"{r.respondent}@example.com",
        "from": f"Customer <{r.respondent}@example.com>",
        "subject": "Re: How did we do?",
        "body-plain": _email_body(r),
    }
    body, content_type = sign.multipart(fields, boundary=uuid.uuid4().hex)
    return Prepared(body, {"content-type": content_type})


def _sendgrid(source: SimSource, r: SimulatedResponse, _: str) -> Prepared:
    fields = {
        "headers": f"Message-ID: <{r.key}@sim.voc.example>\nSubject: Re: How did we do?\n",
        "from": f"Customer <{r.respondent}@example.com>",
        "subject": "Re: How did we do?",
        "text": _email_body(r),
        "charsets": '{"headers":"UTF-8","from":"UTF-8","subject":"UTF-8","text":"UTF-8"}',
    }
    body, content_type = sign.multipart(fields, boundary=uuid.uuid4().hex)
    user = source.config.get("username")
    auth = (
        "Basic " + base64.b64encode(f"{user}:{source.secret}".encode()).decode()
        if user
        else f"Bearer {source.secret}"
    )
    return Prepared(body, {"content-type": content_type, "authorization": auth})


BUILDERS: dict[str, Builder] = {
    "generic": _generic,
    "typeform": _typeform,
    "formbricks": _formbricks,
    "delighted": _delighted,
    "intercom": _intercom,
    "zendesk": _zendesk,
    "chatwoot": _chatwoot,
    "twilio": _twilio,
    "mailgun": _mailgun,
    "sendgrid": _sendgrid,
}


def prepare(source: SimSource, response: SimulatedResponse, url: str) -> Prepared:
    """The signed delivery of `response` to `source`'s webhook `url`, freshly signed."""
    return BUILDERS[source.provider](source, response, url)
