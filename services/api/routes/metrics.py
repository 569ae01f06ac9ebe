"""Metric reads: one CX score over a window, with the counts that explain it and its uncertainty."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import Field

from services.api.caching import CACHED_RESPONSES, conditional_json
from services.api.deps import ReadKey, SessionDep, SettingsDep
from services.api.metric_params import MetricPath, SliceDep
from services.api.metric_query import tallies
from services.api.metric_schema import (
    GroupStat,
    Stat,
    Window,
    keys_and_totals,
    split_groups,
    stat,
    totals,
    with_method_doc,
)
from services.api.windows import WindowDep
from shared.metric_math import Measure, compute, stored_metric
from shared.problems import PROBLEM_RESPONSES

router = APIRouter(prefix="/v1/metrics", tags=["metrics"], responses=PROBLEM_RESPONSES)


class MetricOut(Stat):
    """A metric value over a window, and its parts when broken down."""

    metric: Measure
    method: str = Field(description="How the interval was computed")
    window: Window
    filters: dict[str, str | list[str]]
    group_by: str | None = None
    groups: list[GroupStat] | None = Field(
        default=None,
        description="With group_by: one entry per group; counts and band counts add up to the whole",
    )


@router.get(
    "/{metric}",
    response_model=MetricOut,
    response_model_by_alias=True,
    responses=CACHED_RESPONSES,
    summary="A metric over a window, optionally broken down",
)
@with_method_doc
def read_metric(
    metric: MetricPath,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: ReadKey,
    span: WindowDep,
    part: SliceDep,
) -> Response:
    """The metric's value, count, band counts and 95% margin of error over the window.

    The window is `window` (rolling, ending now or at `to`) or `from`/`to`, narrowed by any
    combination of filters. With `group_by`, `groups` holds the same figures for each part;
    the parts' counts and band counts add up exactly to the whole. Events count in the window
    of their `occurred_at`, so a late event changes every window covering it once stored;
    events stamped implausibly far in the future never count (see `excluded_reason` in
    `GET /v1/feedback`).
    """
    start, end = span
    grid = tallies(
        session=session,
        metric=stored_metric(metric),
        cuts=[start, end],
        filters=part.filters,
        group=part.group,
    )
    (whole,) = totals(grid, 1)
    body = stat(metric, whole, part.min_count) | {
        "metric": metric,
        "method": compute(metric, whole).method,
        "window": {"from": start, "to": end},
        "filters": part.echo(),
        "group_by": part.group_by,
    }
    if part.group is not None:
        groups = split_groups(grid, 1)
        body["groups"] = [
            {"key": key} | stat(metric, t, part.min_count) for key, t in keys_and_totals(groups)
        ]
    return conditional_json(request, MetricOut, body, max_age=settings.metrics_max_age_seconds)
