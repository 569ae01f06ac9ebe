# ruff: noqa: RUF001  (Arabic letters look like Latin ones to the confusables check)
"""Text normalisation shared by sentiment, themes and the API's feedback search.

Arabic: alef/hamza variants to bare alef, alef maqsura to ya, ta marbuta to ha, hamza
on waw/ya to the bare letter, Persian keh/yeh to Arabic, diacritics and tatweel removed,
Arabic-Indic digits to ASCII. All scripts: lower-cased, runs of 3+ identical letters cut
to two ("حلووووو" -> "حلوو", "soooo" -> "soo"; lookups then try the single-letter form).
"""

from __future__ import annotations

import re
import unicodedata

_ARABIC_VARIANTS = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ى": "ي",
    "ة": "ه",
    "ؤ": "و",
    "ئ": "ي",
    "ی": "ي",  # Persian yeh, typed on Persian keyboards
    "ک": "ك",  # Persian keh
    "،": ",",
    "؛": ";",
    "؟": "?",
    "’": "'",
    "‘": "'",
    "`": "'",
}
_DIGITS = {chr(0x0660 + i): str(i) for i in range(10)} | {
    chr(0x06F0 + i): str(i) for i in range(10)
}
# Harakat, superscript alef, Quranic marks, tatweel, emoji variation selector, skin tones, ZWJ/ZWNJ.
_DROPPED = (
    [chr(c) for c in range(0x064B, 0x0660)]
    + [chr(0x0670), chr(0x0640), "\ufe0f", "\u200c", "\u200d", "\u200f", "\u200e"]
    + [chr(c) for c in range(0x06D6, 0x06EE)]
    + [chr(c) for c in range(0x1F3FB, 0x1F400)]
)
_TABLE = str.maketrans(_ARABIC_VARIANTS | _DIGITS | dict.fromkeys(_DROPPED, ""))
_REPEATS = re.compile(r"(\D)\1{2,}")
_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")
_DOUBLES = re.compile(r"(\D)\1+")


def normalise(text: str) -> str:
    """Return `text` in the one canonical form every lexicon, keyword and search term uses."""
    if _PRESENTATION_FORMS.search(text):
        text = unicodedata.normalize("NFKC", text)
    return _REPEATS.sub(r"\1\1", text.translate(_TABLE).lower())


def normalise_fast(text: str) -> str:
    """`normalise` without collapsing letter runs (analysis does that per token, cached)."""
    if text.isascii():
        return text.lower()
    if _PRESENTATION_FORMS.search(text):
        text = unicodedata.normalize("NFKC", text)
    return text.translate(_TABLE).lower()


def collapse_repeats(token: str) -> str:
    """Cut runs of 3+ identical letters to two."""
    return _REPEATS.sub(r"\1\1", token)


def undouble(token: str) -> str:
    """Collapse every doubled letter ("goood" -> "god" is never looked up alone; "حلوو" -> "حلو")."""
    return _DOUBLES.sub(r"\1", token)
