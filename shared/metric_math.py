"""Score arithmetic for the three CX metrics (NPS, CSAT, CES).

Responses are reduced to an additive `Tally` (count, sum, sum of squares and
low/mid/high band counts), which is what the database stores per bucket.
`compute` turns a tally into the metric value, its sample count, a 95% margin
of error and interval, and a reliability flag. Nothing is rounded here.

- NPS (0-10): % promoters (9-10) minus % detractors (0-6); normal
  approximation on per-response scores +1/0/-1 with the sample variance.
- CSAT (1-5): % of 4-5 responses; Wilson score interval.
- CES (1-7): mean score; Student-t interval from the sample standard deviation.

Comment sentiment is tallied the same way under the stored metric 'sentiment' (score
-1..1; low/mid/high = negative/neutral/positive) and read as three measures:
- sentiment: mean score -1..1; Student-t interval from the sample standard deviation.
- positive_share / negative_share: % of comments positive / negative; Wilson interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Metric = Literal["nps", "csat", "ces"]
Band = Literal["low", "mid", "high"]
SentimentMeasure = Literal["sentiment", "positive_share", "negative_share"]
# One flat Literal (not a union of two), so a bad path value gets one plain validation error.
Measure = Literal["nps", "csat", "ces", "sentiment", "positive_share", "negative_share"]
"""Anything `compute` can turn a tally into: a CX metric or a reading of comment sentiment."""

METRICS: tuple[Metric, ...] = ("nps", "csat", "ces")
SENTIMENT: Literal["sentiment"] = "sentiment"
SENTIMENT_MEASURES: tuple[SentimentMeasure, ...] = ("sentiment", "positive_share", "negative_share")
MEASURES: tuple[Measure, ...] = (*METRICS, *SENTIMENT_MEASURES)
SENTIMENT_BANDS: dict[Band, str] = {"low": "negative", "mid": "neutral", "high": "positive"}
SCALES: dict[Metric, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
MIN_RELIABLE_COUNT: int = 30

_Z95 = 1.96
# Two-sided 95% Student-t quantiles by degrees of freedom; beyond 120 df, z = 1.96.
# fmt: off
_T95_1_TO_30 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)
# fmt: on
_T95: dict[int, float] = {
    **dict(zip(range(1, 31), _T95_1_TO_30, strict=True)),
    40: 2.021,
    60: 2.000,
    120: 1.980,
}
_METHODS: dict[Metric, str] = {
    "nps": "normal approximation on per-response scores +1/0/-1 (unbiased sample variance), z=1.96",
    "csat": "Wilson score interval for the share of 4-5 responses, z=1.96",
    "ces": "Student-t interval on the mean score from the sample standard deviation, 95% two-sided",
}
_SENTIMENT_METHODS: dict[SentimentMeasure, str] = {
    "sentiment": "Student-t interval on the mean comment sentiment (-1..1) from the sample "
    "standard deviation, 95% two-sided",
    "positive_share": "Wilson score interval for the share of positive comments, z=1.96",
    "negative_share": "Wilson score interval for the share of negative comments, z=1.96",
}


def stored_metric(measure: Measure) -> str:
    """The bucket metric a measure is read from: sentiment measures share the 'sentiment' tallies."""
    return SENTIMENT if measure in SENTIMENT_MEASURES else measure


def _check_metric(metric: str) -> None:
    if metric not in SCALES:
        raise ValueError(f"unknown metric {metric!r}, expected one of {', '.join(METRICS)}")


def score_problem(metric: Metric, score: float) -> str | None:
    """Validate one response: None if acceptable for the metric, else a sentence saying why not."""
    _check_metric(metric)
    lo, hi = SCALES[metric]
    ok = (
        not isinstance(score, bool)
        and isinstance(score, int | float)
        and math.isfinite(score)
        and float(score).is_integer()
        and lo <= score <= hi
    )
    if ok:
        return None
    shown = f"{score:g}" if isinstance(score, float) else repr(score)
    return f"{metric} scores are whole numbers from {lo} to {hi}, got {shown}"


def band(metric: Metric, score: int) -> Band:
    """Classify a valid score as low/mid/high (nps: detractor/passive/promoter) for explanation."""
    problem = score_problem(metric, score)
    if problem is not None:
        raise ValueError(problem)
    if metric == "nps":
        return "low" if score <= 6 else "mid" if score <= 8 else "high"
    if metric == "csat":
        return "low" if score <= 3 else "high"
    return "low" if score <= 3 else "mid" if score == 4 else "high"


def band_scores(metric: Metric, which: Band) -> list[int]:
    """The scores that fall in a band, for code that classifies in SQL rather than in Python."""
    lo, hi = SCALES[metric]
    return [s for s in range(lo, hi + 1) if band(metric, s) == which]


@dataclass(frozen=True)
class Tally:
    """Additive sufficient statistics of one metric's responses; what the DB stores per bucket."""

    count: int = 0
    score_sum: float = 0.0
    score_sq_sum: float = 0.0
    low: int = 0
    mid: int = 0
    high: int = 0

    def __add__(self, other: Tally) -> Tally:
        """Merge two tallies of the same metric (e.g. two buckets into one window)."""
        if not isinstance(other, Tally):
            return NotImplemented
        return Tally(
            count=self.count + other.count,
            score_sum=self.score_sum + other.score_sum,
            score_sq_sum=self.score_sq_sum + other.score_sq_sum,
            low=self.low + other.low,
            mid=self.mid + other.mid,
            high=self.high + other.high,
        )

    def __sub__(self, other: Tally) -> Tally:
        """The responses of this tally that are not in `other` (which must be a part of it)."""
        if not isinstance(other, Tally):
            return NotImplemented
        return Tally(
            count=self.count - other.count,
            score_sum=self.score_sum - other.score_sum,
            score_sq_sum=self.score_sq_sum - other.score_sq_sum,
            low=self.low - other.low,
            mid=self.mid - other.mid,
            high=self.high - other.high,
        )


