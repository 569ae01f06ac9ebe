"""Zendesk satisfaction ratings, posted by a trigger's webhook with the JSON body in the README.

X-Zendesk-Webhook-Signature is base64(HMAC-SHA256(signing secret, timestamp + raw body)),
the timestamp being X-Zendesk-Webhook-Signature-Timestamp (ISO 8601), which must be recent.
"good"/"bad" ratings become CSAT 5/1 (so CSAT is the share of good), numeric ones are taken
as 1-5; "offered"/"unoffered" are not answers and are ignored. A changed rating on the same
ticket replaces the earlier one.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from services.ingest.providers.base import Delivery, ParsedFeedback, Unparseable
from services.ingest.providers.common import epoch_ms, json_object, source_config, validated
from services.ingest.providers.hub import BodySignature, BodySignedProvider
from services.ingest.sources import ActiveSource
from shared.providers import NoMappingConfig

SIGNATURE = BodySignature(
    header="x-zendesk-webhook-signature",
    algorithm="sha256",
    encoding="base64",
    timestamp_header="x-zendesk-webhook-signature-timestamp",
    timestamp_iso=True,
)
_WORDS = {"good": 5, "bad": 1}
_NOT_ANSWERS = {"", "offered", "unoffered"}


class _Rating(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True, coerce_numbers_to_str=True)
    ticket_id: str = Field(min_length=1, max_length=200)
    rating: str = Field(max_length=64)
    comment: str | None = Field(default=None, max_length=20_000)
    requester_id: str | None = Field(default=None, max_length=256)
    updated_at: AwareDatetime | None = None

    @field_validator("updated_at", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        return value or None


class ZendeskProvider(BodySignedProvider):
    """Ticket satisfaction ratings from a Zendesk trigger."""

    name = "zendesk"
    signature = SIGNATURE

    def parse(self, delivery: Delivery, source: ActiveSource) -> list[ParsedFeedback]:
        """One CSAT response per ticket; a rating that is only an offer is ignored."""
        body = validated(_Rating, json_object(delivery), "Zendesk satisfaction rating")
        word = body.rating.casefold().split(",")[0].strip()  # "Good, I'm satisfied"
        if word in _NOT_ANSWERS:
            return []
        score = _WORDS.get(word) or (int(word) if word.isdigit() and 1 <= int(word) <= 5 else None)
        if score is None:
            raise Unparseable(f"rating {body.rating!r} is not good, bad or 1-5")
        occurred: datetime = body.updated_at or delivery.received_at
        return [
            ParsedFeedback(
                provider_message_id=f"ticket:{body.ticket_id}",
                occurred_at=occurred,
                metric="csat",
                score=score,
                text=body.comment or None,
                respondent_id=body.requester_id or None,
                touchpoint=source_config(source, NoMappingConfig).touchpoint,
                revision=epoch_ms(occurred),
            )
        ]
