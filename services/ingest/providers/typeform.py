"""Typeform `form_response` webhooks.

Typeform-Signature is "sha256=" + base64(HMAC-SHA256(secret, raw body)); the secret is the
one pasted into the webhook's settings. Answers are matched to the source's question map by
field id or field ref. The response token is the idempotency key; a partial response later
completed keeps it and carries a later submitted time, so the completed one replaces it.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.ingest.providers.base import Delivery, ParsedFeedback
from services.ingest.providers.common import json_object, source_config, validated
from services.ingest.providers.hub import BodySignature, BodySignedProvider
from services.ingest.providers.surveys import mapped_feedback
from services.ingest.sources import ActiveSource
from shared.providers import SurveyFormConfig

SIGNATURE = BodySignature(
    header="typeform-signature", algorithm="sha256", encoding="base64", prefix="sha256="
)
# The value of each answer type, by the key Typeform puts it under.
_VALUE_KEYS = ("number", "text", "email", "boolean", "date", "url", "phone_number")


class _Field(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(max_length=200)
    ref: str | None = Field(default=None, max_length=200)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="allow")
    field: _Field
    type: str | None = None


class _FormResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")
    token: str = Field(min_length=1, max_length=200)
    submitted_at: AwareDatetime | None = None
    landed_at: AwareDatetime | None = None
    hidden: dict[str, Any] = Field(default_factory=dict)
    answers: list[_Answer] = Field(default_factory=list, max_length=500)


class TypeformProvider(BodySignedProvider):
    """Survey responses from Typeform."""

    name = "typeform"
    signature = SIGNATURE

    def parse(self, delivery: Delivery, source: ActiveSource) -> list[ParsedFeedback]:
        """The mapped answers of a form_response (or form_response_partial) event."""
        doc = json_object(delivery)
        if doc.get("event_type") not in ("form_response", "form_response_partial"):
            return []
        response = validated(_FormResponse, doc.get("form_response"), "Typeform form_response")
        answers: dict[str, object] = {}
        for answer in response.answers:
            value = _value(answer)
            answers[answer.field.id] = value
            if answer.field.ref:
                answers[answer.field.ref] = value
        submitted = response.submitted_at or response.landed_at or delivery.received_at
        respondent = response.hidden.get("respondent_id") or response.hidden.get("user_id")
        return mapped_feedback(
            response_id=response.token,
            answers=answers,
            config=source_config(source, SurveyFormConfig),
            occurred_at=submitted,
            updated_at=submitted,
            respondent_id=str(respondent)[:256] if respondent else None,
        )


def _value(answer: _Answer) -> object:
    extra = answer.model_extra or {}
    for key in _VALUE_KEYS:
        if key in extra:
            return extra[key]
    choice = extra.get("choice")
    return choice.get("label") if isinstance(choice, dict) else None
