"""Alert rules: what to watch and when to fire, managed by admins; scoring evaluates them."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.deps import AdminKey, SessionDep
from shared.alert_models import AlertRule, NotificationDestination
from shared.events import Channel
from shared.metric_math import SCALES, Metric
from shared.problems import (
    PROBLEM_RESPONSES,
    FieldError,
    ProblemError,
    field_errors,
    problem_responses,
)

router = APIRouter(prefix="/v1/alert-rules", tags=["alerts"], responses=PROBLEM_RESPONSES)
RuleId = Annotated[str, Path(max_length=32, description="The rule's id, rul_...")]
DAY = 86_400
# The value range of each metric, for checking a threshold level.
VALUE_RANGES = {"nps": (-100.0, 100.0), "csat": (0.0, 100.0), "ces": (1.0, 7.0)}
Seconds = Annotated[int, Field(ge=900, le=90 * DAY)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DropCondition(_Strict):
    """Recent window lower than the baseline window by min_points, significant at confidence."""

    type: Literal["drop"]
    recent_window_seconds: Seconds = Field(default=DAY, description="e.g. the last 24 h")
    baseline_window_seconds: Seconds = Field(
        default=7 * DAY, description="The window just before the recent one, e.g. 7 days"
    )
    min_points: float = Field(default=5.0, gt=0, le=200, description="Smallest drop that matters")
    confidence: float = Field(
        default=0.999,
        ge=0.5,
        le=0.9999,
        description="One-sided Welch t-test confidence; the default keeps false alarms to a "
        "few a year per group (see README)",
    )
    min_count: int = Field(default=30, ge=2, le=1_000_000, description="Responses per window")


class ThresholdCondition(_Strict):
    """The value over a window is below (or above) a fixed level."""

    type: Literal["threshold"]
    window_seconds: Seconds = DAY
    level: float = Field(description="In the metric's units: NPS points, CSAT %, CES score")
    direction: Literal["below", "above"] = "below"
    min_count: int = Field(default=30, ge=1, le=1_000_000)


class SilenceCondition(_Strict):
    """A group that had at least min_count responses in the baseline has had none since."""

    type: Literal["silence"]
    silent_seconds: int = Field(default=3600, ge=60, le=30 * DAY)
    baseline_window_seconds: Seconds = 7 * DAY
    min_count: int = Field(default=10, ge=1, le=1_000_000)


class EachResponseCondition(_Strict):
    """Every matching response is sent at once, with the customer reference and comment."""

    type: Literal["each_response"]
    min_score: int | None = Field(default=None, ge=0, le=10)
    max_score: int | None = Field(default=None, ge=0, le=10)
    require_comment: bool = False


Condition = Annotated[
    DropCondition | ThresholdCondition | SilenceCondition | EachResponseCondition,
    Field(discriminator="type"),
]


class RuleFilters(_Strict):
    """Dimension filters, as on the metrics API; they combine."""

    channel: Channel | None = None
    source_id: str | None = Field(default=None, max_length=64)
    touchpoint: str | None = Field(default=None, max_length=128)
    language: str | None = Field(default=None, max_length=16)


class RuleIn(_Strict):
    """A rule as created (and as a PATCH must leave it)."""

    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    metric: Metric | None = Field(
        default=None, description="Required for drop and threshold; optional otherwise"
    )
    condition: Condition
    filters: RuleFilters = Field(default_factory=RuleFilters)
    group_by: Literal["channel", "source_id", "touchpoint", "language"] | None = Field(
        default=None, description="Watch each value of this dimension separately"
    )
    destination_ids: list[Annotated[str, Field(max_length=32)]] = Field(
        default_factory=list, max_length=20, description="Where notifications go (dst_...)"
    )
    hold_off_seconds: int = Field(
        default=3600,
        ge=0,
        le=7 * DAY,
        description="How long the condition must stop holding before an alert resolves",
    )
    enabled: bool = True


class RulePatch(_Strict):
    """Fields to change; the rule as a whole is checked again."""

    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    metric: Metric | None = None
    condition: Condition | None = None
    filters: RuleFilters | None = None
    group_by: Literal["channel", "source_id", "touchpoint", "language"] | None = None
    destination_ids: list[Annotated[str, Field(max_length=32)]] | None = Field(
        default=None, max_length=20
    )
    hold_off_seconds: int | None = Field(default=None, ge=0, le=7 * DAY)
    enabled: bool | None = None


class RuleOut(BaseModel):
    """A rule as stored."""

    id: str
    name: str
    metric: Metric | None
    condition: dict[str, Any]
    filters: dict[str, str]
    group_by: str | None
    destination_ids: list[str]
    hold_off_seconds: int
    enabled: bool
    created_at: datetime
    updated_at: datetime
    last_evaluated_at: datetime | None


def _semantic_errors(rule: RuleIn, session: Session) -> list[FieldError]:
    """What the schema alone cannot say: combinations, ranges per metric, known destinations."""
    errors: list[FieldError] = []

    def bad(loc: str, msg: str) -> None:
        errors.append(FieldError(loc=f"body.{loc}", msg=msg, type="value_error"))

    c = rule.condition
    if c.type in ("drop", "threshold") and rule.metric is None:
        bad("metric", f"a {c.type} rule needs a metric")
    if isinstance(c, ThresholdCondition) and rule.metric is not None:
        lo, hi = VALUE_RANGES[rule.metric]
        if not lo <= c.level <= hi:
            bad("condition.level", f"{rule.metric} values lie from {lo:g} to {hi:g}")
    if isinstance(c, DropCondition) and c.baseline_window_seconds < c.recent_window_seconds:
        bad("condition.baseline_window_seconds", "must be at least the recent window")
    if isinstance(c, EachResponseCondition):
        if rule.group_by is not None:
            bad("group_by", "each_response rules notify per response; group_by does not apply")
        scored = c.min_score is not None or c.max_score is not None
        if scored and rule.metric is None:
            bad("metric", "a score range needs a metric")
        if scored and rule.metric is not None:
            lo, hi = SCALES[rule.metric]
            for name in ("min_score", "max_score"):
                value = getattr(c, name)
                if value is not None and not lo <= value <= hi:
                    bad(f"condition.{name}", f"{rule.metric} scores lie from {lo} to {hi}")
        if c.min_score is not None and c.max_score is not None and c.min_score > c.max_score:
            bad("condition.max_score", "must not be below min_score")
    if rule.destination_ids:
        known = set(
            session.scalars(
                select(NotificationDestination.id).where(
                    NotificationDestination.id.in_(rule.destination_ids)
                )
            )
        )
        for i, dest in enumerate(rule.destination_ids):
            if dest not in known:
                bad(f"destination_ids.{i}", f"no notification destination {dest!r}")
    return errors


def _checked(rule: RuleIn, session: Session) -> RuleIn:
    errors = _semantic_errors(rule, session)
    if errors:
        raise ProblemError(422, "Invalid alert rule", "see errors", errors=errors)
    return rule


def _apply(row: AlertRule, rule: RuleIn) -> None:
    condition = rule.condition.model_dump()
    row.name = rule.name
    row.metric = rule.metric
    row.condition = condition.pop("type")
    row.params = condition
    row.filters = rule.filters.model_dump(exclude_none=True)
    row.group_by = rule.group_by
    row.destination_ids = list(dict.fromkeys(rule.destination_ids))
    row.hold_off_seconds = rule.hold_off_seconds
    row.enabled = rule.enabled
    row.updated_at = datetime.now(UTC)


def _as_input(row: AlertRule) -> dict[str, Any]:
    return {
        "name": row.name,
        "metric": row.metric,
        "condition": {"type": row.condition, **row.params},
        "filters": row.filters,
        "group_by": row.group_by,
        "destination_ids": row.destination_ids,
        "hold_off_seconds": row.hold_off_seconds,
        "enabled": row.enabled,
    }


def _out(row: AlertRule) -> dict[str, Any]:
    return _as_input(row) | {
        "id": row.id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "last_evaluated_at": row.last_evaluated_at,
    }


def _found(session: Session, rule_id: str) -> AlertRule:
    row = session.get(AlertRule, rule_id)
    if row is None:
        raise ProblemError(404, "Alert rule not found", f"no alert rule with id {rule_id!r}")
    return row


@router.post("", status_code=201, response_model=RuleOut, summary="Create an alert rule")
def create_rule(body: RuleIn, session: SessionDep, _: AdminKey) -> dict[str, Any]:
    """Create a rule; scoring evaluates it from its next pass on."""
    now = datetime.now(UTC)
    row = AlertRule(id=f"rul_{secrets.token_hex(8)}", created_at=now)
    _apply(row, _checked(body, session))
    session.add(row)
    session.flush()
    return _out(row)


@router.get("", response_model=list[RuleOut], summary="List alert rules")
def list_rules(session: SessionDep, _: AdminKey) -> list[dict[str, Any]]:
    """Every rule, oldest first."""
    rows = session.scalars(select(AlertRule).order_by(AlertRule.created_at, AlertRule.id))
    return [_out(r) for r in rows]


@router.get(
    "/{rule_id}",
    response_model=RuleOut,
    summary="Show an alert rule",
    responses=problem_responses(404),
)
def get_rule(rule_id: RuleId, session: SessionDep, _: AdminKey) -> dict[str, Any]:
    """One rule by id."""
    return _out(_found(session, rule_id))


@router.patch(
    "/{rule_id}",
    response_model=RuleOut,
    summary="Change an alert rule",
    responses=problem_responses(404),
)
def update_rule(
    rule_id: RuleId, body: RulePatch, session: SessionDep, _: AdminKey
) -> dict[str, Any]:
    """Change the fields given; a changed condition replaces the whole condition object."""
    row = _found(session, rule_id)
    merged = _as_input(row) | body.model_dump(exclude_unset=True)
    try:
        rule = RuleIn.model_validate(merged)
    except ValidationError as exc:
        raise ProblemError(
            422,
            "Invalid alert rule",
            "the rule after this change would be invalid",
            errors=field_errors(exc.errors(include_input=False), prefix="body"),
        ) from None
    _apply(row, _checked(rule, session))
    session.flush()
    return _out(row)


def _set_enabled(session: Session, rule_id: str, enabled: bool) -> dict[str, Any]:
    row = _found(session, rule_id)
    row.enabled = enabled
    row.updated_at = datetime.now(UTC)
    session.flush()
    return _out(row)


@router.post(
    "/{rule_id}/disable",
    response_model=RuleOut,
    summary="Disable an alert rule",
    responses=problem_responses(404),
)
def disable_rule(rule_id: RuleId, session: SessionDep, _: AdminKey) -> dict[str, Any]:
    """Stop evaluating the rule; its open alerts stay as they are."""
    return _set_enabled(session, rule_id, False)


@router.post(
    "/{rule_id}/enable",
    response_model=RuleOut,
    summary="Enable an alert rule",
    responses=problem_responses(404),
)
def enable_rule(rule_id: RuleId, session: SessionDep, _: AdminKey) -> dict[str, Any]:
    """Evaluate the rule again."""
    return _set_enabled(session, rule_id, True)


@router.delete(
    "/{rule_id}", status_code=204, summary="Delete an alert rule", responses=problem_responses(404)
)
def delete_rule(rule_id: RuleId, session: SessionDep, _: AdminKey) -> Response:
    """Delete the rule with its alerts and their notifications (disable it to keep history)."""
    session.delete(_found(session, rule_id))
    return Response(status_code=204)
