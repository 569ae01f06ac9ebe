"""Tables of the alerting feature: rules, alerts, destinations, the notification outbox, attempts.

The outbox (`notification`) is written in the same transaction as the alert state change it
announces, so a notification exists exactly when its decision was committed; the dispatcher
then delivers it at least once, and the idempotency key lets a receiver drop a repeat.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from shared.models import Base, Feedback

OPEN_STATES = ("firing", "acknowledged")


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class AlertRule(Base):
    """What to watch (metric, filters, group_by) and when to fire (one condition and its params)."""

    __tablename__ = "alert_rule"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    metric: Mapped[str | None] = mapped_column(String(16))
    condition: Mapped[str] = mapped_column(String(16), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    filters: Mapped[dict[str, str]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb")
    )
    group_by: Mapped[str | None] = mapped_column(String(16))
    destination_ids: Mapped[list[str]] = mapped_column(
        ARRAY(String(32)), nullable=False, server_default=text("'{}'")
    )
    hold_off_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    last_evaluated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Alert(Base):
    """One episode of a rule holding for one group (or one matching response, for each_response)."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    rule_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("alert_rule.id", ondelete="CASCADE"), nullable=False
    )
    group_key: Mapped[str] = mapped_column(String(256), nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    latest_evidence: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    event_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    fired_at: Mapped[datetime] = _now()
    last_held_at: Mapped[datetime] = _now()
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _now()

    __table_args__ = (
        # At most one open alert per rule and group, whichever worker decides first.
        Index(
            "uq_alert_open_rule_group",
            "rule_id",
            "group_key",
            unique=True,
            postgresql_where=text("state IN ('firing', 'acknowledged')"),
        ),
        UniqueConstraint("rule_id", "event_id", name="uq_alert_rule_id_event_id"),
        Index("ix_alert_rule_id_id", "rule_id", "id"),
        Index("ix_alert_state_id", "state", "id"),
    )


class NotificationDestination(Base):
    """Where notifications go: a Slack-compatible incoming webhook or a signed JSON webhook."""

    __tablename__ = "notification_destination"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    # Kept in clear because it signs; never returned after creation.
    secret: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """The outbox: one message per alert state change per destination (and one for Kafka)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("alert.id", ondelete="CASCADE"), nullable=False
    )
    destination_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("notification_destination.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    event: Mapped[str] = mapped_column(String(16), nullable=False)
    idempotency_key: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=text("'pending'")
    )
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = _now()
    created_at: Mapped[datetime] = _now()
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(
            "ix_notification_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_notification_alert_id", "alert_id"),
    )


class NotificationAttempt(Base):
    """One delivery attempt: when, the receiver's status code or the error, and how long it took."""

    __tablename__ = "notification_attempt"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("notification.id", ondelete="CASCADE"), nullable=False
    )
    attempted_at: Mapped[datetime] = _now()
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float, nullable=False)

    __table_args__ = (Index("ix_notification_attempt_notification_id", "notification_id", "id"),)


# each_response rules read what was stored recently; without this index that is a full scan.
FEEDBACK_STORED_AT_INDEX = Index("ix_feedback_stored_at", Feedback.stored_at)
