# ruff: noqa: RUF001  (Arabic letters look like Latin ones to the confusables check)
"""Tokenising normalised text and the lookup forms of a token (Arabic clitics, elongation)."""

from __future__ import annotations

import re
from functools import lru_cache

from shared.text.normalise import collapse_repeats, normalise_fast, undouble

_EMOJI = "\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2b55\u2b06\u2b07\u2b05\u2194-\u21aa\u203c\u2049"
TOKEN_RE = re.compile(rf"\w+|[{_EMOJI}!?]|[:;]-?[()dp/|]|<3")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")

# Longest first: proclitics (conjunction, preposition, article) and dialect verb prefixes.
_PREFIXES = (
    "وبال",
    "وال",
    "بال",
    "فال",
    "كال",
    "لل",
    "عال",
    "ال",
    "وب",
    "ول",
    "وي",
    "بي",
    "بت",
    "بن",
    "و",
    "ف",
    "ب",
    "ل",
    "ك",
    "ع",
    "ح",
    "ه",
)
_SUFFIXES = (
    "تهم",
    "تها",
    "ها",
    "هم",
    "كم",
    "كو",
    "نا",
    "ني",
    "وا",
    "ين",
    "ون",
    "ات",
    "تو",
    "تي",
    "ه",
    "ك",
    "ي",
    "ش",
)
_MIN_STEM = 3


def tokenize(normalised: str) -> list[str]:
    """Split normalised text into words (apostrophes dropped), emoji, emoticons, ! and ?."""
    return TOKEN_RE.findall(normalised.replace("'", ""))


def prepare(text: str) -> list[str]:
    """Raw comment to tokens on the hot path; letter runs are collapsed later, per token, in `forms`."""
    return TOKEN_RE.findall(normalise_fast(text).replace("'", ""))


@lru_cache(maxsize=32768)
def forms(token: str) -> tuple[str, ...]:
    """Every form under which a token may be listed, most specific first (bounded cache)."""
    token = collapse_repeats(token)
    found = [token]
    single = undouble(token)
    if single != token:
        found.append(single)
    if _ARABIC_LETTER.match(token):
        for base in (token, single) if single != token else (token,):
            for stem in _arabic_stems(base):
                if stem not in found:
                    found.append(stem)
    elif token.endswith("ies") and len(token) > 4:
        found.append(token[:-3] + "y")
    elif token.endswith("s") and len(token) > 3 and not token.endswith("ss"):
        found.append(token[:-1])
    return tuple(found)


def _arabic_stems(token: str) -> list[str]:
    """The token without one proclitic, without one enclitic, and without both."""
    heads = [
        token[len(p) :]
        for p in _PREFIXES
        if token.startswith(p) and len(token) - len(p) >= _MIN_STEM
    ]
    stems = list(heads)
    for word in [token, *heads]:
        for s in _SUFFIXES:
            if word.endswith(s) and len(word) - len(s) >= _MIN_STEM:
                stems.append(word[: -len(s)])
    return stems
