"""Statistics behind alert rules, as pure functions over bucket tallies.

A drop rule compares the recent window with a baseline window. Each response is a number
on the metric's own scale (NPS: +100 promoter, 0 passive, -100 detractor; CSAT: 100 for a 4
or 5, else 0; CES: the score), so both windows have a mean (the metric value) and a sample
variance straight from the tally. Welch's two-sample t-test on those means and variances
says how likely a difference that large would be by chance alone; a rule fires only when
the drop is both large enough to matter (points) and unlikely to be noise (confidence).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from shared.metric_math import Metric, Tally
from shared.response_moments import response_mean, response_moments

Direction = Literal["below", "above"]


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """Lentz's evaluation of the incomplete beta continued fraction (Numerical Recipes 6.4)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        m2 = 2 * m
        step = 1.0
        for numerator in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            step = d * c
            h *= step
        if abs(step - 1.0) < 3e-16:
            break
    return h


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function, for a, b > 0 and 0 <= x <= 1."""
    if not 0.0 <= x <= 1.0:
        raise ValueError(f"x must be in [0, 1], got {x}")
    if x in (0.0, 1.0):
        return x
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    front = math.exp(log_front)
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def student_t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with df (possibly fractional) degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    if math.isinf(t):
        return 1.0 if t > 0 else 0.0
    tail = 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return tail if t < 0 else 1.0 - tail


@dataclass(frozen=True)
class DropTest:
    """The numbers behind a drop decision, stored on the alert so a person can judge it."""

    recent_value: float | None
    baseline_value: float | None
    recent_count: int
    baseline_count: int
    difference: float | None
    statistic: float | None
    degrees_of_freedom: float | None
    p_value: float | None
    holds: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the alert's evidence."""
        return {"condition": "drop", **asdict(self)}


def drop_test(
    metric: Metric,
    recent: Tally,
    baseline: Tally,
    *,
    min_points: float,
    confidence: float,
    min_count: int,
) -> DropTest:
    """Whether recent is below baseline by min_points or more, significantly (one-sided Welch)."""
    counts = {"recent_count": recent.count, "baseline_count": baseline.count}
    if recent.count < max(2, min_count) or baseline.count < max(2, min_count):
        return DropTest(
            recent_value=response_mean(metric, recent),
            baseline_value=response_mean(metric, baseline),
            **counts,
            difference=None,
            statistic=None,
            degrees_of_freedom=None,
            p_value=None,
            holds=False,
            reason=f"fewer than {min_count} responses in a window",
        )
    # Both windows hold 2 responses or more here, so each has a mean and a variance.
    moments_r, moments_b = response_moments(metric, recent), response_moments(metric, baseline)
    assert moments_r is not None and moments_b is not None
    (mean_r, var_r), (mean_b, var_b) = moments_r, moments_b
    assert var_r is not None and var_b is not None
    diff = mean_r - mean_b
    se_sq_r, se_sq_b = var_r / recent.count, var_b / baseline.count
    se = math.sqrt(se_sq_r + se_sq_b)
    if se == 0.0:
        statistic = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        df = float(recent.count + baseline.count - 2)
        p_value = 0.5 if diff == 0 else (0.0 if diff < 0 else 1.0)
    else:
        statistic = diff / se
        denominator = se_sq_r**2 / (recent.count - 1) + se_sq_b**2 / (baseline.count - 1)
        df = (se_sq_r + se_sq_b) ** 2 / denominator
        p_value = student_t_cdf(statistic, df)
    big_enough = -diff >= min_points
    significant = p_value < 1.0 - confidence
    reason = (
        "dropped significantly"
        if big_enough and significant
        else "drop smaller than min_points"
        if not big_enough
        else "drop not significant at the confidence asked"
    )
    return DropTest(
        recent_value=mean_r,
        baseline_value=mean_b,
        **counts,
        difference=diff,
        statistic=statistic if math.isfinite(statistic) else None,
        degrees_of_freedom=df,
        p_value=p_value,
        holds=big_enough and significant,
        reason=reason,
    )


@dataclass(frozen=True)
class ThresholdTest:
    """The numbers behind a threshold decision."""

    value: float | None
    count: int
    level: float
    direction: Direction
    holds: bool

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for the alert's evidence."""
        return {"condition": "threshold", **asdict(self)}


def threshold_test(
    metric: Metric, tally: Tally, *, level: float, direction: Direction, min_count: int
) -> ThresholdTest:
    """Whether the window's value is below (or above) level, on at least min_count responses."""
    value = response_mean(metric, tally)
    holds = (
        value is not None
        and tally.count >= min_count
        and (value < level if direction == "below" else value > level)
    )
    return ThresholdTest(
        value=value, count=tally.count, level=level, direction=direction, holds=holds
    )


def backoff_seconds(attempt: int, *, base: float, cap: float, jitter: float) -> float:
    """Delay before retry number `attempt` (1 = first retry): full jitter over a doubling cap.

    `jitter` is a uniform draw from [0, 1), passed in so the function stays pure; full jitter
    spreads the retries of many failed deliveries instead of sending them in waves.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    if not 0.0 <= jitter < 1.0:
        raise ValueError(f"jitter must be in [0, 1), got {jitter}")
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 60))
    return jitter * ceiling
