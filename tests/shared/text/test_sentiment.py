"""Sentiment rules: negation, intensifiers, contrast, emoji, dialects and Arabizi."""

from __future__ import annotations

import pytest

from shared.text import (
    LexiconSentimentAnalyser,
    Sentiment,
    SentimentAnalyser,
    TextAnalyser,
    analyse,
)


def score(text: str) -> float:
    analysis = analyse(text)
    assert analysis is not None
    return analysis.sentiment_score


def label(text: str) -> str:
    analysis = analyse(text)
    assert analysis is not None
    return analysis.sentiment_label


@pytest.mark.parametrize(
    ("positive", "negated"),
    [
        ("good", "not good"),
        ("the staff were helpful", "the staff were not helpful"),
        ("حلو", "مش حلو"),
        ("عجبني", "ما عجبني"),
        ("عجبني", "ماعجبني"),
        ("عجبني", "معجبنيش"),
        ("زين", "مو زين"),
        ("راضي", "غير راضي"),
        ("3agebni", "msh 3agebni"),
    ],
)
def test_negation_flips_an_opinion(positive: str, negated: str) -> None:
    assert score(positive) > 0 > score(negated)
    assert label(negated) == "negative"


@pytest.mark.parametrize(
    "text", ["no one answered", "nobody picks up the phone", "ما حدا بيرد", "التطبيق مش شغال"]
)
def test_negated_service_actions_are_complaints(text: str) -> None:
    assert label(text) == "negative"


@pytest.mark.parametrize("text", ["not bad", "no complaints", "no issues at all", "مش بطال"])
def test_negated_negatives_lean_positive(text: str) -> None:
    assert label(text) == "positive"


def test_negation_scope_ends_after_three_tokens() -> None:
    assert score("not the delivery time nor the price, the food was good") > 0


@pytest.mark.parametrize(
    ("plain", "intensified"),
    [
        ("good", "very good"),
        ("slow", "so slow"),
        ("حلو", "حلو جدا"),
        ("حلو", "كتير حلو"),
        ("زين", "زين وايد"),
        ("سيء", "سيء مرة"),
        ("helw", "helw awi"),
    ],
)
def test_intensifiers_strengthen_either_side(plain: str, intensified: str) -> None:
    assert abs(score(intensified)) > abs(score(plain))


def test_contrast_weights_the_clause_after() -> None:
    assert label("the app is great but delivery was late again and again, terrible") == "negative"
    assert label("التوصيل تاخر شوي بس الاكل ممتاز") == "positive"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("👍", "positive"), ("😡😡", "negative"), (":)", "positive"), ("delivered 👎", "negative")],
)
def test_emoji_carry_sentiment(text: str, expected: str) -> None:
    assert label(text) == expected


def test_exclamations_amplify() -> None:
    assert score("great!!!") > score("great") > 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("الخدمة زفت", "negative"),  # Gulf/Levantine
        ("الاكل بايظ", "negative"),  # Egyptian
        ("الشغل تحفة", "positive"),  # Egyptian
        ("كلش حلو", "positive"),  # Iraqi
        ("يعطيكم العافية", "positive"),  # Levantine/Gulf phrase
        ("wallah el service zift", "negative"),  # Arabizi
        ("el app 7elw kteer", "positive"),
        ("how do I change my address?", "neutral"),
        ("طلبت يوم الاحد", "neutral"),
    ],
)
def test_dialects_and_arabizi(text: str, expected: str) -> None:
    assert label(text) == expected


def test_score_is_bounded() -> None:
    assert -1.0 <= score("worst worst worst horrible terrible 😡😡😡!!!!") <= -0.9
    assert 0.9 <= score("best best amazing excellent perfect 😍😍!!!!") <= 1.0


def test_a_plugged_in_model_replaces_the_lexicon() -> None:
    class Constant:
        def analyse(self, text: str, *, language: str) -> Sentiment:
            return Sentiment(0.5, "positive")

    model: SentimentAnalyser = Constant()
    analysis = TextAnalyser(sentiment=model).analyse("terrible")
    assert analysis is not None
    assert (analysis.sentiment_score, analysis.sentiment_label) == (0.5, "positive")
    assert isinstance(LexiconSentimentAnalyser().analyse("terrible", language="en"), Sentiment)
