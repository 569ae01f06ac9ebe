"""Writing alert state changes to the notification outbox, from scoring (fire, resolve) or the API (ack).

The caller's transaction holds both the alert change and its outbox rows, so a message
exists exactly when its decision was committed. Each row's payload is fixed here, at
decision time: a retry days later sends the same bytes with the same idempotency key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from shared.alert_models import Alert, AlertRule, Notification, NotificationDestination

KAFKA_KIND = "kafka"
EVENTS = ("fired", "acknowledged", "resolved")


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


def alert_document(alert: Alert, rule: AlertRule) -> dict[str, Any]:
    """The alert as other systems see it: state, rule, group and the numbers behind it."""
    return {
        "id": alert.id,
        "state": alert.state,
        "rule_id": rule.id,
        "rule_name": rule.name,
        "condition": rule.condition,
        "metric": rule.metric,
        "filters": rule.filters,
        "group_by": rule.group_by,
        "group_key": None if rule.condition == "each_response" else alert.group_key,
        "event_id": str(alert.event_id) if alert.event_id else None,
        "evidence": alert.evidence,
        "fired_at": _iso(alert.fired_at),
        "acknowledged_at": _iso(alert.acknowledged_at),
        "resolved_at": _iso(alert.resolved_at),
    }


def _summary(doc: dict[str, Any], event: str) -> str:
    ev = doc["evidence"]
    where = f" for {doc['group_by']}={doc['group_key'] or '(none)'}" if doc["group_by"] else ""
    metric = (doc["metric"] or "feedback").upper()
    if doc["condition"] == "drop" and ev.get("difference") is not None:
        numbers = (
            f"{metric} {ev['recent_value']:.1f} (n={ev['recent_count']}) vs baseline "
            f"{ev['baseline_value']:.1f} (n={ev['baseline_count']}), "
            f"{ev['difference']:+.1f} points, p={ev['p_value']:.2g}"
        )
    elif doc["condition"] == "threshold" and ev.get("value") is not None:
        numbers = f"{metric} {ev['value']:.1f} {ev['direction']} {ev['level']:g} (n={ev['count']})"
    elif doc["condition"] == "silence":
        numbers = f"no feedback since {ev.get('last_seen_at') or 'the window began'}"
    elif doc["condition"] == "each_response":
        numbers = (
            f"{metric} {ev.get('score')} from {ev.get('respondent_id') or 'an anonymous customer'}"
            f": {ev.get('text') or '(no comment)'}"
        )
    else:
        numbers = ""
    return f"[{event}] {doc['rule_name']}{where}: {numbers}".rstrip(": ")


def slack_message(doc: dict[str, Any], event: str) -> dict[str, Any]:
    """A Slack-compatible incoming-webhook message: a text fallback and blocks."""
    text = _summary(doc, event)
    fields = [
        {"type": "mrkdwn", "text": f"*State*\n{doc['state']}"},
        {"type": "mrkdwn", "text": f"*Alert*\n{doc['id']}"},
    ]
    return {
        "text": text,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "section", "fields": fields},
        ],
    }


def webhook_document(doc: dict[str, Any], event: str, key: str) -> dict[str, Any]:
    """The generic JSON body (also the Kafka record value) for one state change."""
    return {
        "type": f"alert.{event}",
        "idempotency_key": key,
        "summary": _summary(doc, event),
        "alert": doc,
    }


def idempotency_key(alert_id: int, event: str, destination_id: str | None) -> str:
    """Deterministic per alert, change and destination: a replayed decision cannot send twice."""
    return f"alert-{alert_id}-{event}-{destination_id or KAFKA_KIND}"


def enqueue(*, session: Session, alert: Alert, rule: AlertRule, event: str) -> int:
    """Add outbox rows for one state change: each enabled destination of the rule, and Kafka."""
    if event not in EVENTS:
        raise ValueError(f"unknown alert event {event!r}")
    session.flush()  # the alert needs its id and server-side timestamps
    doc = alert_document(alert, rule)
    destinations = (
        session.scalars(
            select(NotificationDestination).where(
                NotificationDestination.id.in_(rule.destination_ids),
                NotificationDestination.disabled_at.is_(None),
            )
        ).all()
        if rule.destination_ids
        else []
    )
    rows = []
    for dest_id, kind in [(d.id, d.kind) for d in destinations] + [(None, KAFKA_KIND)]:
        key = idempotency_key(alert.id, event, dest_id)
        payload = (
            slack_message(doc, event) if kind == "slack" else webhook_document(doc, event, key)
        )
        rows.append(
            {
                "alert_id": alert.id,
                "destination_id": dest_id,
                "kind": kind,
                "event": event,
                "idempotency_key": key,
                "payload": payload,
            }
        )
    # A key already present means this exact change was enqueued before: nothing to add.
    stmt = (
        insert(Notification).values(rows).on_conflict_do_nothing(index_elements=["idempotency_key"])
    )
    return session.execute(stmt).rowcount  # type: ignore[attr-defined,no-any-return]
