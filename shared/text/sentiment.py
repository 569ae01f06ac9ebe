"""Sentiment: the pluggable `SentimentAnalyser` interface and the built-in lexicon analyser.

The built-in analyser is VADER-style: word valences from `lexicon_en`, `lexicon_ar` and
`lexicon_emoji`, multi-word phrases, negation that flips the next opinion word within three
tokens (including Arabic attached forms "ماعجبني", "معجبنيش"), intensifiers on either side
("very good", "حلو كتير", "كتير حلو"), a contrast rule ("but", "بس", "لكن": the clause after
weighs more), and exclamation marks. It needs no network and no model files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, Protocol

from shared.text import lexicon_ar, lexicon_en
from shared.text.lexicon_emoji import EMOJI
from shared.text.normalise import normalise, undouble
from shared.text.tokens import forms, prepare, tokenize

Label = Literal["negative", "neutral", "positive"]

NEGATION_SCALAR = -0.74  # VADER's: "not good" is weaker than "bad"
NEGATION_WINDOW = 3
INTENSIFIER_REACH = 2
BEFORE_CONTRAST, AFTER_CONTRAST = 0.5, 1.5
EXCLAMATION_BOOST, MAX_EXCLAMATIONS = 0.292, 4
ALPHA = 15.0  # VADER's normalisation constant: score = s / sqrt(s^2 + alpha)
DEFAULT_THRESHOLD = 0.15  # chosen on the development sets (plateau 0.10-0.20)


@dataclass(frozen=True, slots=True)
class Sentiment:
    """A score in [-1, 1] and its label."""

    score: float
    label: Label


class SentimentAnalyser(Protocol):
    """What scoring needs from a sentiment model; a deployment may plug in its own."""

    def analyse(self, text: str, *, language: str) -> Sentiment:
        """Score one comment written in `language` ('ar', 'en' or 'other')."""
        ...


def label_for(score: float, threshold: float = DEFAULT_THRESHOLD) -> Label:
    """Map a score to a label; |score| below `threshold` is neutral."""
    if score >= threshold:
        return "positive"
    if score <= -threshold:
        return "negative"
    return "neutral"


def _words(block: str) -> dict[str, float]:
    """Parse 'word value word value ...' data, keys normalised."""
    parts = block.split()
    return {normalise(parts[i]): float(parts[i + 1]) for i in range(0, len(parts) - 1, 2)}


def _phrases(block: str) -> dict[tuple[str, ...], float]:
    """Parse 'words|value' data separated by spaces after the value."""
    found: dict[tuple[str, ...], float] = {}
    pieces = block.replace("\n", " ").split("|")
    words = pieces[0]
    for piece in pieces[1:]:
        value, _, rest = piece.strip().partition(" ")
        found[tuple(tokenize(normalise(words.strip())))] = float(value)
        words = rest
    return found


def _build() -> tuple[
    dict[str, tuple[float, float]], dict[str, list[tuple[tuple[str, ...], float]]]
]:
    """Merge every lexicon into (plain valence, negated valence) per word, and phrases by first word."""
    plain: dict[str, float] = dict(lexicon_en.VADER)
    plain.update(_words(lexicon_en.CX_WORDS))
    for word, value in _words(lexicon_ar.ARABIZI).items():
        plain.setdefault(word, value)
    plain.update(_words(lexicon_ar.WORDS))
    table = {word: (value, value * NEGATION_SCALAR) for word, value in plain.items()}
    negated_only = dict(lexicon_en.NEGATED_ONLY)
    negated_only.update(dict.fromkeys(normalise(lexicon_ar.NEGATED_ONLY).split(), -1.6))
    for word, value in negated_only.items():
        plain_value = table.get(word, (0.0, 0.0))[0]
        if abs(plain_value) <= 0.5:  # VADER gives "reach" 0.1; "can't reach anyone" is a complaint
            table[word] = (plain_value, value)
    table.update({normalise(e): (v, v) for e, v in EMOJI.items()})
    phrases = _phrases(lexicon_en.CX_PHRASES) | _phrases(lexicon_ar.PHRASES)
    by_first: dict[str, list[tuple[tuple[str, ...], float]]] = {}
    for seq, value in sorted(phrases.items(), key=lambda item: -len(item[0])):
        if seq:
            by_first.setdefault(seq[0], []).append((seq, value))
    return table, by_first


_TABLE, _PHRASES_BY_FIRST = _build()
_NEGATORS = frozenset(normalise(w) for w in lexicon_en.NEGATORS | lexicon_ar.NEGATORS)
_INTENSIFIERS = {
    normalise(w): b for w, b in (lexicon_en.INTENSIFIERS | lexicon_ar.INTENSIFIERS).items()
}
_CONTRASTS = frozenset(normalise(w) for w in lexicon_en.CONTRASTS | lexicon_ar.CONTRASTS)


@lru_cache(maxsize=32768)
def _entry(token: str) -> tuple[float, float] | None:
    """(valence, valence under negation) of a token, trying its clitic-free and attached-negation forms."""
    for form in forms(token):
        found = _TABLE.get(form)
        if found is not None:
            return found
    for head, tail in (("ما", ""), ("م", "ش"), ("ما", "ش")):  # ماعجبني, معجبنيش, مابيردش
        if (
            len(token) > len(head) + len(tail) + 2
            and token.startswith(head)
            and token.endswith(tail)
        ):
            inner = _entry(token[len(head) : len(token) - len(tail)])
            if inner is not None and inner[1]:
                return (inner[1], inner[1])
    return None


NONE, VALUE, NEGATOR, INTENSIFIER, CONTRAST = range(5)


@lru_cache(maxsize=32768)
def _classify(token: str) -> tuple[int, float, float]:
    """(kind, a, b) of a token: a function word (with a leading و/ف allowed) or (valence, negated)."""
    collapsed = forms(token)[0]
    for word in {collapsed, undouble(collapsed)}:
        for form in (word, word[1:] if word[:1] in ("و", "ف") and len(word) > 2 else word):
            if form in _NEGATORS:
                return NEGATOR, 0.0, 0.0
            if form in _INTENSIFIERS:
                return INTENSIFIER, _INTENSIFIERS[form], 0.0
            if form in _CONTRASTS:
                return CONTRAST, 0.0, 0.0
    entry = _entry(token)
    return (VALUE, *entry) if entry is not None else (NONE, 0.0, 0.0)


def score_tokens(tokens: list[str]) -> float:
    """Sentiment score in [-1, 1] of normalised tokens."""
    items: list[list[float]] = []  # [position, value]
    boosts: list[tuple[int, float]] = []
    negate_until = -1
    contrast_at = -1
    exclamations = 0
    i, count = 0, len(tokens)
    while i < count:
        token = tokens[i]
        if token == "!":  # noqa: S105 - not a password
            exclamations += 1
            i += 1
            continue
        phrase = _PHRASES_BY_FIRST.get(token)
        if phrase:
            matched = next((p for p in phrase if tuple(tokens[i : i + len(p[0])]) == p[0]), None)
            if matched is not None:
                value = matched[1] * (NEGATION_SCALAR if i <= negate_until else 1.0)
                items.append([i, value])
                negate_until = -1
                i += len(matched[0])
                continue
        kind, a, b = _classify(token)
        if kind == VALUE:
            negated = i <= negate_until
            value = b if negated else a
            if value:
                items.append([i, value])
                if negated:
                    negate_until = -1
        elif kind == NEGATOR:
            negate_until = i + NEGATION_WINDOW
        elif kind == INTENSIFIER:
            boosts.append((i, a))
        elif kind == CONTRAST:
            contrast_at = len(items)
        i += 1
    if not items:
        return 0.0
    for position, boost in boosts:
        nearest = min(items, key=lambda item: (abs(item[0] - position), item[0] < position))
        if abs(nearest[0] - position) <= INTENSIFIER_REACH:
            nearest[1] *= 1.0 + boost
    total = 0.0
    for index, (_, value) in enumerate(items):
        if contrast_at > 0:
            value *= BEFORE_CONTRAST if index < contrast_at else AFTER_CONTRAST
        total += value
    if total and exclamations:
        total += math.copysign(EXCLAMATION_BOOST * min(exclamations, MAX_EXCLAMATIONS), total)
    return total / math.sqrt(total * total + ALPHA)


class LexiconSentimentAnalyser:
    """The built-in analyser: lexicons and rules for English, Arabic script and Arabizi."""

    def __init__(self, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold

    def analyse(self, text: str, *, language: str) -> Sentiment:
        """Score one comment; `language` is accepted for the interface, the lexicons cover all scripts."""
        return self.analyse_tokens(prepare(text))

    def analyse_tokens(self, tokens: list[str]) -> Sentiment:
        """Score already normalised and tokenised text (saves the work when themes need tokens too)."""
        score = round(score_tokens(tokens), 4)
        return Sentiment(score, label_for(score, self.threshold))
