"""Alerts: what fired, the numbers behind it, where it was sent (every attempt), and acknowledging it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.deps import ReadKey, SessionDep, WriteKey
from shared.alert_models import Alert, AlertRule, Notification, NotificationAttempt
from shared.alert_outbox import enqueue
from shared.problems import PROBLEM_RESPONSES, ProblemError, problem_responses

router = APIRouter(prefix="/v1/alerts", tags=["alerts"], responses=PROBLEM_RESPONSES)
AlertId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The alert's id")]
State = Literal["firing", "acknowledged", "resolved"]


class AlertOut(BaseModel):
    """One alert: its state, rule, group and the numbers that made it fire."""

    id: int
    rule_id: str
    rule_name: str
    condition: str
    metric: str | None
    group_by: str | None
    group_key: str | None
    state: State
    evidence: dict[str, Any]
    latest_evidence: dict[str, Any]
    fired_at: datetime
    last_held_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None


class AttemptOut(BaseModel):
    """One delivery attempt."""

    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class NotificationOut(BaseModel):
    """One message of the outbox: where to, which change, and how delivery went."""

    id: int
    destination_id: str | None
    kind: str
    event: str
    idempotency_key: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    attempt_log: list[AttemptOut]


class AlertDetail(AlertOut):
    """An alert with its notifications and their attempts."""

    notifications: list[NotificationOut]


def _out(alert: Alert, rule: AlertRule) -> dict[str, Any]:
    return {
        "id": alert.id,
        "rule_id": rule.id,
        "rule_name": rule.name,
        "condition": rule.condition,
        "metric": rule.metric,
        "group_by": rule.group_by,
        "group_key": None if rule.condition == "each_response" else alert.group_key,
        "state": alert.state,
        "evidence": alert.evidence,
        "latest_evidence": alert.latest_evidence,
        "fired_at": alert.fired_at,
        "last_held_at": alert.last_held_at,
        "acknowledged_at": alert.acknowledged_at,
        "acknowledged_by": alert.acknowledged_by,
        "resolved_at": alert.resolved_at,
    }


def _found(session: Session, alert_id: int) -> tuple[Alert, AlertRule]:
    row = session.execute(
        select(Alert, AlertRule)
        .join(AlertRule, AlertRule.id == Alert.rule_id)
        .where(Alert.id == alert_id)
    ).first()
    if row is None:
        raise ProblemError(404, "Alert not found", f"no alert with id {alert_id}")
    return row[0], row[1]


def _notifications(session: Session, alert_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Notification).where(Notification.alert_id == alert_id).order_by(Notification.id)
    ).all()
    attempts: dict[int, list[dict[str, Any]]] = {r.id: [] for r in rows}
    for a in session.scalars(
        select(NotificationAttempt)
        .where(NotificationAttempt.notification_id.in_(list(attempts)))
        .order_by(NotificationAttempt.id)
    ):
        attempts[a.notification_id].append(
            {
                "attempted_at": a.attempted_at,
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
        )
    return [
        {
            "id": r.id,
            "destination_id": r.destination_id,
            "kind": r.kind,
            "event": r.event,
            "idempotency_key": r.idempotency_key,
            "status": r.status,
            "attempts": r.attempts,
            "next_attempt_at": r.next_attempt_at,
            "delivered_at": r.delivered_at,
            "last_error": r.last_error,
            "attempt_log": attempts[r.id],
        }
        for r in rows
    ]


@router.get("", response_model=list[AlertOut], summary="List alerts")
def list_alerts(
    session: SessionDep,
    _: ReadKey,
    state: Annotated[State | None, Query(description="Only alerts in this state")] = None,
    rule_id: Annotated[str | None, Query(max_length=32, description="Only this rule's")] = None,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Page: alerts older than this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Most alerts returned")] = 100,
) -> list[dict[str, Any]]:
    """Alerts, newest first; page with `before_id` set to the last id seen."""
    query = select(Alert, AlertRule).join(AlertRule, AlertRule.id == Alert.rule_id)
    if state is not None:
        query = query.where(Alert.state == state)
    if rule_id is not None:
        query = query.where(Alert.rule_id == rule_id)
    if before_id is not None:
        query = query.where(Alert.id < before_id)
    rows = session.execute(query.order_by(Alert.id.desc()).limit(limit))
    return [_out(alert, rule) for alert, rule in rows]


@router.get(
    "/{alert_id}",
    response_model=AlertDetail,
    summary="Show an alert with its notifications",
    responses=problem_responses(404),
)
def get_alert(alert_id: AlertId, session: SessionDep, _: ReadKey) -> dict[str, Any]:
    """One alert, its evidence, and every notification and delivery attempt for it."""
    alert, rule = _found(session, alert_id)
    return _out(alert, rule) | {"notifications": _notifications(session, alert.id)}


@router.post(
    "/{alert_id}/ack",
    response_model=AlertOut,
    summary="Acknowledge an alert",
    responses=problem_responses(404, 409),
)
def acknowledge(alert_id: AlertId, session: SessionDep, key: WriteKey) -> dict[str, Any]:
    """Record that a person is on it; destinations hear of it. Acknowledging twice changes nothing.

    The alert still resolves by itself once the condition has stopped holding.
    """
    alert, rule = _found(session, alert_id)
    session.refresh(alert, with_for_update=True)
    if alert.state == "resolved":
        raise ProblemError(409, "Alert already resolved", f"alert {alert_id} is resolved")
    if alert.state == "firing":
        now = datetime.now(UTC)
        alert.state = "acknowledged"
        alert.acknowledged_at = now
        alert.acknowledged_by = key.id
        alert.updated_at = now
        enqueue(session=session, alert=alert, rule=rule, event="acknowledged")
    return _out(alert, rule)