def tally_of(metric: Metric, scores: Iterable[int]) -> Tally:
    """Tally raw scores (for tests and recomputation); raises ValueError on an invalid score."""
    count, total, total_sq = 0, 0.0, 0.0
    bands = {"low": 0, "mid": 0, "high": 0}
    for score in scores:
        bands[band(metric, score)] += 1
        count += 1
        total += score
        total_sq += score * score
    return Tally(count, total, total_sq, bands["low"], bands["mid"], bands["high"])


@dataclass(frozen=True)
class MetricValue:
    """One metric value with its sample count, 95% margin of error/interval and reliability flag."""

    metric: Measure
    value: float | None
    count: int
    margin_of_error: float | None
    ci_low: float | None
    ci_high: float | None
    reliable: bool
    min_count: int
    method: str


def t_quantile_95(df: int) -> float:
    """Two-sided 95% Student-t quantile for df degrees of freedom (nearest lower table entry)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    if df > 120:
        return _Z95
    return _T95[max(k for k in _T95 if k <= df)]


def _clip(x: float, lo: float, hi: float) -> float:
    return min(hi, max(lo, x))


def _nps(t: Tally) -> tuple[float, float | None]:
    n = t.count
    value = 100.0 * (t.high - t.low) / n
    if n < 2:
        return value, None
    mean = (t.high - t.low) / n
    var_pop = max(0.0, (t.high + t.low) / n - mean * mean)
    var_sample = var_pop * n / (n - 1)
    return value, _Z95 * 100.0 * math.sqrt(var_sample / n)


def _wilson(successes: int, n: int) -> tuple[float, float]:
    p, z2 = successes / n, _Z95 * _Z95
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = _Z95 * math.sqrt(max(0.0, p * (1 - p) / n + z2 / (4 * n * n))) / denom
    return 100.0 * max(0.0, centre - half), 100.0 * min(1.0, centre + half)


def _ces(t: Tally) -> tuple[float, float | None]:
    n = t.count
    value = t.score_sum / n
    if n < 2:
        return value, None
    var = max(0.0, (t.score_sq_sum - t.score_sum * t.score_sum / n) / (n - 1))
    return value, t_quantile_95(n - 1) * math.sqrt(var) / math.sqrt(n)


def _sentiment(measure: SentimentMeasure, t: Tally) -> tuple[float, float | None]:
    """Value and 95% margin of a sentiment measure over a non-empty tally (shares: Wilson)."""
    n = t.count
    if measure != "sentiment":
        hits = t.high if measure == "positive_share" else t.low
        low, high = _wilson(hits, n)
        return 100.0 * hits / n, (high - low) / 2
    value = t.score_sum / n
    if n < 2:
        return value, None
    var = max(0.0, (t.score_sq_sum - t.score_sum * t.score_sum / n) / (n - 1))
    return value, t_quantile_95(n - 1) * math.sqrt(var) / math.sqrt(n)


def compute(metric: Measure, tally: Tally, *, min_count: int = MIN_RELIABLE_COUNT) -> MetricValue:
    """Turn a tally into the value, its 95% interval and reliability flag."""
    n = tally.count
    bins = (tally.low, tally.mid, tally.high)
    if n < 0 or min(bins) < 0 or sum(bins) != n:
        raise ValueError(f"inconsistent tally: {tally}")
    if metric in SENTIMENT_MEASURES:
        return _compute_sentiment(metric, tally, min_count)
    _check_metric(metric)
    value: float | None = None
    margin: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    if n > 0 and metric == "csat":
        value = 100.0 * tally.high / n
        ci_low, ci_high = _wilson(tally.high, n)
        margin = (ci_high - ci_low) / 2
    elif n > 0:
        value, margin = _nps(tally) if metric == "nps" else _ces(tally)
        if margin is not None:
            lo, hi = (-100.0, 100.0) if metric == "nps" else (1.0, 7.0)
            ci_low, ci_high = _clip(value - margin, lo, hi), _clip(value + margin, lo, hi)
    return MetricValue(
        metric=metric,
        value=value,
        count=n,
        margin_of_error=margin,
        ci_low=ci_low,
        ci_high=ci_high,
        reliable=n >= min_count,
        min_count=min_count,
        method=_METHODS[metric],  # type: ignore[index]
    )


def _compute_sentiment(measure: SentimentMeasure, tally: Tally, min_count: int) -> MetricValue:
    value: float | None = None
    margin: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    if tally.count:
        value, margin = _sentiment(measure, tally)
        if measure != "sentiment":
            hits = tally.high if measure == "positive_share" else tally.low
            ci_low, ci_high = _wilson(hits, tally.count)
        elif margin is not None:
            ci_low, ci_high = _clip(value - margin, -1.0, 1.0), _clip(value + margin, -1.0, 1.0)
    return MetricValue(
        metric=measure,
        value=value,
        count=tally.count,
        margin_of_error=margin,
        ci_low=ci_low,
        ci_high=ci_high,
        reliable=tally.count >= min_count,
        min_count=min_count,
        method=_SENTIMENT_METHODS[measure],
    )
