"""From parsed responses to feedback events, shared by the webhook route and the replay route,
so a replayed dead letter becomes exactly the events the original delivery would have."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from services.ingest.providers.base import ParsedFeedback
from services.ingest.sources import ActiveSource
from shared.events import FeedbackEvent, event_id_for

# Headers a provider's parse step reads (the Standard Webhooks message id is the generic
# provider's default response id; Chatwoot's timestamp is its revision). Only these are
# kept with a dead letter: signatures, cookies and credentials never are.
PARSE_HEADERS = (
    "content-type",
    "webhook-id",
    "webhook-timestamp",
    "x-chatwoot-timestamp",
    "x-chatwoot-delivery",
)


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The parse-relevant headers of a delivery (names lower-case), to keep with a dead letter."""
    lowered = {k.lower(): v for k, v in headers.items()}
    return {name: lowered[name][:1024] for name in PARSE_HEADERS if name in lowered}


def feedback_events(
    parsed: Sequence[ParsedFeedback],
    *,
    source: ActiveSource,
    received_at: datetime,
    request_id: str,
) -> list[FeedbackEvent]:
    """One event per parsed response, its id derived from the provider's own message id."""
    return [
        FeedbackEvent(
            event_id=event_id_for(source_id=source.id, provider_message_id=p.provider_message_id),
            source_id=source.id,
            channel=source.channel,  # type: ignore[arg-type]
            provider=source.provider,
            provider_message_id=p.provider_message_id,
            occurred_at=p.occurred_at,
            received_at=received_at,
            metric=p.metric,
            score=p.score,
            text=p.text,
            language=p.language,
            respondent_id=p.respondent_id,
            touchpoint=p.touchpoint,
            tags=dict(p.tags),
            request_id=request_id,
            revision=p.revision,
        )
        for p in parsed
    ]
