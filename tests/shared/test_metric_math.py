"""Unit tests for shared.metric_math: hand-computed cases plus a seeded property check."""

from __future__ import annotations

import math
import random

import pytest

from shared.metric_math import (
    METRICS,
    MIN_RELIABLE_COUNT,
    SCALES,
    Metric,
    Tally,
    band,
    compute,
    score_problem,
    t_quantile_95,
    tally_of,
)


def test_constants() -> None:
    assert METRICS == ("nps", "csat", "ces")
    assert SCALES == {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
    assert MIN_RELIABLE_COUNT == 30


def test_nps_hand_computed() -> None:
    # 5 promoters, 3 passives, 2 detractors, n = 10.
    # NPS = 100 * (5 - 2) / 10 = 30.0
    # m = 0.3; population variance v = (5 + 2)/10 - 0.3^2 = 0.7 - 0.09 = 0.61
    # sample variance s^2 = 0.61 * 10/9 = 0.677778
    # margin = 1.96 * 100 * sqrt(0.677778 / 10) = 196 * 0.260342 = 51.0270
    # interval = 30 +/- 51.027 -> [-21.027, 81.027] (inside [-100, 100], no clipping)
    mv = compute("nps", tally_of("nps", [9, 10, 9, 10, 9, 7, 8, 7, 0, 6]))
    assert mv.metric == "nps"
    assert mv.count == 10
    assert mv.value == pytest.approx(30.0)
    assert mv.margin_of_error == pytest.approx(51.027, abs=0.001)
    assert mv.ci_low == pytest.approx(-21.027, abs=0.001)
    assert mv.ci_high == pytest.approx(81.027, abs=0.001)
    assert mv.reliable is False
    assert "+1/0/-1" in mv.method


def test_nps_all_promoters_has_zero_margin() -> None:
    # v = 1 - 1^2 = 0 -> margin 0; interval collapses to [100, 100].
    mv = compute("nps", tally_of("nps", [9, 10] * 20))
    assert mv.value == pytest.approx(100.0)
    assert mv.margin_of_error == pytest.approx(0.0, abs=1e-12)
    assert mv.ci_low == pytest.approx(100.0)
    assert mv.ci_high == pytest.approx(100.0)


def test_nps_interval_is_clipped() -> None:
    # 1 detractor + 9 promoters: NPS = 80, margin = 196*sqrt((1 - 0.64)*10/9/10) = 39.2 -> clip 100.
    mv = compute("nps", tally_of("nps", [0] + [10] * 9))
    assert mv.value == pytest.approx(80.0)
    assert mv.margin_of_error == pytest.approx(39.2, abs=0.001)
    assert mv.ci_high == 100.0
    assert mv.ci_low == pytest.approx(40.8, abs=0.001)


def test_csat_wilson_hand_computed() -> None:
    # 8 of 10 satisfied: p = 0.8, z = 1.96, z^2 = 3.8416.
    # denom  = 1 + z^2/n = 1.38416
    # centre = (p + z^2/(2n)) / denom = (0.8 + 0.19208) / 1.38416 = 0.716738
    # half   = z * sqrt(p(1-p)/n + z^2/(4n^2)) / denom
    #        = 1.96 * sqrt(0.016 + 0.009604) / 1.38416 = 1.96 * 0.160012 / 1.38416 = 0.226581
    # low = 0.490157 -> 49.02 %, high = 0.943319 -> 94.33 %, margin = half * 100 = 22.66
    mv = compute("csat", tally_of("csat", [5, 5, 5, 4, 4, 4, 4, 4, 1, 3]))
    assert mv.value == pytest.approx(80.0)
    assert mv.ci_low == pytest.approx(49.02, abs=0.01)
    assert mv.ci_high == pytest.approx(94.33, abs=0.01)
    assert mv.margin_of_error == pytest.approx(22.66, abs=0.01)
    assert "Wilson" in mv.method


def test_csat_single_response_has_wilson_interval() -> None:
    # n = 1, p = 1: denom = 4.8416, centre = (1 + 1.9208)/4.8416 = 0.603272,
    # half = 1.96 * sqrt(0 + 0.9604)/4.8416 = 1.9208/4.8416 = 0.396728
    # -> [20.65 %, 100 %], margin = 39.67
    mv = compute("csat", tally_of("csat", [5]))
    assert mv.value == pytest.approx(100.0)
    assert mv.ci_low == pytest.approx(20.65, abs=0.01)
    assert mv.ci_high == pytest.approx(100.0, abs=0.01)
    assert mv.margin_of_error == pytest.approx(39.67, abs=0.01)


def test_ces_hand_computed() -> None:
    # [1, 7, 4, 4]: sum 16, sumsq 1 + 49 + 16 + 16 = 82, mean 4.0
    # s^2 = (82 - 16^2/4) / 3 = (82 - 64) / 3 = 6 -> s = sqrt(6)
    # t(df=3) = 3.182; margin = 3.182 * sqrt(6) / sqrt(4) = 3.182 * sqrt(6) / 2 = 3.8971
    # interval 4 +/- 3.8971 -> [0.103, 7.897] clipped to the scale [1, 7]
    mv = compute("ces", tally_of("ces", [1, 7, 4, 4]))
    assert mv.value == pytest.approx(4.0)
    assert mv.margin_of_error == pytest.approx(3.182 * math.sqrt(6) / 2)
    assert mv.ci_low == 1.0
    assert mv.ci_high == 7.0
    assert "Student-t" in mv.method


def test_ces_unclipped_interval() -> None:
    # [4, 5, 4, 5]: mean 4.5, sumsq 82, s^2 = (82 - 81)/3 = 1/3, margin = 3.182*sqrt(1/3)/2 = 0.9186
    mv = compute("ces", tally_of("ces", [4, 5, 4, 5]))
    margin = 3.182 * math.sqrt(1 / 3) / 2
    assert mv.margin_of_error == pytest.approx(margin)
    assert mv.ci_low == pytest.approx(4.5 - margin)
    assert mv.ci_high == pytest.approx(4.5 + margin)


def test_t_quantile_table() -> None:
    assert t_quantile_95(1) == 12.706
    assert t_quantile_95(30) == 2.042
    assert t_quantile_95(39) == 2.042  # nearest lower entry is 30
    assert t_quantile_95(40) == 2.021
    assert t_quantile_95(59) == 2.021
    assert t_quantile_95(60) == 2.000
    assert t_quantile_95(120) == 1.980
    assert t_quantile_95(121) == 1.96
    with pytest.raises(ValueError):
        t_quantile_95(0)


@pytest.mark.parametrize("metric", METRICS)
def test_empty_tally(metric: Metric) -> None:
    mv = compute(metric, Tally())
    assert mv.value is None
    assert mv.count == 0
    assert mv.margin_of_error is None
    assert mv.ci_low is None
    assert mv.ci_high is None
    assert mv.reliable is False
    assert mv.min_count == MIN_RELIABLE_COUNT


@pytest.mark.parametrize(("metric", "score", "value"), [("nps", 10, 100.0), ("ces", 6, 6.0)])
def test_single_response_has_value_but_no_margin(metric: Metric, score: int, value: float) -> None:
    mv = compute(metric, tally_of(metric, [score]))
    assert mv.value == pytest.approx(value)
    assert mv.count == 1
    assert mv.margin_of_error is None
    assert mv.ci_low is None
    assert mv.ci_high is None


@pytest.mark.parametrize(
    ("metric", "score", "expected"),
    [
        ("nps", 11, "nps scores are whole numbers from 0 to 10, got 11"),
        ("nps", -1, "nps scores are whole numbers from 0 to 10, got -1"),
        ("csat", 0, "csat scores are whole numbers from 1 to 5, got 0"),
        ("ces", 8, "ces scores are whole numbers from 1 to 7, got 8"),
        ("nps", 7.5, "nps scores are whole numbers from 0 to 10, got 7.5"),
        ("csat", 2.5, "csat scores are whole numbers from 1 to 5, got 2.5"),
        ("ces", 3.5, "ces scores are whole numbers from 1 to 7, got 3.5"),
        ("ces", -2, "ces scores are whole numbers from 1 to 7, got -2"),
    ],
)
def test_score_problem_invalid(metric: Metric, score: float, expected: str) -> None:
    assert score_problem(metric, score) == expected


def test_score_problem_valid_and_odd_inputs() -> None:
    for metric in METRICS:
        lo, hi = SCALES[metric]
        for score in range(lo, hi + 1):
            assert score_problem(metric, score) is None
    assert score_problem("nps", 7.0) is None  # whole-valued float is fine
    assert score_problem("nps", float("nan")) is not None
    assert score_problem("nps", True) is not None
    with pytest.raises(ValueError):
        score_problem("bogus", 1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("metric", "score", "expected"),
    [
        ("nps", 0, "low"),
        ("nps", 6, "low"),
        ("nps", 7, "mid"),
        ("nps", 8, "mid"),
        ("nps", 9, "high"),
        ("nps", 10, "high"),
        ("csat", 1, "low"),
        ("csat", 3, "low"),
        ("csat", 4, "high"),
        ("csat", 5, "high"),
        ("ces", 1, "low"),
        ("ces", 3, "low"),
        ("ces", 4, "mid"),
        ("ces", 5, "high"),
        ("ces", 7, "high"),
    ],
)
def test_band_boundaries(metric: Metric, score: int, expected: str) -> None:
    assert band(metric, score) == expected


@pytest.mark.parametrize(("metric", "score"), [("nps", 11), ("csat", 0), ("ces", 8), ("nps", -1)])
def test_band_rejects_invalid(metric: Metric, score: int) -> None:
    with pytest.raises(ValueError, match="whole numbers"):
        band(metric, score)


def test_tally_of_rejects_invalid_score() -> None:
    with pytest.raises(ValueError, match="got 6"):
        tally_of("csat", [5, 6])


def test_tally_of_counts() -> None:
    assert tally_of("ces", [1, 7, 4, 4]) == Tally(
        count=4, score_sum=16.0, score_sq_sum=82.0, low=1, mid=2, high=1
    )


def test_tally_addition_equals_tally_of_concatenation() -> None:
    a, b = [0, 6, 7, 9, 10], [8, 8, 3]
    assert tally_of("nps", a) + tally_of("nps", b) == tally_of("nps", a + b)
    assert Tally() + tally_of("nps", a) == tally_of("nps", a)


def test_compute_rejects_inconsistent_tally() -> None:
    with pytest.raises(ValueError, match="inconsistent"):
        compute("nps", Tally(count=3, low=1))


@pytest.mark.parametrize("metric", METRICS)
def test_reliability_threshold(metric: Metric) -> None:
    score = SCALES[metric][1]
    assert compute(metric, tally_of(metric, [score] * 29)).reliable is False
    assert compute(metric, tally_of(metric, [score] * 30)).reliable is True
    custom = compute(metric, tally_of(metric, [score] * 29), min_count=10)
    assert custom.reliable is True
    assert custom.min_count == 10


def _close(x: float | None, y: float | None) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return math.isclose(x, y, rel_tol=0.0, abs_tol=1e-9)


def test_property_merge_equals_concatenation() -> None:
    rng = random.Random(20240601)
    for i in range(300):
        metric = METRICS[i % 3]
        lo, hi = SCALES[metric]
        a = [rng.randint(lo, hi) for _ in range(rng.randint(0, 60))]
        b = [rng.randint(lo, hi) for _ in range(rng.randint(0, 60))]
        merged = compute(metric, tally_of(metric, a) + tally_of(metric, b))
        direct = compute(metric, tally_of(metric, a + b))
        for field in ("value", "margin_of_error", "ci_low", "ci_high"):
            assert _close(getattr(merged, field), getattr(direct, field)), (metric, a, b, field)
        assert merged.count == direct.count == len(a) + len(b)
        if metric == "nps" and a + b:
            scores = a + b
            promoters = sum(s >= 9 for s in scores)
            detractors = sum(s <= 6 for s in scores)
            assert _close(merged.value, 100 * (promoters - detractors) / len(scores))
        if merged.value is not None and merged.ci_low is not None and merged.ci_high is not None:
            assert merged.ci_low <= merged.value + 1e-9
            assert merged.value <= merged.ci_high + 1e-9
