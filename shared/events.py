"""The one feedback event every provider is normalised to, as carried on `voc.feedback.v1`.

The event is the contract between ingest and scoring (and any other consumer of the
topic), so it is versioned and validated on both sides of the broker.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from shared.metric_math import SCALES, Metric, score_problem

SCHEMA_VERSION: Literal[1] = 1
Channel = Literal["web", "email", "sms", "chat"]
CHANNELS: tuple[Channel, ...] = ("web", "email", "sms", "chat")

# A fixed namespace so that event ids are the same on every machine and in every release.
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]
TagValue = Annotated[str, StringConstraints(max_length=128, pattern=r"^[^\x00]*$")]
Tags = Annotated[dict[TagKey, TagValue], Field(max_length=50)]
"""Free key/value dimensions (plan=pro, region=eu); each key can filter and break down metrics."""

_EVENT_NAMESPACE = uuid.UUID("6f1c1f5e-8a43-4e55-9f0e-6a3b1f2d9c10")


def event_id_for(*, source_id: str, provider_message_id: str) -> uuid.UUID:
    """Derive the event id from the provider's own id, so a redelivered webhook keeps its id."""
    return uuid.uuid5(_EVENT_NAMESPACE, f"{source_id}\x1f{provider_message_id}")


_VALID_PAIRS = frozenset((m, s) for m, (lo, hi) in SCALES.items() for s in range(lo, hi + 1))


def metric_score_problem(metric: Metric | None, score: int | None) -> str | None:
    """Why a metric/score pair cannot be a response, or None: a score only means something on its scale."""
    if (metric, score) in _VALID_PAIRS or (metric is None and score is None):
        return None  # the hot path: every event is checked on both sides of the broker
    if (metric is None) != (score is None):
        return "metric and score must be given together"
    if metric is not None and score is not None:
        return score_problem(metric, score)
    return None


class FeedbackEvent(BaseModel):
    """One piece of customer feedback, whatever channel and provider it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID
    schema_version: Literal[1] = SCHEMA_VERSION
    source_id: str = Field(min_length=1, max_length=64)
    channel: Channel
    provider: str = Field(min_length=1, max_length=32)
    provider_message_id: str = Field(min_length=1, max_length=256)
    occurred_at: AwareDatetime
    received_at: AwareDatetime
    metric: Metric | None = None
    score: int | None = None
    text: str | None = Field(default=None, max_length=20_000)
    language: str | None = Field(default=None, max_length=16)
    respondent_id: str | None = Field(default=None, max_length=256)
    touchpoint: str | None = Field(default=None, max_length=128)
    tags: Tags = Field(default_factory=dict)
    request_id: str | None = Field(default=None, max_length=64)
    revision: int = Field(
        default=0,
        ge=0,
        description="Orders versions of one response (a survey tool's follow-up adding a comment "
        "to a score): a higher revision replaces a stored lower one, a lower or equal one is a "
        "redelivery and changes nothing",
    )

    @model_validator(mode="after")
    def _score_matches_metric(self) -> FeedbackEvent:
        if problem := metric_score_problem(self.metric, self.score):
            raise ValueError(problem)
        return self

    def to_bytes(self) -> bytes:
        """Serialise for the broker."""
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> FeedbackEvent:
        """Parse and validate a record value taken from the broker."""
        return cls.model_validate_json(raw)


class DeadLetter(BaseModel):
    """An authentic delivery that could not be turned into an event, kept whole so it can be replayed."""

    model_config = ConfigDict(frozen=True)

    source_id: str
    provider: str
    received_at: datetime
    reason: str
    errors: list[dict[str, Any]] = Field(default_factory=list)
    content_type: str | None = None
    body_base64: str = Field(description="The raw request body, base64 so no byte is lost")
    request_id: str | None = None
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="The request headers parsers read (never credentials), so a replay parses "
        "exactly what arrived",
    )

    def to_bytes(self) -> bytes:
        """Serialise for the broker."""
        return self.model_dump_json().encode()
