"""Turning one rule and the current data into observations: per group, does the condition hold?

Window conditions (drop, threshold, silence) observe every group with data; each_response
observes every matching response not yet alerted on, each as a group of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy.orm import Session

from services.scoring.alerts.reads import (
    activity,
    split_window_tallies,
    unmatched_responses,
    window_end,
)
from shared.alert_math import Direction, drop_test, threshold_test
from shared.alert_models import AlertRule
from shared.metric_math import Metric

# A response older than this when first seen is history, not something to follow up now.
EACH_RESPONSE_LOOKBACK = timedelta(hours=1)
EACH_RESPONSE_BATCH = 500


@dataclass(frozen=True)
class Observation:
    """Whether a rule's condition holds for one group now, with the numbers that say so."""

    group_key: str
    holds: bool
    evidence: dict[str, Any]
    event_id: uuid.UUID | None = None


def _seconds(params: dict[str, Any], name: str) -> timedelta:
    return timedelta(seconds=float(params[name]))


def _drop(session: Session, rule: AlertRule, now: datetime) -> list[Observation]:
    p = rule.params
    end = window_end(now)
    split = end - _seconds(p, "recent_window_seconds")
    start = split - _seconds(p, "baseline_window_seconds")
    metric = cast(Metric, rule.metric)
    windows = split_window_tallies(
        session=session,
        metric=metric,
        filters=rule.filters,
        group_by=rule.group_by,
        start=start,
        split=split,
        end=end,
    )
    out = []
    for key, (baseline, recent) in sorted(windows.items()):
        test = drop_test(
            metric,
            recent,
            baseline,
            min_points=float(p["min_points"]),
            confidence=float(p["confidence"]),
            min_count=int(p["min_count"]),
        )
        windows_doc = {
            "recent_window": [split.isoformat(), end.isoformat()],
            "baseline_window": [start.isoformat(), split.isoformat()],
        }
        out.append(Observation(key, test.holds, test.as_dict() | windows_doc))
    return out


def _threshold(session: Session, rule: AlertRule, now: datetime) -> list[Observation]:
    p = rule.params
    end = window_end(now)
    start = end - _seconds(p, "window_seconds")
    metric = cast(Metric, rule.metric)
    windows = split_window_tallies(
        session=session,
        metric=metric,
        filters=rule.filters,
        group_by=rule.group_by,
        start=start,
        split=start,
        end=end,
    )
    out = []
    for key, (_, tally) in sorted(windows.items()):
        test = threshold_test(
            metric,
            tally,
            level=float(p["level"]),
            direction=cast(Direction, p["direction"]),
            min_count=int(p["min_count"]),
        )
        window = {"window": [start.isoformat(), end.isoformat()]}
        out.append(Observation(key, test.holds, test.as_dict() | window))
    return out


def _silence(session: Session, rule: AlertRule, now: datetime) -> list[Observation]:
    p = rule.params
    quiet_since = now - _seconds(p, "silent_seconds")
    start = quiet_since - _seconds(p, "baseline_window_seconds")
    groups = activity(
        session=session,
        metric=rule.metric,
        filters=rule.filters,
        group_by=rule.group_by,
        start=start,
        quiet_since=quiet_since,
    )
    out = []
    for key, seen in sorted(groups.items()):
        silent = seen.last_seen_at is None or seen.last_seen_at < quiet_since
        usual = seen.before >= int(p["min_count"])
        evidence = {
            "condition": "silence",
            "baseline_count": seen.before,
            "baseline_window": [start.isoformat(), quiet_since.isoformat()],
            "silent_since": quiet_since.isoformat(),
            "last_seen_at": seen.last_seen_at.isoformat() if seen.last_seen_at else None,
            "min_count": int(p["min_count"]),
        }
        out.append(Observation(key, silent and usual, evidence))
    return out


def _each_response(session: Session, rule: AlertRule, now: datetime) -> list[Observation]:
    p = rule.params
    matches = unmatched_responses(
        session=session,
        rule_id=rule.id,
        metric=rule.metric,
        filters=rule.filters,
        min_score=p.get("min_score"),
        max_score=p.get("max_score"),
        require_comment=bool(p.get("require_comment", False)),
        stored_since=max(rule.created_at, now - EACH_RESPONSE_LOOKBACK),
        limit=EACH_RESPONSE_BATCH,
    )
    return [Observation(str(r.event_id), True, r.evidence(), r.event_id) for r in matches]


OBSERVERS = {
    "drop": _drop,
    "threshold": _threshold,
    "silence": _silence,
    "each_response": _each_response,
}


def observe(*, session: Session, rule: AlertRule, now: datetime) -> list[Observation]:
    """The rule's observations at `now`, one per group with data."""
    return OBSERVERS[rule.condition](session, rule, now)


def absent_group_holds(rule: AlertRule) -> bool:
    """For an open alert whose group has no data at all now: does the condition still hold?

    A silent group that stays silent past the baseline window disappears from the reads,
    and that is the condition getting worse, not better.
    """
    return rule.condition == "silence"
