"""Text analysis for feedback comments: language, sentiment and CX themes, in Arabic and English.

`analyse()` is what scoring calls per event; `TextAnalyser` lets a deployment swap the
sentiment model (any `SentimentAnalyser`) or load its own theme taxonomy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.text.language import detect_from_tokens, detect_language
from shared.text.normalise import normalise
from shared.text.sentiment import (
    Label,
    LexiconSentimentAnalyser,
    Sentiment,
    SentimentAnalyser,
    label_for,
)
from shared.text.taxonomy_default import DEFAULT_TAXONOMY
from shared.text.themes import Taxonomy, Theme, ThemeMatcher
from shared.text.tokens import prepare

__all__ = [
    "DEFAULT_TAXONOMY",
    "Analysis",
    "Label",
    "LexiconSentimentAnalyser",
    "Sentiment",
    "SentimentAnalyser",
    "Taxonomy",
    "TextAnalyser",
    "Theme",
    "ThemeMatcher",
    "analyse",
    "analyse_many",
    "detect_language",
    "label_for",
    "normalise",
]


@dataclass(frozen=True, slots=True)
class Analysis:
    """What one comment says: its language, sentiment and the CX themes it mentions."""

    language: str
    sentiment_score: float
    sentiment_label: Label
    themes: tuple[str, ...]


class TextAnalyser:
    """Language, sentiment and themes in one pass; hold one per process and reuse it."""

    def __init__(
        self,
        *,
        sentiment: SentimentAnalyser | None = None,
        taxonomy: Taxonomy = DEFAULT_TAXONOMY,
    ) -> None:
        self.sentiment = sentiment or LexiconSentimentAnalyser()
        self.matcher = ThemeMatcher(taxonomy)

    def analyse(self, text: str | None, *, language_hint: str | None = None) -> Analysis | None:
        """Analyse one comment; None when there is no text to analyse."""
        if text is None or not text.strip():
            return None
        tokens = prepare(text)
        language = detect_from_tokens(tokens, text, hint=language_hint)
        if isinstance(self.sentiment, LexiconSentimentAnalyser):
            sentiment = self.sentiment.analyse_tokens(tokens)
        else:
            sentiment = self.sentiment.analyse(text, language=language)
        return Analysis(
            language, sentiment.score, sentiment.label, self.matcher.match_tokens(tokens)
        )


_DEFAULT = TextAnalyser()


def analyse(text: str | None, *, language_hint: str | None = None) -> Analysis | None:
    """Analyse one comment with the built-in lexicons and the default taxonomy."""
    return _DEFAULT.analyse(text, language_hint=language_hint)


def analyse_many(texts: Iterable[str | None]) -> list[Analysis | None]:
    """Analyse a batch (one scoring batch); position i answers texts[i]."""
    run = _DEFAULT.analyse
    return [run(text) for text in texts]
