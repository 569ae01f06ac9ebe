"""Theme reads: counts and sentiment per CX theme, their trends, and key drivers of NPS/CSAT."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field

from services.api.caching import CACHED_RESPONSES, conditional_json
from services.api.deps import ReadKey, SessionDep, SettingsDep
from services.api.metric_params import Slice, SliceDep
from services.api.metric_schema import Window
from services.api.theme_query import (
    drivers,
    theme_figures,
    theme_names,
    theme_overview,
    theme_series,
)
from services.api.windows import (
    Interval,
    IntervalQuery,
    TzQuery,
    WindowDep,
    bad_param,
    interval_grid,
)
from shared.driver_math import METHOD
from shared.metric_math import Metric
from shared.problems import PROBLEM_RESPONSES
from shared.text.themes import THEME_KEY

router = APIRouter(prefix="/v1/themes", tags=["themes"], responses=PROBLEM_RESPONSES)
MAX_SERIES_THEMES = 20
F = TypeVar("F", bound=Callable[..., Any])
_SLICE_DOC = (
    "Filters are those of the metric reads (channel, source_id, touchpoint, language, tag); "
    "`group_by` and `theme` are not taken here. Comments count in the window of the "
    "response's `occurred_at`; themes and sentiment are those found when it was scored."
)


class ThemeFigures(BaseModel):
    """How often a theme is mentioned and how its comments feel."""

    count: int = Field(description="Analysed comments mentioning the theme")
    share: float | None = Field(
        description="count as % of analysed comments in the window; null without comments"
    )
    sentiment: float | None = Field(description="Mean sentiment of those comments, -1..1")
    sentiment_margin_of_error: float | None = Field(
        description="95% Student-t margin of the mean sentiment; null below 2 comments"
    )
    sentiment_breakdown: dict[str, int] = Field(description="negative/neutral/positive counts")


class ThemeStat(ThemeFigures):
    """One theme over the window."""

    key: str
    name_en: str | None = Field(description="Null for a theme no longer in the taxonomy")
    name_ar: str | None


class ThemesOut(BaseModel):
    """Every theme of the taxonomy (and any other with mentions), most mentioned first."""

    window: Window
    filters: dict[str, str | list[str]]
    comments: int = Field(description="Analysed comments in the window: the denominator of share")
    themes: list[ThemeStat]


class ThemePoint(ThemeFigures):
    """A theme over one interval."""

    start: datetime
    end: datetime
    partial: bool = Field(description="True when the window cuts the interval")


class ThemeSeries(BaseModel):
    """One theme's points, oldest first."""

    key: str
    name_en: str | None
    name_ar: str | None
    points: list[ThemePoint]


class ThemeSeriesOut(BaseModel):
    """A series per theme, with the analysed comments per interval."""

    interval: Interval
    tz: str
    window: Window
    filters: dict[str, str | list[str]]
    comments: list[int] = Field(description="Analysed comments per interval")
    themes: list[ThemeSeries]


class DriverOut(BaseModel):
    """One theme as a driver of the metric."""

    key: str
    name_en: str | None
    name_ar: str | None
    count_with: int = Field(description="Scored responses whose comment mentions the theme")
    count_without: int = Field(description="All other scored responses in the window")
    value_with: float | None = Field(description="The metric among responses mentioning it")
    value_without: float | None = Field(description="The metric among all the others")
    difference: float | None = Field(description="value_with - value_without")
    std_error: float | None = Field(description="Standard error of the difference")
    z: float | None
    p_value: float | None = Field(description="Two-sided; null below 2 responses on a side")
    significant: bool = Field(description="p_value < 0.05")
    impact: float | None = Field(
        description="Points the theme moves the overall value: overall - value_without "
        "(negative: the theme costs points)"
    )


class Overall(BaseModel):
    """The metric over all responses in the window and filters."""

    value: float | None
    count: int


class DriversOut(BaseModel):
    """Key drivers of one metric, largest impact first."""

    metric: Metric
    method: str
    window: Window
    filters: dict[str, str | list[str]]
    overall: Overall
    themes: list[DriverOut]


