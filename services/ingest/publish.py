"""Putting a route's records on the broker the same way everywhere: traced by request id."""

from __future__ import annotations

from collections.abc import Iterable

from shared.events import FeedbackEvent
from shared.kafka import REQUEST_ID_HEADER, EventProducer
from shared.problems import ProblemError


def traced(request_id: str) -> dict[str, bytes]:
    """Record headers naming the request that produced the record, so scoring's and the
    dead-letter recorder's log lines can be tied back to the webhook or replay."""
    return {REQUEST_ID_HEADER: request_id.encode()}


async def publish(
    producer: EventProducer, topic: str, events: Iterable[FeedbackEvent], *, request_id: str
) -> None:
    """Put each event on the feedback topic, acknowledged, or raise BrokerUnavailable.

    Keyed by event id, so every copy of one response (a redelivery, a replay) lands on
    the same partition and scoring stores it once.
    """
    headers = traced(request_id)
    for event in events:
        await producer.send(
            topic, key=event.event_id.bytes, value=event.to_bytes(), headers=headers
        )


def broker_unavailable(retry_after_seconds: int) -> ProblemError:
    """The 503 for a record the broker did not take: the caller retries after Retry-After."""
    return ProblemError(
        503,
        "Broker unavailable",
        "the event was not stored; retry later",
        headers={"Retry-After": str(retry_after_seconds)},
    )
