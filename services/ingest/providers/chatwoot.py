"""Chatwoot CSAT survey responses.

Chatwoot signs webhooks with X-Chatwoot-Signature = "sha256=" + hex(HMAC-SHA256(webhook
secret, timestamp + "." + raw body)), the timestamp being X-Chatwoot-Timestamp (Unix seconds),
which must be recent (Chatwoot's webhook `secret` field in its API reference: "the signature
is `sha256=` followed by the HMAC-SHA256 of `{timestamp}.{raw_request_body}`", checked
2026-11). A CSAT answer arrives as `message_updated` for the survey message
(content_type `input_csat`) with content_attributes.submitted_values.csat_survey_response
{rating 1-5, feedback_message}; the feedback usually follows the rating, so both are one
response keyed by the survey message, the later delivery replacing the earlier.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.ingest.providers.base import Delivery, ParsedFeedback, Unparseable
from services.ingest.providers.common import json_object, source_config, validated
from services.ingest.providers.hub import BodySignature, BodySignedProvider
from services.ingest.sources import ActiveSource
from shared.providers import NoMappingConfig

SIGNATURE = BodySignature(
    header="x-chatwoot-signature",
    algorithm="sha256",
    encoding="hex",
    prefix="sha256=",
    timestamp_header="x-chatwoot-timestamp",
    separator=b".",
)


class _Csat(BaseModel):
    model_config = ConfigDict(extra="ignore")
    rating: int = Field(ge=1, le=5)
    feedback_message: str | None = Field(default=None, max_length=20_000)


class ChatwootProvider(BodySignedProvider):
    """CSAT survey answers from Chatwoot."""

    name = "chatwoot"
    signature = SIGNATURE

    def parse(self, delivery: Delivery, source: ActiveSource) -> list[ParsedFeedback]:
        """The CSAT answer of a survey message; other events are ignored."""
        doc = json_object(delivery)
        if doc.get("content_type") != "input_csat" or doc.get("event") not in (
            "message_updated",
            "message_created",
        ):
            return []
        attributes: Any = doc.get("content_attributes")
        submitted = attributes.get("submitted_values") if isinstance(attributes, dict) else None
        answer = submitted.get("csat_survey_response") if isinstance(submitted, dict) else None
        if answer is None:  # the survey was sent, not yet answered
            return []
        csat = validated(_Csat, answer, "Chatwoot CSAT response")
        raw_conversation = doc.get("conversation")
        conversation: dict[str, Any] = (
            raw_conversation if isinstance(raw_conversation, dict) else {}
        )
        message_id = doc.get("id")
        if not isinstance(message_id, (int, str)) or not str(message_id):
            raise Unparseable("the survey message has no id")
        contact = conversation.get("contact_inbox")
        contact_id = contact.get("contact_id") if isinstance(contact, dict) else None
        try:
            revision = int(float(delivery.headers.get("x-chatwoot-timestamp", "0")) * 1000)
        except ValueError:
            revision = 0
        return [
            ParsedFeedback(
                provider_message_id=f"message:{str(message_id)[:200]}",
                occurred_at=delivery.received_at,
                metric="csat",
                score=csat.rating,
                text=(csat.feedback_message or "").strip() or None,
                respondent_id=str(contact_id)[:256] if contact_id else None,
                touchpoint=source_config(source, NoMappingConfig).touchpoint,
                revision=max(0, revision),
            )
        ]
