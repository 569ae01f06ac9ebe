"""Response shapes of metric reads: every value, whole or part, carries its uncertainty."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from services.api.metric_query import Grid, Key
from services.api.windows import bad_param
from shared.metric_math import Measure, Tally, compute

MAX_GROUPS = 500
MAX_CELLS = 100_000  # groups x points in one answer
F = TypeVar("F", bound=Callable[..., Any])

MARGIN_DOC = """
Every value carries `count`, a 95% `margin_of_error` (`ci_low`/`ci_high`), `reliable` and
`min_count`. Margins: NPS uses the normal approximation on per-response scores +1/0/-1 with
the unbiased sample variance (z = 1.96); CSAT the Wilson score interval for the share of
4-5 (margin = half its width); CES a Student-t interval from the sample standard deviation.
Margins are null below 2 responses (CSAT: below 1). `reliable` is `count >= min_count`.

Comment sentiment reads the same way: `sentiment` is the mean sentiment of analysed
comments (-1..1, Student-t interval from the sample standard deviation); `positive_share`
and `negative_share` are the percent of comments labelled positive or negative (Wilson
score interval). Their `count` is the number of analysed comments, and `breakdown` holds
negative/neutral/positive. A `theme` filter narrows any metric to responses whose comment
mentions that theme.

Cost: whole 15-minute buckets are summed from pre-aggregated tallies and only the partial
buckets at the window's edges are read from raw feedback, so a query's cost depends on the
number of buckets in the window (and groups), not on how many responses are stored. The
exception is two or more `tag` filters, or a `tag` filter with a `tag:` breakdown: those
read the raw feedback in the window (exact, but the cost grows with its responses).
"""


def with_method_doc(route: F) -> F:
    """Append how margins are computed and what a query costs to a route's docstring."""
    route.__doc__ = inspect.cleandoc(route.__doc__ or "") + "\n\n" + MARGIN_DOC.strip()
    return route


# What the low/mid/high bands are called for each metric in responses.
_BAND_NAMES: dict[str, tuple[str, str | None, str]] = {
    "nps": ("detractors", "passives", "promoters"),
    "csat": ("unsatisfied", None, "satisfied"),
    "ces": ("high_effort", "neutral", "low_effort"),
    "sentiment": ("negative", "neutral", "positive"),
    "positive_share": ("negative", "neutral", "positive"),
    "negative_share": ("negative", "neutral", "positive"),
}


class Stat(BaseModel):
    """A metric value with everything needed to judge it."""

    value: float | None = Field(
        description="NPS -100..100, CSAT % satisfied, CES mean 1..7, sentiment mean -1..1, "
        "positive_share/negative_share % of comments; null with no responses"
    )
    count: int = Field(description="Responses counted")
    margin_of_error: float | None = Field(
        description="Half-width of the 95% interval, in the value's units; null below 2 responses"
    )
    ci_low: float | None
    ci_high: float | None
    reliable: bool = Field(description="False when count is below min_count")
    min_count: int
    breakdown: dict[str, int] = Field(
        description="nps: promoters/passives/detractors; csat: satisfied/unsatisfied; "
        "ces: low_effort (5-7)/neutral (4)/high_effort (1-3); sentiment measures: "
        "negative/neutral/positive comments"
    )
    mean_score: float | None


class GroupStat(Stat):
    """One part of a breakdown."""

    key: str | None = Field(description="The group's dimension or tag value; null when absent")


class Window(BaseModel):
    """The half-open interval of event time covered."""

    from_: datetime = Field(alias="from")
    to: datetime


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def stat(metric: Measure, tally: Tally, min_count: int) -> dict[str, Any]:
    """The response fields of one value."""
    value = compute(metric, tally, min_count=min_count)
    low, mid, high = _BAND_NAMES[metric]
    breakdown = {low: tally.low, high: tally.high} | ({mid: tally.mid} if mid else {})
    return {
        "value": _round(value.value),
        "count": value.count,
        "margin_of_error": _round(value.margin_of_error),
        "ci_low": _round(value.ci_low),
        "ci_high": _round(value.ci_high),
        "reliable": value.reliable,
        "min_count": value.min_count,
        "breakdown": breakdown,
        "mean_score": _round(tally.score_sum / tally.count) if tally.count else None,
    }


def totals(grid: Grid, points: int) -> list[Tally]:
    """The whole per interval: the sum of every group."""
    out = [Tally() for _ in range(points)]
    for (i, _), t in grid.items():
        out[i] = out[i] + t
    return out


def split_groups(grid: Grid, points: int) -> dict[Key, list[Tally]]:
    """Per group key, its tally in every interval; groups with no responses are left out.

    Ordered by total count (largest first), then key, with the null group last.
    """
    groups: dict[Key, list[Tally]] = {}
    for (i, key), t in grid.items():
        groups.setdefault(key, [Tally() for _ in range(points)])[i] += t
    kept = {k: v for k, v in groups.items() if sum(t.count for t in v)}
    if len(kept) > MAX_GROUPS or len(kept) * points > MAX_CELLS:
        raise bad_param(
            "query.group_by",
            f"{len(kept)} groups x {points} points is more than one answer holds "
            f"(at most {MAX_GROUPS} groups and {MAX_CELLS} points); add a filter or shorten the window",
        )

    def order(item: tuple[Key, list[Tally]]) -> tuple[bool, int, str]:
        key, series = item
        return (key is None, -sum(t.count for t in series), key or "")

    return dict(sorted(kept.items(), key=order))


def keys_and_totals(groups: dict[Key, list[Tally]]) -> Iterable[tuple[Key, Tally]]:
    """Each group with its tally over all intervals."""
    for key, series in groups.items():
        total = Tally()
        for t in series:
            total += t
        yield key, total
