"""The public entry points scoring calls: analyse, analyse_many and the benchmark."""

from __future__ import annotations

import dataclasses

import pytest

from shared.text import Analysis, analyse, analyse_many
from shared.text.bench import benchmark


@pytest.mark.parametrize("text", [None, "", "   \n"])
def test_no_text_no_analysis(text: str | None) -> None:
    assert analyse(text) is None


def test_analysis_is_frozen_and_complete() -> None:
    analysis = analyse("The driver was super friendly 👍")
    assert isinstance(analysis, Analysis)
    assert analysis.language == "en"
    assert analysis.sentiment_label == "positive"
    assert 0 < analysis.sentiment_score <= 1
    assert "delivery" in analysis.themes
    with pytest.raises(dataclasses.FrozenInstanceError):
        analysis.language = "ar"  # type: ignore[misc]


def test_language_hint() -> None:
    analysis = analyse("👍", language_hint="ar")
    assert analysis is not None and analysis.language == "ar"


def test_analyse_many_keeps_positions() -> None:
    results = analyse_many(["ممتاز", None, "terrible"])
    assert [r.sentiment_label if r else None for r in results] == ["positive", None, "negative"]


def test_benchmark_reports_a_rate() -> None:
    rate = benchmark(2000)
    print(f"\ntext analysis: {rate:,.0f} comments/s ({1e6 / rate:.1f} µs/comment)")
    assert rate > 2000  # a loose bound for a shared machine; `make bench` reports the real figure
