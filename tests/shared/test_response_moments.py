"""Per-response moments against raw per-response values worked out by hand."""

from __future__ import annotations

import statistics

import pytest

from shared.metric_math import Tally, tally_of
from shared.response_moments import response_mean, response_moments


def test_moments_put_each_response_on_the_metric_scale() -> None:
    # NPS +100, +100, -100, 0: mean 25, squared deviations 5625+5625+15625+625 over 3.
    assert response_moments("nps", tally_of("nps", [10, 9, 3, 7])) == pytest.approx(
        (25.0, 27500 / 3)
    )
    csat = tally_of("csat", [5, 4, 1, 2])
    assert response_moments("csat", csat) == pytest.approx(
        (50.0, statistics.variance([100, 100, 0, 0]))
    )
    ces = tally_of("ces", [7, 1, 4])
    assert response_moments("ces", ces) == pytest.approx((4.0, statistics.variance([7, 1, 4])))


def test_one_response_has_no_variance_and_none_has_no_mean() -> None:
    assert response_moments("ces", tally_of("ces", [4])) == (4.0, None)
    assert response_moments("nps", Tally()) is None
    assert response_mean("nps", Tally()) is None
    assert response_mean("csat", tally_of("csat", [5, 1])) == pytest.approx(50.0)
