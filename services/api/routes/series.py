"""Metric series: one value per local hour, day or ISO week, in the caller's time zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from services.api.caching import CACHED_RESPONSES, conditional_json
from services.api.deps import ReadKey, SessionDep, SettingsDep
from services.api.metric_params import MetricPath, SliceDep
from services.api.metric_query import tallies
from services.api.metric_schema import Stat, Window, split_groups, stat, totals, with_method_doc
from services.api.windows import (
    Interval,
    IntervalGrid,
    IntervalQuery,
    TzQuery,
    WindowDep,
    interval_grid,
)
from shared.metric_math import Measure, Tally, compute, stored_metric
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/metrics", tags=["metrics"], responses=PROBLEM_RESPONSES)


class Point(Stat):
    """The metric over one interval; empty intervals are present with count 0 and value null."""

    start: datetime = Field(description="Interval start, in the requested time zone")
    end: datetime = Field(description="Interval end (exclusive), in the requested time zone")
    partial: bool = Field(
        description="True when the window cuts the interval (first or last point)"
    )


class GroupSeries(BaseModel):
    """The series of one part of a breakdown."""

    key: str | None = Field(description="The group's dimension or tag value; null when absent")
    points: list[Point]


class SeriesOut(BaseModel):
    """A metric series over a window, and one series per group when broken down."""

    metric: Measure
    method: str = Field(description="How each interval's margin was computed")
    interval: Interval
    tz: str
    window: Window
    filters: dict[str, str | list[str]]
    group_by: str | None = None
    points: list[Point] = Field(description="The whole, one point per interval, oldest first")
    groups: list[GroupSeries] | None = Field(
        default=None,
        description="With group_by: one series per group, point by point adding up to `points`",
    )


def _points(
    metric: Measure, series: list[Tally], intervals: IntervalGrid, min_count: int
) -> list[dict[str, Any]]:
    return [
        stat(metric, t, min_count) | span for t, span in zip(series, intervals.spans, strict=True)
    ]


@router.get(
    "/{metric}/series",
    response_model=SeriesOut,
    response_model_by_alias=True,
    responses=CACHED_RESPONSES,
    summary="A metric per hour, day or week in a time zone, optionally broken down",
)
@with_method_doc
def read_series(
    metric: MetricPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: ReadKey,
    span: WindowDep,
    part: SliceDep,
    interval: IntervalQuery = "1d",
    tz: TzQuery = "UTC",
) -> Response:
    """The metric for every interval of the window, oldest first, empty intervals included.

    Days start at local midnight and weeks at local Monday midnight in `tz`, so a day is 23
    or 25 hours long across a DST change. The first and last points cover only the part of
    their interval inside the window (`partial`). At most 2000 points per series. Events
    count in the interval of their `occurred_at`, so a late event updates the historical
    point it belongs to as soon as it is stored. With `group_by`, each group gets the same
    points and the groups add up, interval by interval, exactly to `points`.
    """
    start, end = span
    intervals = interval_grid(start, end, interval, tz)
    n = len(intervals.spans)
    grid = tallies(
        session=session,
        metric=stored_metric(metric),
        cuts=intervals.cuts,
        filters=part.filters,
        group=part.group,
    )
    body: dict[str, Any] = {
        "metric": metric,
        "method": compute(metric, Tally()).method,
        "interval": interval,
        "tz": tz,
        "window": {"from": start, "to": end},
        "filters": part.echo(),
        "group_by": part.group_by,
        "points": _points(metric, totals(grid, n), intervals, part.min_count),
    }
    if part.group is not None:
        body["groups"] = [
            {"key": key, "points": _points(metric, series, intervals, part.min_count)}
            for key, series in split_groups(grid, n).items()
        ]
    return conditional_json(request, SeriesOut, body, max_age=settings.metrics_max_age_seconds)
