"""Feedback events built the way ingest builds them, for tests that start after the broker."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shared.events import FeedbackEvent, event_id_for


def make_event(
    *,
    response_id: str,
    source_id: str = "src_test",
    metric: str | None = "nps",
    score: int | None = 9,
    occurred_at: datetime | None = None,
    received_at: datetime | None = None,
    **extra: Any,
) -> FeedbackEvent:
    """A valid event; keyword arguments override any field."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "event_id": event_id_for(source_id=source_id, provider_message_id=response_id),
        "source_id": source_id,
        "channel": "web",
        "provider": "generic",
        "provider_message_id": response_id,
        "occurred_at": occurred_at or now,
        "received_at": received_at or now,
        "metric": metric,
        "score": score,
    }
    return FeedbackEvent.model_validate({**fields, **extra})
