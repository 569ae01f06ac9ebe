"""Normalisation: one rule per test, so a broken rule names itself."""

from __future__ import annotations

import pytest

from shared.text import normalise
from shared.text.tokens import forms, prepare


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("أحمد إسلام آمنة ٱلله", "احمد اسلام امنه الله"),  # alef variants, ta marbuta
        ("مستشفى", "مستشفي"),  # alef maqsura -> ya
        ("مدرسة", "مدرسه"),  # ta marbuta -> ha
        ("مُمْتَازٌ", "ممتاز"),  # diacritics
        ("ممتـــــاز", "ممتاز"),  # tatweel
        ("حلوووووو", "حلوو"),  # letter runs cut to two
        ("٣ ايام و ۴ ساعات", "3 ايام و 4 ساعات"),  # Arabic-Indic and Persian digits
        ("مسؤول بيئة", "مسوول بييه"),  # hamza carriers
        ("کتاب خیلی", "كتاب خيلي"),  # Persian keh and yeh
        ("لماذا؟ نعم، لا", "لماذا? نعم, لا"),  # Arabic punctuation
        ("SOOOO Goood", "soo good"),  # English case and elongation
        ("ﻻ", "لا"),  # presentation-form ligature
    ],
)
def test_normalise_rules(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_numbers_keep_repeated_digits() -> None:
    assert normalise("order 1000 and 55555") == "order 1000 and 55555"


def test_tokens_split_emoji_and_drop_apostrophes() -> None:
    assert prepare("Don't LOVE it😡!!") == ["dont", "love", "it", "😡", "!", "!"]


def test_lookup_forms_strip_arabic_clitics_and_elongation() -> None:
    assert "توصيل" in forms("والتوصيل")
    assert "التوصيل" in forms("بالتوصيل")
    assert "حلو" in forms("حلوووو")
    assert "good" in forms("gooood")
    assert "delivery" in forms("deliveries")
