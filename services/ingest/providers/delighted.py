"""Delighted survey_response events.

X-Delighted-Webhook-Signature is "sha256=" + hex(HMAC-SHA256(API key, raw body)): an HMAC
SHA-256 digest keyed by the project's private API key over the request body (Delighted's
webhook docs, https://app.delighted.com/docs/api/webhooks; the "sha256=" hex form is how
Delighted's clients read it, checked 2026-11). The score
arrives in `survey_response.created`, the comment usually in a later
`survey_response.updated`: both carry the response id (the idempotency key) and updated_at
(the revision), so the update replaces the score-only version instead of counting twice.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.ingest.providers.base import Delivery, ParsedFeedback, Unparseable
from services.ingest.providers.common import (
    epoch_ms,
    from_epoch,
    json_object,
    source_config,
    validated,
)
from services.ingest.providers.hub import BodySignature, BodySignedProvider
from services.ingest.sources import ActiveSource
from shared.events import metric_score_problem
from shared.metric_math import Metric
from shared.providers import NoMappingConfig

SIGNATURE = BodySignature(
    header="x-delighted-webhook-signature", algorithm="sha256", encoding="hex", prefix="sha256="
)
_METRICS: dict[str, Metric] = {"nps": "nps", "csat": "csat", "ces": "ces", "ces7": "ces"}


class _Person(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
    id: str | None = Field(default=None, max_length=256)


class _SurveyResponse(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)
    id: str = Field(min_length=1, max_length=200)
    person: _Person | None = None
    survey_type: str = Field(default="nps", max_length=32)
    score: int | None = None
    comment: str | None = Field(default=None, max_length=20_000)
    created_at: int | None = Field(default=None, ge=0, le=10**11)
    updated_at: int | None = Field(default=None, ge=0, le=10**11)


class DelightedProvider(BodySignedProvider):
    """NPS, CSAT and CES responses from Delighted."""

    name = "delighted"
    signature = SIGNATURE

    def parse(self, delivery: Delivery, source: ActiveSource) -> list[ParsedFeedback]:
        """The response in a survey_response event; unsubscribes are ignored."""
        doc = json_object(delivery)
        if doc.get("event_type") not in ("survey_response.created", "survey_response.updated"):
            return []
        response = validated(_SurveyResponse, doc.get("event_data"), "Delighted survey response")
        metric = _METRICS.get(response.survey_type)
        if metric is None:
            raise Unparseable(f"survey type {response.survey_type!r} is not NPS, CSAT or CES")
        if response.score is None and not (response.comment or "").strip():
            raise Unparseable("the response has neither a score nor a comment")
        if response.score is not None and (problem := metric_score_problem(metric, response.score)):
            raise Unparseable(f"score: {problem}")
        created = from_epoch(response.created_at) if response.created_at else delivery.received_at
        updated = from_epoch(response.updated_at) if response.updated_at else created
        return [
            ParsedFeedback(
                provider_message_id=response.id,
                occurred_at=created,
                metric=metric if response.score is not None else None,
                score=response.score,
                text=(response.comment or "").strip() or None,
                respondent_id=response.person.id if response.person else None,
                touchpoint=source_config(source, NoMappingConfig).touchpoint,
                revision=epoch_ms(updated),
            )
        ]
