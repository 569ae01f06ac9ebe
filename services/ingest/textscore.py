"""Reading a survey score out of free text, the way customers really answer an SMS or email survey.

`9`, `9/10`, `9 great service`, `nine`, `٩`, `تسعة`, `عشرة شكرا` all read as scores; a number
that is not at the start of the reply counts only when written as a fraction of the survey's
scale (`I'd say 9/10`, `٩ من ١٠`), so "I waited 3 days" is a comment, not a detractor.
"""

# ruff: noqa: RUF001, RUF002, RUF003  (Arabic letters and digits are the point here)

from __future__ import annotations

import re
import unicodedata

from shared.metric_math import SCALES, Metric, score_problem

SCALE_MAX: dict[Metric, int] = {m: hi for m, (_, hi) in SCALES.items()}

# Arabic-Indic (U+0660..) and Extended Arabic-Indic / Persian (U+06F0..) digits.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
# Harakat, tatweel and other marks that do not change which word was typed.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي"})

_WORDS: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    # Arabic, already folded (ة -> ه, أ/إ/آ -> ا): standard forms and common spoken spellings.
    "صفر": 0,
    "واحد": 1, "واحده": 1,
    "اثنين": 2, "اثنان": 2, "اتنين": 2, "اثنتان": 2,
    "ثلاثه": 3, "ثلاث": 3, "تلاته": 3, "تلات": 3,
    "اربعه": 4, "اربع": 4,
    "خمسه": 5, "خمس": 5,
    "سته": 6, "ست": 6,
    "سبعه": 7, "سبع": 7,
    "ثمانيه": 8, "ثماني": 8, "ثمان": 8, "تمانيه": 8, "تمنيه": 8,
    "تسعه": 9, "تسع": 9,
    "عشره": 10, "عشر": 10,
}  # fmt: skip

_NUMBER = r"(\d{1,3}|[^\W\d_]+)"
# "9/10", "9 / 10", "9 out of 10", "9 of 10", "٩ من ١٠"
_FRACTION = re.compile(rf"(?<![\w.,]){_NUMBER}\s*(?:/|out\s+of|of|من)\s*{_NUMBER}(?![\w]|[.,]\d)")
# The reply starts with the score: "9", "9!", "10 - great", "nine", "تسعه شكرا".
# A leading number word followed by "of" is a phrase ("one of the best"), not a score.
_LEADING = re.compile(r"^[^\w]*(\d{1,3}|[^\W\d_]+)(?![\w]|[.,]\d|\s+(?:of|من)\b)")


def normalise(text: str) -> str:
    """Fold the ways one answer can be typed (digit scripts, width, case, Arabic spelling) into one."""
    folded = unicodedata.normalize("NFKC", text).translate(_DIGITS).casefold()
    return _ARABIC_MARKS.sub("", folded).translate(_ARABIC_FOLD)


def _value(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    return _WORDS.get(token)


def read_score(text: str | None, metric: Metric) -> int | None:
    """The score on `metric`'s scale the reply gives, or None if it gives none (then it is a comment)."""
    if not text:
        return None
    norm = normalise(text[:2000])
    found: int | None = None
    for match in _FRACTION.finditer(norm):
        score, out_of = _value(match.group(1)), _value(match.group(2))
        if score is not None and out_of == SCALE_MAX[metric]:
            found = score
            break
    if found is None and (lead := _LEADING.match(norm)):
        found = _value(lead.group(1))
    if found is None or score_problem(metric, found) is not None:
        return None
    return found


_ARABIC_LETTER = re.compile("[\u0621-\u064a\u066e-\u06d3\u06fa-\u06ff]")
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")


def guess_language(text: str | None) -> str | None:
    """`ar` when Arabic letters dominate, else unknown.

    SMS and email carry no language tag; a script count is cheap and enough to route Arabic
    replies to Arabic handling, while Latin script alone cannot tell English from French.
    """
    if not text:
        return None
    sample = text[:2000]
    arabic = len(_ARABIC_LETTER.findall(sample))
    latin = len(_LATIN_LETTER.findall(sample))
    return "ar" if arabic and arabic >= latin else None
