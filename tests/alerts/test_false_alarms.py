"""The default drop rule on long simulated streams: how often it cries wolf, how fast it sees a drop.

Seeded, in memory, through the same `drop_test` the engine runs, with the API's default
parameters, evaluated hourly as a scheduled pass would be. The numbers are quoted in the
README; `pytest -s` prints them.
"""

from __future__ import annotations

import random
import statistics
from itertools import accumulate

from services.api.routes.alert_rules import DropCondition
from shared.alert_math import drop_test
from shared.metric_math import Tally, tally_of

STEADY = (0.5, 0.3)  # promoter and passive shares: NPS 30
DROPPED = (0.45, 0.3)  # detractors 20% -> 25%: NPS 20, a real 10-point drop
RULE = DropCondition(type="drop")
RECENT_H = RULE.recent_window_seconds // 3600
WARM_H = RECENT_H + RULE.baseline_window_seconds // 3600


def _hour(rng: random.Random, shares: tuple[float, float], per_hour: int) -> Tally:
    scores = []
    for _ in range(per_hour):
        u = rng.random()
        scores.append(10 if u < shares[0] else 8 if u < shares[0] + shares[1] else 3)
    return tally_of("nps", scores)


def _between(cum: list[Tally], start: int, end: int) -> Tally:
    a, b = cum[start], cum[end]
    return Tally(
        b.count - a.count,
        b.score_sum - a.score_sum,
        b.score_sq_sum - a.score_sq_sum,
        b.low - a.low,
        b.mid - a.mid,
        b.high - a.high,
    )


def _holds(cum: list[Tally], at: int) -> bool:
    """Whether the default rule holds over the hours before `at` (cum[i] sums hours < i)."""
    return drop_test(
        "nps",
        _between(cum, at - RECENT_H, at),
        _between(cum, at - WARM_H, at - RECENT_H),
        min_points=RULE.min_points,
        confidence=RULE.confidence,
        min_count=RULE.min_count,
    ).holds


def false_alarms(*, seed: int, days: int, per_hour: int) -> tuple[float, int]:
    """Share of hourly evaluations that hold, and alert episodes, on a stream with no change."""
    rng = random.Random(seed)
    hours = [_hour(rng, STEADY, per_hour) for _ in range(WARM_H + days * 24)]
    cum = [Tally(), *accumulate(hours)]
    holding = [_holds(cum, at) for at in range(WARM_H, len(hours) + 1)]
    episodes = sum(1 for i, h in enumerate(holding) if h and (i == 0 or not holding[i - 1]))
    return sum(holding) / len(holding), episodes


def detection_delay(*, seed: int, per_hour: int, max_hours: int = 96) -> int | None:
    """Hours from a real 10-point drop until the default rule holds (None if not within max)."""
    rng = random.Random(seed)
    hours = [_hour(rng, STEADY, per_hour) for _ in range(WARM_H)]
    hours += [_hour(rng, DROPPED, per_hour) for _ in range(max_hours)]
    cum = [Tally(), *accumulate(hours)]
    for delay in range(1, max_hours + 1):
        if _holds(cum, WARM_H + delay):
            return delay
    return None


def _report(per_hour: int) -> tuple[float, int, list[int | None]]:
    rate, episodes = false_alarms(seed=7, days=365, per_hour=per_hour)
    delays = [detection_delay(seed=s, per_hour=per_hour) for s in range(20)]
    seen = sorted(d for d in delays if d is not None)
    print(
        f"\n{per_hour * 24}/day: false alarms on {rate:.2%} of hourly evaluations, {episodes} "
        f"episodes in 365 days; 10-point drop seen in {len(seen)}/20 runs, "
        f"median {statistics.median(seen) if seen else None} h, max {seen[-1] if seen else None} h"
    )
    return rate, episodes, delays


def test_noise_alone_fires_the_default_rule_a_few_times_a_year_at_most() -> None:
    for per_hour in (10, 40):
        rate, episodes, _ = _report(per_hour)
        # Hourly evaluations overlap, so the measured share scatters around 1 - confidence.
        assert rate <= 2 * (1.0 - RULE.confidence)
        assert episodes <= 6


def test_a_10_point_drop_is_seen_within_a_day_typically_at_1000_responses_a_day() -> None:
    delays = [detection_delay(seed=s, per_hour=40) for s in range(20)]
    assert all(d is not None for d in delays), delays
    assert statistics.median(d for d in delays if d is not None) <= 24
