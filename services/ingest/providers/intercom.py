"""Intercom webhooks: X-Hub-Signature is "sha1=" + hex(HMAC-SHA1(client secret, raw body)).

`conversation.rating.added` carries the customer's 1-5 rating and remark: a CSAT response
keyed by the conversation, since a conversation has one rating. Other topics (the `ping`
sent when the webhook is saved) are acknowledged and ignored.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from services.ingest.providers.base import Delivery, ParsedFeedback
from services.ingest.providers.common import (
    epoch_ms,
    from_epoch,
    json_object,
    source_config,
    validated,
)
from services.ingest.providers.hub import BodySignature, BodySignedProvider
from services.ingest.sources import ActiveSource
from shared.providers import NoMappingConfig

SIGNATURE = BodySignature(
    header="x-hub-signature", algorithm="sha1", encoding="hex", prefix="sha1="
)


class _Ref(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str | None = Field(default=None, max_length=256)


class _Rating(BaseModel):
    model_config = ConfigDict(extra="ignore")
    rating: int = Field(ge=1, le=5)
    remark: str | None = Field(default=None, max_length=20_000)
    created_at: int | None = None
    updated_at: int | None = None
    contact: _Ref | None = None
    customer: _Ref | None = None  # the name before API 2.x


class _Conversation(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=200)
    conversation_rating: _Rating


class IntercomProvider(BodySignedProvider):
    """Conversation ratings from Intercom, as CSAT."""

    name = "intercom"
    signature = SIGNATURE

    def parse(self, delivery: Delivery, source: ActiveSource) -> list[ParsedFeedback]:
        """The rating of a conversation.rating.added notification; nothing for other topics."""
        doc = json_object(delivery)
        if doc.get("topic") != "conversation.rating.added":
            return []
        item: Any = (
            (doc.get("data") or {}).get("item") if isinstance(doc.get("data"), dict) else None
        )
        conversation = validated(_Conversation, item, "conversation with a rating")
        rating = conversation.conversation_rating
        stamp = rating.updated_at or rating.created_at or doc.get("created_at")
        occurred = from_epoch(stamp) if isinstance(stamp, int) else delivery.received_at
        who = rating.contact or rating.customer
        return [
            ParsedFeedback(
                provider_message_id=f"conversation:{conversation.id}",
                occurred_at=occurred,
                metric="csat",
                score=rating.rating,
                text=(rating.remark or "").strip() or None,
                respondent_id=who.id if who else None,
                touchpoint=source_config(source, NoMappingConfig).touchpoint,
                revision=epoch_ms(occurred),
            )
        ]
