"""Which parts of a window can be read from the hour and day rollups instead of quarter-hour buckets.

A 30-day window holds about 2,900 quarter hours per combination of dimensions; summing
those rows is what made a 30-day value cost a hundred milliseconds over a year of data.
The same tallies are also kept per UTC hour and per UTC day, and a unit can stand in for
its quarter hours whenever no interval boundary (cut) falls strictly inside it: then every
response in the unit belongs to the same interval, the one its start belongs to.

Days come first, then hours, then quarter hours for the rest, so a window in UTC reads a
few rows per day, a series in a zone with a whole-hour offset reads hours, and one in a
zone such as +05:30 reads hours between its midnights and quarter hours around them.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import datetime, timedelta

from shared.buckets import ORIGIN

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
UNITS = (DAY, HOUR)

Span = tuple[datetime, datetime]


def _aligned(at: datetime, unit: timedelta) -> bool:
    return (at - ORIGIN) % unit == timedelta(0)


def _cut_inside(sorted_cuts: Sequence[datetime], lo: datetime, hi: datetime) -> bool:
    """Whether some cut c has lo < c < hi."""
    i = bisect_right(sorted_cuts, lo)
    return i < len(sorted_cuts) and sorted_cuts[i] < hi


def coarse_spans(
    lo: datetime, hi: datetime, cuts: Sequence[datetime]
) -> dict[timedelta, list[Span]]:
    """Spans of [lo, hi) (quarter-hour aligned) covered by whole days, then whole hours.

    A unit is used only if it lies inside [lo, hi) and no cut falls strictly inside it.
    Consecutive units of one size are merged into one span; what is in no span is left
    to the quarter-hour buckets.
    """
    ordered = sorted(cuts)
    spans: dict[timedelta, list[Span]] = {unit: [] for unit in UNITS}
    t = lo
    while t < hi:
        for unit in UNITS:
            if _aligned(t, unit) and t + unit <= hi and not _cut_inside(ordered, t, t + unit):
                taken = spans[unit]
                if taken and taken[-1][1] == t:
                    taken[-1] = (taken[-1][0], t + unit)
                else:
                    taken.append((t, t + unit))
                t += unit
                break
        else:
            t = _next_boundary(t)
    return spans


def _next_boundary(t: datetime) -> datetime:
    """The next instant at which an hour could start (quarter hours are left to the buckets)."""
    return t + (HOUR - (t - ORIGIN) % HOUR)
