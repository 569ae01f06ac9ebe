"""Each response as a number on its metric's scale, and the mean and variance of those numbers.

NPS: +100 promoter, 0 passive, -100 detractor; CSAT: 100 for a 4 or 5, else 0; CES: the
score. The mean of these is the metric value, and mean and variance come straight from a
tally, which is what lets key drivers and alert rules run two-sample tests on bucket sums.
"""

from __future__ import annotations

from shared.metric_math import Metric, Tally


def response_moments(metric: Metric, tally: Tally) -> tuple[float, float | None] | None:
    """Mean (the metric value) and unbiased sample variance of the per-response values.

    None without responses; the variance is None for a single response, where it is unknown.
    """
    n = tally.count
    if n < 1:
        return None
    if metric == "nps":
        mean = 100.0 * (tally.high - tally.low) / n
        mean_sq = 10_000.0 * (tally.high + tally.low) / n
    elif metric == "csat":
        mean = 100.0 * tally.high / n
        mean_sq = 10_000.0 * tally.high / n
    else:
        mean = tally.score_sum / n
        mean_sq = tally.score_sq_sum / n
    if n < 2:
        return mean, None
    return mean, max(0.0, mean_sq - mean * mean) * n / (n - 1)


def response_mean(metric: Metric, tally: Tally) -> float | None:
    """The metric value as the mean of the per-response values; None without responses."""
    moments = response_moments(metric, tally)
    return None if moments is None else moments[0]
