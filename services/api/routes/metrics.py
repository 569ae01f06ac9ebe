"""Metric reads: one CX score over a window, with the counts that explain it and its uncertainty."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field

from services.api.deps import ReadKey, SessionDep
from services.api.metric_query import Filters, tally_between
from shared.metric_math import MIN_RELIABLE_COUNT, Metric, compute
from shared.problems import PROBLEM_RESPONSES, FieldError, ProblemError

router = APIRouter(prefix="/v1/metrics", tags=["metrics"], responses=PROBLEM_RESPONSES)

_WINDOW = re.compile(r"^(\d{1,4})([hdw])$")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_SPAN = timedelta(days=3660)

# What the low/mid/high bands are called for each metric in responses.
_BAND_NAMES: dict[str, tuple[str, str | None, str]] = {
    "nps": ("detractors", "passives", "promoters"),
    "csat": ("unsatisfied", None, "satisfied"),
    "ces": ("high_effort", "neutral", "low_effort"),
}


class Window(BaseModel):
    """The half-open interval of event time the value covers."""

    from_: datetime = Field(alias="from")
    to: datetime


class MetricOut(BaseModel):
    """A metric value with everything needed to judge it."""

    metric: Metric
    value: float | None = Field(
        description="NPS -100..100, CSAT % satisfied, CES mean 1..7; null with no responses"
    )
    count: int = Field(description="Responses counted")
    margin_of_error: float | None = Field(
        description="Half-width of the 95% interval, in the value's units; null below 2 responses"
    )
    ci_low: float | None
    ci_high: float | None
    reliable: bool = Field(description="False when count is below min_count")
    min_count: int
    method: str = Field(description="How the interval was computed")
    breakdown: dict[str, int] = Field(
        description="nps: promoters/passives/detractors; csat: satisfied/unsatisfied; "
        "ces: low_effort (5-7)/neutral (4)/high_effort (1-3)"
    )
    mean_score: float | None
    window: Window
    filters: dict[str, str]


def resolve_window(
    window: str | None, start: datetime | None, end: datetime | None, *, now: datetime
) -> tuple[datetime, datetime]:
    """Turn `window` or `from`/`to` into a concrete [start, end) or say which parameter is wrong."""
    if window is not None and start is not None:
        raise _bad("query.window", "give either window or from/to, not both")
    end = (end or now).astimezone(UTC)
    if start is None:
        match = _WINDOW.match(window or "30d")
        if not match:
            raise _bad("query.window", "must look like 1h, 24h, 7d, 30d or 90d")
        span = int(match.group(1)) * _UNIT[match.group(2)]
        if not timedelta(0) < span <= MAX_SPAN:
            raise _bad("query.window", "must be more than zero and at most 3660 days")
        return end - span, end
    start = start.astimezone(UTC)
    if start >= end:
        raise _bad("query.from", "must be earlier than to")
    if end - start > MAX_SPAN:
        raise _bad("query.from", "from/to may span at most 3660 days")
    return start, end


def _bad(loc: str, msg: str) -> ProblemError:
    return ProblemError(
        422, "Invalid request", msg, errors=[FieldError(loc=loc, msg=msg, type="value_error")]
    )


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


@router.get(
    "/{metric}",
    response_model=MetricOut,
    response_model_by_alias=True,
    summary="A metric over a window",
)
def read_metric(
    metric: Metric,
    session: SessionDep,
    _: ReadKey,
    window: Annotated[
        str | None,
        Query(
            description="Rolling window ending now: 1h, 24h, 7d, "
            "30d, 90d (any N h/d/w). Default 30d."
        ),
    ] = None,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="Start (RFC 3339, inclusive)")
    ] = None,
    to: Annotated[
        AwareDatetime | None, Query(description="End (RFC 3339, exclusive); default now")
    ] = None,
    channel: Annotated[str | None, Query(max_length=16)] = None,
    source_id: Annotated[str | None, Query(max_length=64)] = None,
    touchpoint: Annotated[str | None, Query(max_length=128)] = None,
    min_count: Annotated[
        int,
        Query(ge=1, le=100_000, description="Responses needed for the value to count as reliable"),
    ] = MIN_RELIABLE_COUNT,
) -> dict[str, Any]:
    """The metric's value, count, band counts and 95% margin of error over the window.

    Margins: NPS uses the normal approximation on per-response scores +1/0/-1 with the
    sample variance; CSAT the Wilson score interval; CES a Student-t interval from the
    sample standard deviation. All at 95%.
    """
    start, end = resolve_window(window, from_, to, now=datetime.now(UTC))
    filters = Filters(channel=channel, source_id=source_id, touchpoint=touchpoint)
    tally = tally_between(session=session, metric=metric, start=start, end=end, filters=filters)
    value = compute(metric, tally, min_count=min_count)
    low, mid, high = _BAND_NAMES[metric]
    breakdown = {low: tally.low, high: tally.high} | ({mid: tally.mid} if mid else {})
    return {
        "metric": metric,
        "value": _round(value.value),
        "count": value.count,
        "margin_of_error": _round(value.margin_of_error),
        "ci_low": _round(value.ci_low),
        "ci_high": _round(value.ci_high),
        "reliable": value.reliable,
        "min_count": value.min_count,
        "method": value.method,
        "breakdown": breakdown,
        "mean_score": _round(tally.score_sum / tally.count) if tally.count else None,
        "window": {"from": start, "to": end},
        "filters": {k: v for k, v in vars(filters).items() if v is not None},
    }
