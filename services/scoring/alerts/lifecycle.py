"""Applying observations to alerts: fire, refresh, resolve after the hold-off, and enqueue messages.

Each rule is evaluated in a transaction of its own under a transaction-scoped advisory lock,
so two scoring workers never evaluate one rule at once (the second skips it); the partial
unique index on open alerts backs that up. Every state change and its outbox rows commit
together.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.alerts.conditions import absent_group_holds, observe
from shared.alert_models import OPEN_STATES, Alert, AlertRule
from shared.alert_outbox import enqueue
from shared.db import transaction
from shared.observability import ALERT_EVALUATIONS

log = logging.getLogger(__name__)


@dataclass
class EvaluationResult:
    """What one pass over the rules did, for logs and tests."""

    evaluated: int = 0
    skipped: int = 0
    errors: int = 0
    fired: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)


def _locked(session: Session, rule_id: str) -> bool:
    got = session.execute(
        text("SELECT pg_try_advisory_xact_lock(hashtext('voc.alert_rule'), hashtext(:id))"),
        {"id": rule_id},
    ).scalar_one()
    return bool(got)


def evaluate_rule(
    *, session: Session, rule: AlertRule, now: datetime, result: EvaluationResult
) -> None:
    """Evaluate one rule inside the caller's transaction; a rule another worker holds is skipped."""
    if not _locked(session, rule.id):
        result.skipped += 1
        return
    observations = observe(session=session, rule=rule, now=now)
    open_alerts = {
        a.group_key: a
        for a in session.scalars(
            select(Alert)
            .where(Alert.rule_id == rule.id, Alert.state.in_(OPEN_STATES))
            .with_for_update()
        )
    }
    hold_off = timedelta(seconds=rule.hold_off_seconds)
    seen: set[str] = set()
    for obs in observations:
        seen.add(obs.group_key)
        alert = open_alerts.get(obs.group_key)
        if alert is not None:
            alert.latest_evidence = obs.evidence
            if obs.holds:
                alert.last_held_at = now
            elif rule.condition != "each_response" and now - alert.last_held_at >= hold_off:
                _resolve(session, rule, alert, now, result)
            alert.updated_at = now
        elif obs.holds:
            alert = Alert(
                rule_id=rule.id,
                group_key=obs.group_key,
                state="firing",
                evidence=obs.evidence,
                latest_evidence=obs.evidence,
                event_id=obs.event_id,
                fired_at=now,
                last_held_at=now,
                updated_at=now,
            )
            session.add(alert)
            enqueue(session=session, alert=alert, rule=rule, event="fired")
            result.fired.append(alert.id)
    if rule.condition != "each_response":
        for key, alert in open_alerts.items():
            if key in seen:
                continue
            if absent_group_holds(rule):
                alert.last_held_at = now
            elif now - alert.last_held_at >= hold_off:
                _resolve(session, rule, alert, now, result)
    rule.last_evaluated_at = now
    result.evaluated += 1


def _resolve(
    session: Session, rule: AlertRule, alert: Alert, now: datetime, result: EvaluationResult
) -> None:
    alert.state = "resolved"
    alert.resolved_at = now
    alert.updated_at = now
    enqueue(session=session, alert=alert, rule=rule, event="resolved")
    result.resolved.append(alert.id)


def evaluate_rules(
    *,
    sessions: sessionmaker[Session],
    now: datetime | None = None,
    metrics: Collection[str | None] | None = None,
) -> EvaluationResult:
    """Evaluate every enabled rule (or those on `metrics`), one transaction each.

    A rule that fails is logged and counted, never allowed to stop the others.
    """
    at = now or datetime.now(UTC)
    with sessions() as session:
        query = select(AlertRule.id).where(AlertRule.enabled).order_by(AlertRule.id)
        if metrics is not None:
            query = query.where(
                (AlertRule.metric.in_([m for m in metrics if m is not None]))
                | AlertRule.metric.is_(None)
                | AlertRule.condition.in_(("silence", "each_response"))
            )
        rule_ids = list(session.scalars(query))
    result = EvaluationResult()
    for rule_id in rule_ids:
        fired, resolved, skipped = len(result.fired), len(result.resolved), result.skipped
        kind = "unknown"
        try:
            with transaction(sessions) as session:
                rule = session.get(AlertRule, rule_id)
                if rule is None or not rule.enabled:
                    continue
                kind = rule.condition
                evaluate_rule(session=session, rule=rule, now=at, result=result)
        except Exception:
            result.errors += 1
            del result.fired[fired:], result.resolved[resolved:]
            ALERT_EVALUATIONS.labels(rule_kind=kind, outcome="error").inc()
            log.exception("alert rule evaluation failed", extra={"rule_id": rule_id})
            continue
        outcome = (
            "skipped"
            if result.skipped > skipped
            else "firing"
            if len(result.fired) > fired
            else "resolved"
            if len(result.resolved) > resolved
            else "ok"
        )
        ALERT_EVALUATIONS.labels(rule_kind=kind, outcome=outcome).inc()
    return result
