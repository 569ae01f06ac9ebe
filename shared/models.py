"""Database tables, in SQLAlchemy 2 style; Alembic migrations are written against this metadata."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base carrying the naming convention, so migrations get stable constraint names."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Source(Base):
    """A place feedback comes from: one provider integration with its own webhook URL and secret."""

    __tablename__ = "source"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    # Webhook secrets must be usable to compute HMACs, so they are kept, not hashed; the
    # API never returns them after creation or rotation.
    secret: Mapped[str] = mapped_column(String(200), nullable=False)
    previous_secret: Mapped[str | None] = mapped_column(String(200))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    config: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    created_at: Mapped[datetime] = _now()
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Feedback(Base):
    """One stored feedback event; `event_id` is the idempotency key that makes redelivery harmless."""

    __tablename__ = "feedback"

    event_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    provider: Mapped[str] = mapped_column(String(32), nullable=False)
    provider_message_id: Mapped[str] = mapped_column(String(256), nullable=False)
    metric: Mapped[str | None] = mapped_column(String(8))
    score: Mapped[int | None] = mapped_column(SmallInteger)
    text_: Mapped[str | None] = mapped_column("text", Text)
    language: Mapped[str | None] = mapped_column(String(16))
    respondent_id: Mapped[str | None] = mapped_column(String(256))
    touchpoint: Mapped[str | None] = mapped_column(String(128))
    tags: Mapped[dict[str, str]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    stored_at: Mapped[datetime] = _now()
    # Why an event is stored but kept out of the scores (e.g. stamped far in the future).
    excluded_reason: Mapped[str | None] = mapped_column(String(200))
    request_id: Mapped[str | None] = mapped_column(String(64))
    # What the comment says (shared.text), NULL when there is no comment or analysis is off.
    sentiment_score: Mapped[float | None] = mapped_column(Float)
    sentiment_label: Mapped[str | None] = mapped_column(String(8))
    themes: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))
    revision: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    kafka_partition: Mapped[int] = mapped_column(Integer, nullable=False)
    kafka_offset: Mapped[int] = mapped_column(BigInteger, nullable=False)

    __table_args__ = (
        Index("ix_feedback_occurred_at_event_id", "occurred_at", "event_id"),
        Index("ix_feedback_source_id_occurred_at", "source_id", "occurred_at"),
        Index("ix_feedback_themes", "themes", postgresql_using="gin"),
    )


BUCKET_MINUTES = 15
"""Bucket width: every UTC offset in use is a multiple of 15 minutes, so local days and weeks
in any IANA zone (India's +05:30, Nepal's +05:45) are exact unions of buckets."""


class _Tallies:
    """The additive sufficient statistics every bucket row carries (see shared.metric_math.Tally)."""

    count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    score_sum: Mapped[float] = mapped_column(Float, nullable=False)
    score_sq_sum: Mapped[float] = mapped_column(Float, nullable=False)
    low: Mapped[int] = mapped_column(BigInteger, nullable=False)
    mid: Mapped[int] = mapped_column(BigInteger, nullable=False)
    high: Mapped[int] = mapped_column(BigInteger, nullable=False)


class _MetricSlice(_Tallies):
    """The key of a metric's tallies: a slice of event time and one combination of dimensions.

    Dimensions are NOT NULL ('' for absent) so the primary key can cover them; the key starts
    with (metric, bucket_start), which is also the index every window query uses.
    """

    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    touchpoint: Mapped[str] = mapped_column(String(128), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)


class MetricBucket(_MetricSlice, Base):
    """Tallies of one metric for one 15-minute slice of event time and one combination of dimensions.

    Sums make any window a cheap SUM over rows whose number depends on the window, not on
    how many responses are stored, and a late event just adds to the slice it belongs to.
    """

    __tablename__ = "metric_bucket"


class MetricRollupHour(_MetricSlice, Base):
    """The same tallies per UTC hour: long windows read these where no interval edge cuts an hour."""

    __tablename__ = "metric_rollup_hour"


class MetricRollupDay(_MetricSlice, Base):
    """The same tallies per UTC day, for the whole days inside a window or a UTC series."""

    __tablename__ = "metric_rollup_day"


class MetricTagBucket(_Tallies, Base):
    """The same tallies split by one tag (key and value), for tag filters and tag breakdowns.

    A response with three tags adds to three rows here, one per tag, and to one row of
    metric_bucket; summing this table over one tag key gives the tagged part of the whole.
    """

    __tablename__ = "metric_tag_bucket"

    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    tag_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    tag_value: Mapped[str] = mapped_column(String(128), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    touchpoint: Mapped[str] = mapped_column(String(128), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)


class ThemeBucket(_Tallies, Base):
    """Tallies per theme mentioned: 'sentiment' rows for theme counts and trends, and the
    response's own metric (nps, csat, ces) for key drivers; same slices as metric_bucket."""

    __tablename__ = "theme_bucket"

    metric: Mapped[str] = mapped_column(String(16), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    theme: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    touchpoint: Mapped[str] = mapped_column(String(128), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)


class ThemeDefinition(Base):
    """One CX theme of the taxonomy scoring matches comments against, editable over the API.

    `keywords` maps a language code to words and phrases ("hard to use", "deliver*").
    """

    __tablename__ = "theme"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    name_ar: Mapped[str | None] = mapped_column(String(200))
    keywords: Mapped[dict[str, list[str]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()


class ApiKey(Base):
    """An API key; only a SHA-256 of the key is kept, so a database leak does not leak keys."""

    __tablename__ = "api_key"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(16)), nullable=False)
    created_at: Mapped[datetime] = _now()
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookNonce(Base):
    """A single-use token a provider signed (Mailgun's `token`), kept so a replay is refused.

    Rows older than the signature tolerance can go: a delivery that old is refused by its
    timestamp anyway.
    """

    __tablename__ = "webhook_nonce"

    source_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(256), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )


class DeadLetterRecord(Base):
    """A record of the dead-letter topic, kept so an operator can see and fix what was refused.

    Stored once per topic, partition and offset, so replaying the topic changes nothing.
    Records that are not dead-letter documents (a feedback record scoring could not decode)
    are kept too, their raw value as `body` and the broker header's reason.
    """

    __tablename__ = "dead_letter"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kafka_topic: Mapped[str] = mapped_column(String(249), nullable=False)
    kafka_partition: Mapped[int] = mapped_column(Integer, nullable=False)
    kafka_offset: Mapped[int] = mapped_column(BigInteger, nullable=False)
    source_id: Mapped[str | None] = mapped_column(String(64))
    provider: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, nullable=False, server_default=text("'[]'::jsonb")
    )
    content_type: Mapped[str | None] = mapped_column(String(255))
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = _now()
    # The delivery headers a parser reads (never credentials), so a replay parses the same.
    headers: Mapped[dict[str, str]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    # The last replay: when it was tried, and its events or, if it failed, its problem document.
    replay_attempted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replay_event_ids: Mapped[list[uuid.UUID] | None] = mapped_column(ARRAY(UUID(as_uuid=True)))
    replay_error: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    __table_args__ = (
        UniqueConstraint("kafka_topic", "kafka_partition", "kafka_offset"),
        Index("ix_dead_letter_source_id", "source_id", "id"),
    )
