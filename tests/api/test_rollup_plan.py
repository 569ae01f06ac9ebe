"""Which parts of a window the hour and day rollups may answer: never across an interval boundary."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from services.api.rollup_plan import DAY, HOUR, coarse_spans

T0 = datetime(2026, 3, 1, tzinfo=UTC)
QUARTER = timedelta(minutes=15)


def _units(span: tuple[datetime, datetime], unit: timedelta) -> list[datetime]:
    starts = []
    t = span[0]
    while t < span[1]:
        starts.append(t)
        t += unit
    return starts


def test_a_utc_window_of_whole_days_is_read_from_days_with_hours_at_the_edges() -> None:
    lo, hi = T0 + timedelta(hours=13, minutes=30), T0 + timedelta(days=30, hours=9)
    spans = coarse_spans(lo, hi, [lo, hi])
    assert spans[DAY] == [(T0 + DAY, T0 + timedelta(days=30))]
    assert spans[HOUR] == [
        (T0 + timedelta(hours=14), T0 + DAY),
        (T0 + timedelta(days=30), T0 + timedelta(days=30, hours=9)),
    ]


def test_midnights_of_a_whole_hour_zone_make_hours_not_days() -> None:
    cuts = [T0 + timedelta(days=d, hours=5) for d in range(4)]  # New York midnights in winter
    spans = coarse_spans(cuts[0], cuts[-1], cuts)
    assert spans[DAY] == []
    assert spans[HOUR] == [(cuts[0], cuts[-1])]


def test_half_hour_zone_midnights_leave_their_hour_to_quarter_hours() -> None:
    cuts = [T0 + timedelta(days=d, hours=18, minutes=30) for d in range(3)]  # India midnights
    spans = coarse_spans(cuts[0], cuts[-1], cuts)
    assert spans[DAY] == []
    assert spans[HOUR] == [
        (T0 + timedelta(hours=19), T0 + timedelta(days=1, hours=18)),
        (T0 + timedelta(days=1, hours=19), T0 + timedelta(days=2, hours=18)),
    ]


quarters = st.integers(min_value=0, max_value=4 * 24 * 9)


@given(quarters, quarters, st.lists(st.integers(min_value=0, max_value=60 * 24 * 9), max_size=8))
def test_spans_stay_inside_never_straddle_a_cut_and_take_every_free_day(
    a: int, b: int, cut_minutes: list[int]
) -> None:
    lo, hi = sorted((T0 + a * QUARTER, T0 + b * QUARTER))
    cuts = sorted({lo, hi, *(T0 + timedelta(minutes=m) for m in cut_minutes)})
    spans = coarse_spans(lo, hi, cuts)
    covered: list[tuple[datetime, datetime]] = []
    for unit, unit_spans in spans.items():
        for span in unit_spans:
            assert lo <= span[0] < span[1] <= hi
            for start in _units(span, unit):
                assert (start - T0) % unit == timedelta(0)
                assert not any(start < c < start + unit for c in cuts)
            covered.append(span)
    covered.sort()
    assert all(x[1] <= y[0] for x, y in itertools.pairwise(covered)), "overlap"
    day = T0
    while day + DAY <= T0 + 10 * DAY:
        if lo <= day and day + DAY <= hi and not any(day < c < day + DAY for c in cuts):
            assert any(s <= day and day + DAY <= e for s, e in spans[DAY])
        day += DAY
