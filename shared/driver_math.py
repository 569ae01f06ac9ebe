"""Key-driver arithmetic: what a theme's responses do to a CX metric, from additive tallies.

For a theme, the responses mentioning it (`with_`) are compared with all the others
(`without` = overall minus with_). Each metric is a mean of a per-response value, which
is what makes the test and the impact exact functions of the tallies:
- NPS: +100 promoter, 0 passive, -100 detractor (so the mean is the NPS);
- CSAT: 100 for a 4-5, else 0 (the mean is % satisfied);
- CES: the score itself.

Significance is Welch's two-sample test in its large-sample (normal) form: the difference
of means over sqrt(var_with/n_with + var_without/n_without), with unbiased sample
variances, and a two-sided p-value from the standard normal. Impact is how many points the
theme moves the overall value: overall minus the value without the theme's responses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shared.metric_math import Metric, Tally
from shared.response_moments import response_moments

SIGNIFICANCE_LEVEL = 0.05
METHOD = (
    "Welch two-sample test, normal approximation, on per-response values (NPS +100/0/-100, "
    "CSAT 100/0, CES score) with unbiased sample variances; two-sided p-value; "
    f"significant when p < {SIGNIFICANCE_LEVEL}"
)


def two_sided_p(z: float) -> float:
    """P(|Z| >= |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2.0))


@dataclass(frozen=True)
class Driver:
    """One theme's effect on a metric; values in the metric's units (NPS points, % or score)."""

    count_with: int
    count_without: int
    value_with: float | None
    value_without: float | None
    difference: float | None
    std_error: float | None
    z: float | None
    p_value: float | None
    significant: bool
    impact: float | None


def driver(metric: Metric, *, overall: Tally, with_theme: Tally) -> Driver:
    """Compare responses mentioning a theme with the rest, and the theme's impact on the whole."""
    without = overall - with_theme
    a, b = response_moments(metric, with_theme), response_moments(metric, without)
    whole = response_moments(metric, overall)
    difference = std_error = z = p = None
    if a is not None and b is not None:
        difference = a[0] - b[0]
        if a[1] is not None and b[1] is not None:  # both sides have 2 responses or more
            std_error = math.sqrt(a[1] / with_theme.count + b[1] / without.count)
            if std_error > 0:
                z = difference / std_error
                p = two_sided_p(z)
    impact = whole[0] - b[0] if whole is not None and b is not None else None
    return Driver(
        count_with=with_theme.count,
        count_without=without.count,
        value_with=None if a is None else a[0],
        value_without=None if b is None else b[0],
        difference=difference,
        std_error=std_error,
        z=z,
        p_value=p,
        significant=p is not None and p < SIGNIFICANCE_LEVEL,
        impact=impact,
    )
