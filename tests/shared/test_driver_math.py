"""Key-driver arithmetic against hand computations on raw per-response values."""

from __future__ import annotations

import math
import statistics

import pytest

from shared.driver_math import driver, two_sided_p
from shared.metric_math import compute, tally_of


def nps_points(scores: list[int]) -> list[int]:
    return [100 if s >= 9 else -100 if s <= 6 else 0 for s in scores]


def test_nps_driver_matches_welch_on_per_response_values() -> None:
    with_scores, other_scores = [2, 3, 9, 0, 5, 6], [10, 10, 9, 7, 8, 9, 10, 4]
    overall = tally_of("nps", with_scores + other_scores)
    d = driver("nps", overall=overall, with_theme=tally_of("nps", with_scores))
    a, b = nps_points(with_scores), nps_points(other_scores)
    se = math.sqrt(statistics.variance(a) / len(a) + statistics.variance(b) / len(b))
    diff = statistics.mean(a) - statistics.mean(b)
    assert (d.count_with, d.count_without) == (6, 8)
    assert d.value_with == pytest.approx(statistics.mean(a))
    assert d.value_without == pytest.approx(statistics.mean(b))
    assert d.difference == pytest.approx(diff)
    assert d.std_error == pytest.approx(se)
    assert d.z == pytest.approx(diff / se)
    assert d.p_value == pytest.approx(math.erfc(abs(diff / se) / math.sqrt(2)))
    assert d.significant is (d.p_value is not None and d.p_value < 0.05)
    whole = compute("nps", overall).value
    assert whole is not None
    assert d.impact == pytest.approx(whole - statistics.mean(b))


def test_a_large_gap_on_many_responses_is_significant() -> None:
    with_theme = tally_of("nps", [0] * 80 + [10] * 20)
    overall = with_theme + tally_of("nps", [10] * 300 + [0] * 100)
    d = driver("nps", overall=overall, with_theme=with_theme)
    assert d.difference == pytest.approx(-60.0 - 50.0)
    assert d.significant and d.p_value is not None and d.p_value < 1e-6
    assert d.impact == pytest.approx((100 * (320 - 180) / 500) - 50.0)  # overall 28, without 50


def test_degenerate_sides_give_no_test() -> None:
    everyone = tally_of("nps", [9, 10, 3])
    d = driver("nps", overall=everyone, with_theme=everyone)  # no response without the theme
    assert (d.value_without, d.difference, d.p_value, d.impact) == (None, None, None, None)
    assert not d.significant
    one = tally_of("nps", [9])
    d = driver("nps", overall=one + tally_of("nps", [1, 2]), with_theme=one)
    assert d.difference == pytest.approx(200.0) and d.p_value is None  # variance unknown
    same = tally_of("nps", [10, 10])
    d = driver("nps", overall=same + same, with_theme=same)
    assert d.difference == 0 and d.std_error == 0 and d.z is None


def test_minus_and_two_sided_p() -> None:
    a, b = tally_of("ces", [1, 2, 7]), tally_of("ces", [7])
    assert a - b == tally_of("ces", [1, 2])
    assert two_sided_p(1.96) == pytest.approx(0.05, abs=1e-3)
    assert two_sided_p(0.0) == pytest.approx(1.0)
