"""Sentiment measures over tallies: the mean with a Student-t margin, shares with Wilson."""

from __future__ import annotations

import math
import statistics

import pytest

from shared.metric_math import Tally, compute, stored_metric


def sentiment_tally(scores: list[float], labels: list[str]) -> Tally:
    return Tally(
        count=len(scores),
        score_sum=sum(scores),
        score_sq_sum=sum(s * s for s in scores),
        low=labels.count("negative"),
        mid=labels.count("neutral"),
        high=labels.count("positive"),
    )


def test_mean_sentiment_and_its_t_interval() -> None:
    scores = [-0.8, 0.6, 0.9, 0.0, 0.4]
    tally = sentiment_tally(scores, ["negative", "positive", "positive", "neutral", "positive"])
    value = compute("sentiment", tally, min_count=5)
    margin = 2.776 * statistics.stdev(scores) / math.sqrt(5)  # t(4)
    assert value.value == pytest.approx(statistics.mean(scores))
    assert value.margin_of_error == pytest.approx(margin)
    assert value.ci_low == pytest.approx(max(-1.0, statistics.mean(scores) - margin))
    assert value.ci_high == pytest.approx(min(1.0, statistics.mean(scores) + margin))
    assert value.reliable and value.metric == "sentiment"


def test_shares_use_the_wilson_interval_in_percent() -> None:
    tally = sentiment_tally([0.5] * 3 + [-0.5], ["positive"] * 3 + ["negative"])
    positive = compute("positive_share", tally)
    n, p, z = 4, 0.75, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert positive.value == pytest.approx(75.0)
    assert (positive.ci_low, positive.ci_high) == pytest.approx(
        (100 * (centre - half), 100 * (centre + half))
    )
    assert compute("negative_share", tally).value == pytest.approx(25.0)


def test_empty_and_single_comment_tallies() -> None:
    assert compute("sentiment", Tally()).value is None
    single = compute("sentiment", sentiment_tally([0.3], ["positive"]))
    assert single.value == pytest.approx(0.3) and single.margin_of_error is None
    assert stored_metric("negative_share") == stored_metric("sentiment") == "sentiment"
    assert stored_metric("nps") == "nps"
    with pytest.raises(ValueError, match="inconsistent"):
        compute("sentiment", Tally(count=2, low=1))
