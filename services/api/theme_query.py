"""Theme reads: how often each theme is mentioned, how comments about it feel, and what it
does to NPS or CSAT; all summed from `theme_bucket` like any metric read (see metric_query).

A comment mentioning two themes counts for both, so theme counts do not add up to the
number of comments; shares are of analysed comments in the same window and filters.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.metric_query import Filters, GroupBy, tallies
from services.api.metric_schema import split_groups, totals
from shared.driver_math import driver
from shared.metric_math import SENTIMENT, Metric, Tally, compute
from shared.models import ThemeDefinition

BY_THEME = GroupBy(dimension="theme")


def _round(x: float | None, digits: int = 2) -> float | None:
    return None if x is None else round(x, digits)


def theme_names(session: Session) -> dict[str, tuple[str, str | None]]:
    """English and Arabic names of every theme in the taxonomy, in key order."""
    rows = session.execute(
        select(ThemeDefinition.key, ThemeDefinition.name_en, ThemeDefinition.name_ar).order_by(
            ThemeDefinition.key
        )
    )
    return {key: (en, ar) for key, en, ar in rows}


def _named(key: str, names: dict[str, tuple[str, str | None]]) -> dict[str, Any]:
    en, ar = names.get(key, (None, None))
    return {"key": key, "name_en": en, "name_ar": ar}


def theme_figures(tally: Tally, comments: int) -> dict[str, Any]:
    """Count, share of comments and mean sentiment of one theme's comments."""
    mean = compute(SENTIMENT, tally)
    return {
        "count": tally.count,
        "share": _round(100.0 * tally.count / comments) if comments else None,
        "sentiment": _round(mean.value, 3),
        "sentiment_margin_of_error": _round(mean.margin_of_error, 3),
        "sentiment_breakdown": {
            "negative": tally.low,
            "neutral": tally.mid,
            "positive": tally.high,
        },
    }


def theme_overview(
    *, session: Session, start: datetime, end: datetime, filters: Filters
) -> dict[str, Any]:
    """Every theme of the taxonomy (and any other with mentions), most mentioned first."""
    cuts = [start, end]
    (comments,) = totals(tallies(session=session, metric=SENTIMENT, cuts=cuts, filters=filters), 1)
    grid = tallies(session=session, metric=SENTIMENT, cuts=cuts, filters=filters, group=BY_THEME)
    by_theme = {key: t for (_, key), t in grid.items() if key is not None}
    names = theme_names(session)
    keys = sorted(set(names) | set(by_theme), key=lambda k: (-by_theme.get(k, Tally()).count, k))
    return {
        "comments": comments.count,
        "themes": [
            _named(k, names) | theme_figures(by_theme.get(k, Tally()), comments.count) for k in keys
        ],
    }


def theme_series(
    *, session: Session, cuts: Sequence[datetime], filters: Filters, keys: Sequence[str]
) -> tuple[list[Tally], dict[str, list[Tally]]]:
    """Analysed comments per interval, and each asked theme's sentiment tallies per interval."""
    n = len(cuts) - 1
    comments = totals(tallies(session=session, metric=SENTIMENT, cuts=cuts, filters=filters), n)
    grid = tallies(session=session, metric=SENTIMENT, cuts=cuts, filters=filters, group=BY_THEME)
    wanted = set(keys)
    groups = split_groups({k: t for k, t in grid.items() if k[1] in wanted}, n)
    return comments, {k: groups.get(k, [Tally()] * n) for k in keys}


def drivers(
    *, session: Session, metric: Metric, start: datetime, end: datetime, filters: Filters
) -> dict[str, Any]:
    """The metric overall, and for each theme with and without its responses."""
    cuts = [start, end]
    (overall,) = totals(tallies(session=session, metric=metric, cuts=cuts, filters=filters), 1)
    grid = tallies(session=session, metric=metric, cuts=cuts, filters=filters, group=BY_THEME)
    names = theme_names(session)
    rows = []
    for (_, key), with_theme in grid.items():
        if key is None or not with_theme.count:
            continue
        d = driver(metric, overall=overall, with_theme=with_theme)
        rows.append(
            _named(key, names)
            | {
                "count_with": d.count_with,
                "count_without": d.count_without,
                "value_with": _round(d.value_with),
                "value_without": _round(d.value_without),
                "difference": _round(d.difference),
                "std_error": _round(d.std_error, 4),
                "z": _round(d.z, 3),
                "p_value": None if d.p_value is None else float(f"{d.p_value:.4g}"),
                "significant": d.significant,
                "impact": _round(d.impact),
            }
        )
    rows.sort(key=lambda r: (-abs(r["impact"] or 0.0), r["key"]))
    value = compute(metric, overall)
    return {"overall": {"value": _round(value.value), "count": overall.count}, "themes": rows}
