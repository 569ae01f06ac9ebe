"""Comment analysis for a scoring batch, with the theme taxonomy read from the `theme` table.

The worker holds one `BatchAnalyser` for its life. The taxonomy is reloaded at most every
`refresh_seconds`, inside the batch's own transaction (one small SELECT), so an edit made
over the API reaches every worker within that time without a restart. The shipped default
is used only while the table has no rows at all: a deployment that disabled every theme
gets no themes, not the defaults back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.events import FeedbackEvent
from shared.models import ThemeDefinition
from shared.text import DEFAULT_TAXONOMY, Analysis, SentimentAnalyser, Taxonomy, TextAnalyser
from shared.text.themes import THEME_KEY, Theme

log = logging.getLogger(__name__)


def taxonomy_from_rows(rows: Iterable[ThemeDefinition]) -> Taxonomy:
    """The enabled themes of the table, their keywords in every language merged."""
    themes = []
    for row in rows:
        if not row.enabled or not THEME_KEY.match(row.key):
            continue
        keywords = [k for words in _lists(row.keywords) for k in words]
        themes.append(Theme(row.key, row.name_en, tuple(keywords)))
    return Taxonomy(tuple(themes))


def _lists(keywords: Mapping[str, object]) -> Iterable[list[str]]:
    for words in keywords.values():
        if isinstance(words, list):
            yield [w for w in words if isinstance(w, str)]


class BatchAnalyser:
    """Analyses the comments of a batch; holds the current taxonomy and when it was loaded."""

    def __init__(
        self, *, refresh_seconds: float = 60.0, sentiment: SentimentAnalyser | None = None
    ) -> None:
        self._refresh_seconds = refresh_seconds
        self._sentiment = sentiment
        self._analyser = TextAnalyser(sentiment=sentiment)
        self._loaded_at: float | None = None

    @property
    def taxonomy(self) -> Taxonomy:
        """The taxonomy comments are matched against now."""
        return self._analyser.matcher.taxonomy

    def refresh(self, session: Session) -> None:
        """Reload the taxonomy if it is older than the refresh interval."""
        now = time.monotonic()
        if self._loaded_at is not None and now - self._loaded_at < self._refresh_seconds:
            return
        rows = session.scalars(select(ThemeDefinition).order_by(ThemeDefinition.key)).all()
        taxonomy = taxonomy_from_rows(rows) if rows else DEFAULT_TAXONOMY
        if taxonomy != self.taxonomy:
            # A new matcher starts with an empty token cache, so rebuild only on a change.
            self._analyser = TextAnalyser(sentiment=self._sentiment, taxonomy=taxonomy)
            log.info("theme taxonomy loaded", extra={"themes": len(taxonomy.themes)})
        self._loaded_at = now

    def analyse(self, event: FeedbackEvent) -> Analysis | None:
        """What the event's comment says; None without a comment."""
        return self._analyser.analyse(event.text, language_hint=event.language)


def staging_fields(analysis: Analysis | None) -> bytes:
    """The analysis as the trailing COPY fields (language, score, label, themes); empty = NULL."""
    if analysis is None:
        return b"\x02\x02\x02"
    themes = "{" + ",".join(analysis.themes) + "}"
    return (
        f"{analysis.language}\x02{analysis.sentiment_score!r}\x02"
        f"{analysis.sentiment_label}\x02{themes}"
    ).encode()
