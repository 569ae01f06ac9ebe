"""The generic web provider: a JSON survey response signed per the Standard Webhooks specification.

Survey widgets and in-house tools that can sign a request use this format; the signature
check is the `standardwebhooks` reference library's, tried with each valid secret so a
secret can be rotated without dropping deliveries.
"""

from __future__ import annotations

import binascii
import json
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.ingest.providers.base import (
    Delivery,
    ParsedFeedback,
    Unauthenticated,
    Unparseable,
)
from services.ingest.sources import ActiveSource
from shared.events import Tags, metric_score_problem
from shared.metric_math import Metric
from shared.problems import field_errors


class Respondent(BaseModel):
    """Who answered, as the sender knows them; only the id is stored."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=256, description="The customer's id in your systems")


class SurveyResponse(BaseModel):
    """The body of a generic survey-response webhook."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    response_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=256,
        description="Your id of this response; redeliveries with the same id count once. "
        "Defaults to the webhook-id header.",
    )
    respondent: Respondent | None = None
    metric: Metric | None = Field(default=None, description="nps, csat or ces")
    score: int | None = Field(default=None, description="On the metric's scale")
    comment: str | None = Field(default=None, max_length=20_000)
    occurred_at: AwareDatetime | None = Field(
        default=None,
        description="When the customer answered (RFC 3339 with offset); "
        "defaults to when the webhook arrived",
    )
    language: str | None = Field(
        default=None, max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"
    )
    touchpoint: str | None = Field(default=None, min_length=1, max_length=128)
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _meaningful(self) -> SurveyResponse:
        if problem := metric_score_problem(self.metric, self.score):
            raise ValueError(problem)
        if self.score is None and not self.comment:
            raise ValueError("a response needs a score, a comment, or both")
        return self


class GenericProvider:
    """Standard Webhooks signature check and the generic survey-response body."""

    name = "generic"

    def __init__(self, *, tolerance_seconds: int) -> None:
        # The reference library fixes its tolerance at five minutes; we check ours first.
        self._tolerance = tolerance_seconds

    def authenticate(self, delivery: Delivery, source: ActiveSource) -> None:
        """Accept the delivery if any currently valid secret signed it, within the time tolerance."""
        headers = {
            k: delivery.headers.get(k, "")
            for k in ("webhook-id", "webhook-timestamp", "webhook-signature")
        }
        try:
            sent = float(headers["webhook-timestamp"])
        except ValueError:
            raise Unauthenticated("webhook-timestamp is missing or not a Unix time") from None
        if abs(delivery.received_at.timestamp() - sent) > self._tolerance:
            raise Unauthenticated("webhook-timestamp is outside the accepted tolerance")
        for secret in source.secrets:
            try:
                Webhook(secret).verify(delivery.body, headers, json_parse=False)
                return
            except (WebhookVerificationError, ValueError, binascii.Error, UnicodeDecodeError):
                continue
        raise Unauthenticated("no valid signature for this source")

    def parse(self, delivery: Delivery, source: ActiveSource) -> list[ParsedFeedback]:
        """Validate the JSON body and read the one response it carries."""
        try:
            doc = json.loads(delivery.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise Unparseable(f"body is not valid JSON: {exc}") from None
        try:
            body = SurveyResponse.model_validate(doc)
        except ValidationError as exc:
            raise Unparseable(
                "body does not match the survey response schema",
                field_errors(exc.errors(include_input=False), prefix="body"),
            ) from None
        occurred_at: datetime = body.occurred_at or delivery.received_at
        return [
            ParsedFeedback(
                provider_message_id=body.response_id or delivery.headers["webhook-id"],
                occurred_at=occurred_at,
                metric=body.metric,
                score=body.score,
                text=body.comment or None,
                language=body.language.lower() if body.language else None,
                respondent_id=body.respondent.id if body.respondent else None,
                touchpoint=body.touchpoint,
                tags=body.tags,
            )
        ]
