"""Turning query parameters into event-time ranges: rolling windows, from/to, and the local
interval boundaries (hours, days, ISO weeks) of a series in an IANA time zone.

Boundaries are computed here, once, with zoneinfo, and handed to SQL as a sorted array, so
days of 23 or 25 hours across a DST change come out right without any arithmetic in SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import Depends, Query
from pydantic import AwareDatetime

from shared.buckets import BUCKET, bucket_floor
from shared.problems import FieldError, ProblemError

_WINDOW = re.compile(r"^(\d{1,4})([hdw])$")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
MAX_SPAN = timedelta(days=3660)
MAX_POINTS = 2000

Interval = Literal["1h", "1d", "1w"]
IntervalQuery = Annotated[
    Interval, Query(description="1h, 1d (local midnight to midnight) or 1w (ISO, from Monday)")
]
TzQuery = Annotated[
    str, Query(max_length=64, description="IANA time zone, e.g. Asia/Riyadh; default UTC")
]


def bad_param(loc: str, msg: str) -> ProblemError:
    """A 422 problem naming the one query parameter that is wrong."""
    return ProblemError(
        422, "Invalid request", msg, errors=[FieldError(loc=loc, msg=msg, type="value_error")]
    )


def resolve_window(
    window: str | None, start: datetime | None, end: datetime | None, *, now: datetime
) -> tuple[datetime, datetime]:
    """Turn `window` or `from`/`to` into a concrete [start, end) or say which parameter is wrong."""
    if window is not None and start is not None:
        raise bad_param("query.window", "give either window or from/to, not both")
    end = (end or now).astimezone(UTC)
    if start is None:
        match = _WINDOW.match(window or "30d")
        if not match:
            raise bad_param("query.window", "must look like 1h, 24h, 7d, 30d or 90d")
        span = int(match.group(1)) * _UNIT[match.group(2)]
        if not timedelta(0) < span <= MAX_SPAN:
            raise bad_param("query.window", "must be more than zero and at most 3660 days")
        return end - span, end
    start = start.astimezone(UTC)
    if start >= end:
        raise bad_param("query.from", "must be earlier than to")
    if end - start > MAX_SPAN:
        raise bad_param("query.from", "from/to may span at most 3660 days")
    return start, end


def window_params(
    window: Annotated[
        str | None,
        Query(
            description="Rolling window ending at `to` (default now): 1h, 24h, 7d, 30d, 90d "
            "(any N h/d/w up to 3660 days). Default 30d."
        ),
    ] = None,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="Start (RFC 3339, inclusive)")
    ] = None,
    to: Annotated[
        AwareDatetime | None, Query(description="End (RFC 3339, exclusive); default now")
    ] = None,
) -> tuple[datetime, datetime]:
    """The [start, end) of event time a request asks about."""
    return resolve_window(window, from_, to, now=datetime.now(UTC))


WindowDep = Annotated[tuple[datetime, datetime], Depends(window_params)]


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`, or a 422 on query.tz."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_param("query.tz", f"{name!r} is not an IANA time zone name") from None


def _too_many(interval: str) -> ProblemError:
    return bad_param(
        "query.interval",
        f"the window holds more than {MAX_POINTS} intervals of {interval}; "
        "use a longer interval or a shorter window",
    )


def _hour_starts(start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    # Every offset in use is a multiple of 15 minutes, so each local hour starts on a UTC
    # quarter hour; walking the quarters finds them, including a repeated hour at a DST end.
    for at in (start, end):
        offset = at.astimezone(tz).utcoffset() or timedelta(0)
        if offset % BUCKET:
            raise bad_param("query.tz", f"offset {offset} at {at} is not a multiple of 15 minutes")
    out: list[datetime] = []
    at = bucket_floor(start) + BUCKET
    while at < end:
        if at.astimezone(tz).minute == 0:
            out.append(at)
            if len(out) >= MAX_POINTS:
                raise _too_many("1h")
        at += BUCKET
    return out


def _midnights(start: datetime, end: datetime, tz: ZoneInfo, days: int) -> list[datetime]:
    # A local midnight that a DST gap skips maps (fold=0) to the first instant of that day.
    day: date = start.astimezone(tz).date()
    if days == 7:
        day -= timedelta(days=day.weekday())
    out: list[datetime] = []
    while True:
        day += timedelta(days=days)
        at = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
        if at >= end:
            return out
        if at > start:
            out.append(at)
            if len(out) >= MAX_POINTS:
                raise _too_many(f"{days}d" if days == 1 else "1w")


def interval_cuts(
    start: datetime, end: datetime, interval: Interval, tz: ZoneInfo
) -> list[datetime]:
    """[start, every local interval start strictly inside the window, end], all in UTC.

    Consecutive cuts delimit the points of a series; the first and last may be partial
    intervals when the window does not start or end on a local boundary.
    """
    if interval == "1h":
        inner = _hour_starts(start, end, tz)
    else:
        inner = _midnights(start, end, tz, 1 if interval == "1d" else 7)
    return [start, *inner, end]


def on_boundary(at: datetime, interval: Interval, tz: ZoneInfo) -> bool:
    """Whether a local interval starts at `at` (so a point starting or ending there is whole)."""
    local = at.astimezone(tz)
    if local.minute or local.second or local.microsecond:
        return False
    if interval == "1h":
        return True
    return local.hour == 0 and (interval == "1d" or local.weekday() == 0)


@dataclass(frozen=True)
class IntervalGrid:
    """The intervals of a series: where to cut the buckets, and what each point says of its own."""

    cuts: list[datetime]
    """[start, each local interval start inside the window, end], in UTC, for the query."""
    spans: list[dict[str, Any]]
    """Per interval, oldest first: its local `start` and `end` and whether it is `partial`."""


def interval_grid(start: datetime, end: datetime, interval: Interval, tz: str) -> IntervalGrid:
    """Cut [start, end) into local intervals of `tz`, or a 422 naming tz or interval."""
    zone_info = zone(tz)
    cuts = interval_cuts(start, end, interval, zone_info)
    edges = [c.astimezone(zone_info) for c in cuts]
    last = len(cuts) - 2
    spans = [
        {
            "start": a,
            "end": b,
            "partial": (i == 0 and not on_boundary(start, interval, zone_info))
            or (i == last and not on_boundary(end, interval, zone_info)),
        }
        for i, (a, b) in enumerate(pairwise(edges))
    ]
    return IntervalGrid(cuts=cuts, spans=spans)
