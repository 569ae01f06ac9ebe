"""Alert statistics against numbers worked out by hand."""

from __future__ import annotations

import math

import pytest

from shared.alert_math import (
    backoff_seconds,
    drop_test,
    regularized_beta,
    student_t_cdf,
    threshold_test,
)
from shared.metric_math import Tally, tally_of


def _nps(promoters: int, passives: int, detractors: int) -> Tally:
    return tally_of("nps", [10] * promoters + [8] * passives + [0] * detractors)


def test_incomplete_beta_and_student_t_match_tables() -> None:
    assert regularized_beta(1, 1, 0.3) == pytest.approx(0.3)
    # I_0.4(2, 3) = sum over j=2..4 of C(4, j) 0.4^j 0.6^(4-j).
    assert regularized_beta(2, 3, 0.4) == pytest.approx(0.3456 + 0.1536 + 0.0256)
    assert student_t_cdf(0.0, 5) == pytest.approx(0.5)
    assert student_t_cdf(1.0, 1) == pytest.approx(0.75)  # Cauchy
    assert student_t_cdf(2.228, 10) == pytest.approx(0.975, abs=1e-4)  # t table, 10 df
    assert student_t_cdf(-2.0, 10) == pytest.approx(0.036694, abs=1e-6)
    assert student_t_cdf(1.959964, 1e9) == pytest.approx(0.975, abs=1e-6)  # the normal limit
    with pytest.raises(ValueError):
        student_t_cdf(1.0, 0)


def test_welch_drop_worked_by_hand() -> None:
    # Recent NPS 0 on 50 (20/10/20), baseline NPS 30 on 100 (50/30/20).
    # Variances 8000*50/49 and 6100*100/99; se^2 = 163.265 + 61.616 = 224.881, t = -30/14.996.
    recent, baseline = _nps(20, 10, 20), _nps(50, 30, 20)
    test = drop_test("nps", recent, baseline, min_points=5, confidence=0.95, min_count=30)
    assert test.difference == pytest.approx(-30.0)
    assert test.statistic == pytest.approx(-30 / math.sqrt(224.881), rel=1e-4)
    assert test.degrees_of_freedom == pytest.approx(
        224.881**2 / (163.265**2 / 49 + 61.616**2 / 99), rel=1e-3
    )
    assert test.p_value == pytest.approx(0.0243, abs=5e-4)
    assert test.holds
    strict = drop_test("nps", recent, baseline, min_points=5, confidence=0.99, min_count=30)
    assert not strict.holds and strict.reason == "drop not significant at the confidence asked"
    large = drop_test("nps", recent, baseline, min_points=35, confidence=0.95, min_count=30)
    assert not large.holds and large.reason == "drop smaller than min_points"


def test_no_drop_on_too_few_responses_or_on_a_rise() -> None:
    few = drop_test(
        "nps", _nps(0, 0, 10), _nps(100, 0, 0), min_points=5, confidence=0.95, min_count=30
    )
    assert not few.holds and few.p_value is None and few.recent_count == 10
    rise = drop_test(
        "nps", _nps(60, 20, 20), _nps(40, 20, 40), min_points=5, confidence=0.95, min_count=30
    )
    assert not rise.holds and rise.p_value is not None and rise.p_value > 0.5


def test_zero_variance_windows_still_decide() -> None:
    test = drop_test(
        "nps", _nps(0, 0, 40), _nps(40, 0, 0), min_points=5, confidence=0.99, min_count=30
    )
    assert test.holds and test.p_value == 0.0 and test.statistic is None
    same = drop_test(
        "csat",
        tally_of("csat", [5] * 40),
        tally_of("csat", [5] * 40),
        min_points=1,
        confidence=0.9,
        min_count=30,
    )
    assert not same.holds


def test_threshold_needs_the_count() -> None:
    low = tally_of("csat", [1] * 20 + [5] * 10)  # CSAT 33.3 on 30
    assert threshold_test("csat", low, level=50, direction="below", min_count=30).holds
    assert not threshold_test("csat", low, level=50, direction="below", min_count=31).holds
    assert not threshold_test("csat", low, level=50, direction="above", min_count=1).holds
    assert threshold_test(
        "ces", tally_of("ces", [7, 7]), level=6, direction="above", min_count=2
    ).holds
    assert threshold_test("nps", Tally(), level=0, direction="below", min_count=1).value is None


def test_backoff_is_full_jitter_under_a_doubling_capped_ceiling() -> None:
    assert backoff_seconds(1, base=2, cap=60, jitter=0.5) == pytest.approx(1.0)
    assert backoff_seconds(3, base=2, cap=60, jitter=0.5) == pytest.approx(4.0)
    assert backoff_seconds(10, base=2, cap=60, jitter=0.5) == pytest.approx(30.0)
    assert backoff_seconds(500, base=2, cap=60, jitter=0.999) < 60
    assert backoff_seconds(4, base=2, cap=60, jitter=0.0) == 0.0
    for bad in ({"attempt": 0, "jitter": 0.1}, {"attempt": 1, "jitter": 1.0}):
        with pytest.raises(ValueError):
            backoff_seconds(bad["attempt"], base=1, cap=2, jitter=bad["jitter"])  # type: ignore[arg-type]