def _documented(*extra: str) -> Callable[[F], F]:
    """Append shared paragraphs to a route's docstring, which FastAPI shows as its description."""

    def wrap(route: F) -> F:
        route.__doc__ = "\n\n".join([inspect.cleandoc(route.__doc__ or ""), *extra])
        return route

    return wrap


def _plain(part: Slice) -> None:
    if part.group is not None:
        raise bad_param("query.group_by", "theme reads are not broken down; use filters")
    if part.filters.theme is not None:
        raise bad_param("query.theme", "theme reads cover every theme; use /v1/themes/series")


@router.get(
    "",
    response_model=ThemesOut,
    response_model_by_alias=True,
    responses=CACHED_RESPONSES,
    summary="Mentions and sentiment of every theme over a window",
)
@_documented(_SLICE_DOC)
def read_themes(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: ReadKey,
    span: WindowDep,
    part: SliceDep,
) -> Response:
    """For each theme: comments mentioning it, their share of analysed comments, and their
    mean sentiment. A comment can mention several themes, so shares add up to more than 100.
    """
    _plain(part)
    start, end = span
    body = theme_overview(session=session, start=start, end=end, filters=part.filters) | {
        "window": {"from": start, "to": end},
        "filters": part.echo(),
    }
    return conditional_json(request, ThemesOut, body, max_age=settings.metrics_max_age_seconds)


@router.get(
    "/series",
    response_model=ThemeSeriesOut,
    response_model_by_alias=True,
    responses=CACHED_RESPONSES,
    summary="Theme mentions and sentiment per hour, day or week",
)
@_documented(_SLICE_DOC)
def read_theme_series(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: ReadKey,
    span: WindowDep,
    part: SliceDep,
    key: Annotated[
        list[str] | None,
        Query(description="Theme keys to chart (repeatable, up to 20); default every theme"),
    ] = None,
    interval: IntervalQuery = "1d",
    tz: TzQuery = "UTC",
) -> Response:
    """Per theme, one point per interval (empty ones included) with the figures of
    `GET /v1/themes`; intervals are cut in `tz` exactly as metric series are.
    """
    _plain(part)
    names = theme_names(session)
    keys = list(dict.fromkeys(key)) if key else list(names)
    if len(keys) > MAX_SERIES_THEMES or any(not THEME_KEY.match(k) for k in keys):
        raise bad_param("query.key", f"up to {MAX_SERIES_THEMES} theme keys like delivery")
    start, end = span
    intervals = interval_grid(start, end, interval, tz)
    comments, series = theme_series(
        session=session, cuts=intervals.cuts, filters=part.filters, keys=keys
    )

    def points(tallies: list[Any]) -> list[dict[str, Any]]:
        return [
            theme_figures(t, c.count) | span
            for t, c, span in zip(tallies, comments, intervals.spans, strict=True)
        ]

    body = {
        "interval": interval,
        "tz": tz,
        "window": {"from": start, "to": end},
        "filters": part.echo(),
        "comments": [c.count for c in comments],
        "themes": [
            {
                "key": k,
                "name_en": names.get(k, (None, None))[0],
                "name_ar": names.get(k, (None, None))[1],
                "points": points(series[k]),
            }
            for k in keys
        ],
    }
    return conditional_json(request, ThemeSeriesOut, body, max_age=settings.metrics_max_age_seconds)


@router.get(
    "/drivers",
    response_model=DriversOut,
    response_model_by_alias=True,
    responses=CACHED_RESPONSES,
    summary="Key drivers: what each theme does to NPS, CSAT or CES",
)
@_documented(f"Significance: {METHOD}.", _SLICE_DOC)
def read_drivers(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: ReadKey,
    span: WindowDep,
    part: SliceDep,
    metric: Annotated[Metric, Query(description="The metric to explain")] = "nps",
) -> Response:
    """For each theme mentioned by scored responses: the metric among responses mentioning
    it, among all the others (with or without a comment), the difference and its
    significance, and its impact on the overall value. Largest absolute impact first.
    """
    _plain(part)
    start, end = span
    body = drivers(session=session, metric=metric, start=start, end=end, filters=part.filters)
    body |= {
        "metric": metric,
        "method": METHOD,
        "window": {"from": start, "to": end},
        "filters": part.echo(),
    }
    return conditional_json(request, DriversOut, body, max_age=settings.metrics_max_age_seconds)
