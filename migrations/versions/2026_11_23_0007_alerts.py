"""alert rules, alerts, notification destinations, the notification outbox and its attempts

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    default = None if nullable else sa.text("now()")
    return sa.Column(name, sa.DateTime(timezone=True), server_default=default, nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "alert_rule",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("metric", sa.String(16), nullable=True),
        sa.Column("condition", sa.String(16), nullable=False),
        sa.Column("params", postgresql.JSONB(), nullable=False),
        sa.Column(
            "filters", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("group_by", sa.String(16), nullable=True),
        sa.Column(
            "destination_ids",
            postgresql.ARRAY(sa.String(32)),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("hold_off_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        _at("created_at"),
        _at("updated_at"),
        _at("last_evaluated_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rule")),
    )
    op.create_table(
        "alert",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("rule_id", sa.String(32), nullable=False),
        sa.Column("group_key", sa.String(256), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("evidence", postgresql.JSONB(), nullable=False),
        sa.Column("latest_evidence", postgresql.JSONB(), nullable=False),
        sa.Column("event_id", postgresql.UUID(as_uuid=True), nullable=True),
        _at("fired_at"),
        _at("last_held_at"),
        _at("acknowledged_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(32), nullable=True),
        _at("resolved_at", nullable=True),
        _at("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rule.id"],
            name=op.f("fk_alert_rule_id_alert_rule"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("rule_id", "event_id", name="uq_alert_rule_id_event_id"),
    )
    op.create_index(
        "uq_alert_open_rule_group",
        "alert",
        ["rule_id", "group_key"],
        unique=True,
        postgresql_where=sa.text("state IN ('firing', 'acknowledged')"),
    )
    op.create_index("ix_alert_rule_id_id", "alert", ["rule_id", "id"])
    op.create_index("ix_alert_state_id", "alert", ["state", "id"])
    op.create_table(
        "notification_destination",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("secret", sa.String(200), nullable=True),
        _at("created_at"),
        _at("disabled_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_destination")),
    )
    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=False),
        sa.Column("destination_id", sa.String(32), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(16), server_default=sa.text("'pending'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _at("next_attempt_at"),
        _at("created_at"),
        _at("delivered_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_notification_alert_id_alert"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["destination_id"],
            ["notification_destination.id"],
            name=op.f("fk_notification_destination_id_notification_destination"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_notification_idempotency_key")),
    )
    op.create_index(
        "ix_notification_due",
        "notification",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_notification_alert_id", "notification", ["alert_id"])
    op.create_table(
        "notification_attempt",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("notification_id", sa.BigInteger(), nullable=False),
        _at("attempted_at"),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_attempt")),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_notification_attempt_notification_id_notification"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_notification_attempt_notification_id",
        "notification_attempt",
        ["notification_id", "id"],
    )
    op.create_index("ix_feedback_stored_at", "feedback", ["stored_at"])


def downgrade() -> None:
    op.drop_index("ix_feedback_stored_at", table_name="feedback")
    op.drop_table("notification_attempt")
    op.drop_table("notification")
    op.drop_table("notification_destination")
    op.drop_table("alert")
    op.drop_table("alert_rule")
