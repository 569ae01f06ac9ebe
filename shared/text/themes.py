"""Themes: a taxonomy of CX drivers with keywords in any language, and a fast matcher.

A keyword is a word or a phrase, written as people type it; it is normalised like the
text. A trailing "*" makes it a prefix ("deliver*" matches delivery, delivered). Arabic
words match with or without clitics ("التوصيل", "بالتوصيل", "توصيلكم").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from shared.text.normalise import normalise
from shared.text.tokens import forms, prepare, tokenize

CACHE_SIZE = 50_000
THEME_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
"""Theme keys are plain identifiers, so they go into array literals and URLs unquoted."""
_Entry = tuple[frozenset[str], tuple[tuple[tuple[str, ...], str], ...]]


@dataclass(frozen=True, slots=True)
class Theme:
    """One CX driver: a stable key, a display label, and its keywords and phrases."""

    key: str
    label: str
    keywords: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """An ordered set of themes; the order is the order themes are reported in."""

    themes: tuple[Theme, ...]

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, object]]) -> Taxonomy:
        """Build from {key: {"label": str, "keywords": [str, ...]}}, e.g. rows loaded from the database."""
        themes = []
        for key, spec in data.items():
            keywords = spec.get("keywords", ())
            if not isinstance(keywords, Iterable) or isinstance(keywords, str):
                raise ValueError(f"theme {key!r}: keywords must be a list of strings")
            themes.append(Theme(key, str(spec.get("label", key)), tuple(str(k) for k in keywords)))
        return cls(tuple(themes))

    def to_dict(self) -> dict[str, dict[str, object]]:
        """The inverse of `from_dict`."""
        return {t.key: {"label": t.label, "keywords": list(t.keywords)} for t in self.themes}


class ThemeMatcher:
    """Finds the themes a comment mentions; built once per taxonomy, then read-only."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._order = {theme.key: index for index, theme in enumerate(taxonomy.themes)}
        self._words: dict[str, set[str]] = {}
        self._prefixes: dict[str, set[str]] = {}
        self._phrases: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for theme in taxonomy.themes:
            for keyword in theme.keywords:
                self._add(keyword, theme.key)
        self._prefix_lengths = sorted({len(p) for p in self._prefixes}, reverse=True)
        self._cache: dict[str, _Entry] = {}

    def _add(self, keyword: str, key: str) -> None:
        """Index one keyword under its theme."""
        prefix = keyword.endswith("*")
        words = tokenize(normalise(keyword.rstrip("*")))
        if not words:
            return
        if len(words) > 1:
            self._phrases.setdefault(words[0], []).append((tuple(words), key))
        elif prefix:
            self._prefixes.setdefault(words[0], set()).add(key)
        else:
            self._words.setdefault(words[0], set()).add(key)

    def _token_entry(self, token: str) -> _Entry:
        """Themes one token names on its own, and the phrases it may start."""
        hits: set[str] = set()
        heads: list[tuple[tuple[str, ...], str]] = []
        for form in forms(token):
            hits |= self._words.get(form, set())
            for length in self._prefix_lengths:
                if len(form) >= length:
                    hits |= self._prefixes.get(form[:length], set())
            heads.extend(self._phrases.get(form, ()))
        return frozenset(hits), tuple(heads)

    def match(self, text: str) -> tuple[str, ...]:
        """Theme keys mentioned in raw text, in taxonomy order."""
        return self.match_tokens(prepare(text))

    def match_tokens(self, tokens: Sequence[str]) -> tuple[str, ...]:
        """Theme keys mentioned in normalised tokens, in taxonomy order."""
        found: set[str] = set()
        cache = self._cache
        for index, token in enumerate(tokens):
            entry = cache.get(token)
            if entry is None:
                entry = self._token_entry(token)
                if len(cache) >= CACHE_SIZE:
                    cache.clear()  # bounded: a long-running worker sees endless new words
                cache[token] = entry
            hits, heads = entry
            if hits:
                found |= hits
            for sequence, key in heads:
                if _follows(tokens, index, sequence):
                    found.add(key)
        if not found:
            return ()
        return tuple(sorted(found, key=self._order.__getitem__))


def _follows(tokens: Sequence[str], start: int, sequence: tuple[str, ...]) -> bool:
    """Whether tokens after `start` carry the rest of `sequence` (clitics allowed)."""
    if start + len(sequence) > len(tokens):
        return False
    return all(word in forms(tokens[start + k]) for k, word in enumerate(sequence) if k)
