"""Language detection for feedback: 'ar' (Arabic script or Latin-script Arabizi), 'en', or 'other'.

Script decides first: a comment whose letters are at least 30% Arabic script is Arabic
(customers mix English product words into Arabic sentences), unless Persian/Urdu-only
letters show it is not. Latin-script text is scored by function words: English ones
against Arabizi (words with the digits 2 3 5 7 9 as letters, dialect words) and against
other European ones. A Latin comment without any signal takes the hint, else 'en'.
"""

from __future__ import annotations

import re
from functools import lru_cache

from shared.text.normalise import collapse_repeats
from shared.text.tokens import prepare


def _words(block: str) -> list[str]:
    """Whitespace-separated words of a data block."""
    return block.split()


ARABIC_SHARE = 0.3
_ARABIC = re.compile("[\u0621-\u064a\u0671-\u06d3\u06fa-\u06ff\ufb50-\ufdff\ufe70-\ufefc]")
_PERSIAN_URDU = re.compile(
    "[\u067e\u0686\u0698\u06af\u06a9\u06cc\u06d2\u0679\u0688\u0691\u06ba\u06be]"
)
_LATIN = re.compile("[a-z0-9\u00c0-\u024f]")
_LATIN_ACCENTED = re.compile("[\u00c0-\u024f]")
_ARABIZI_DIGIT_WORD = re.compile(r"^(?=.*[a-z])(?=[a-z]*[235679])[a-z]*[235679][a-z0-9]*$")
_NOT_ARABIZI = re.compile(
    r"^\d+(st|nd|rd|th|am|pm|k|h|hr|hrs|min|mins|kg|g|gb|mb|x|s|m|ml|l|km|d)?$"
)

_ENGLISH = frozenset(
    _words("""
the a an and or but is are was were be been am i you he she it we they my your our their me
him her us them this that these those to of in on at for with from by not no very so too
just have has had do does did dont didnt doesnt cant wont im its of what when where why how
which who will would can could should again all any some more most only also than then there
here good bad great nice love hate thanks thank please order ordered delivery app service
staff price time late slow fast still after before never ever got get one two
""")
)
_ARABIZI = frozenset(
    _words("""
el il al w wa ya ana enta enti inta inti howa hiya e7na i7na ento intu homma hum msh mesh
mish mush mafi mafish fi feh fih ma3 3ala 3al 3an mn men min wel wala walla wallah wallahi
yalla inshallah inshalla mashallah habibi 7abibi bas bs ktir kteer awi 2awi wayed helw 7elw
zift zeft shukran shokran tamam khalas kda keda kaza leh lesh laish shu sho eh eih ezay izay
keef kif kaif wen wein fein feen emta imta lissa lessa ba3d b3d kan kanet kano mish bel bil
3ayez 3ayz bade baddi abi abgha ab8a zain zein mo mob mub yaani ya3ni tayeb tab
""")
)
_OTHER_LATIN = (
    frozenset(
        _words("""
le la les des est et une un je pas tres très cest mais avec pour dans sur qui que nous vous
el los las es muy pero y con por para una del lo esta está der die das und ist nicht sehr
ein eine mit auf für ich sie ve bir çok değil ama ile bu dan yang tidak sangat ini itu untuk
dengan het een niet zeer não com uma muito mas
""")
    )
    - _ENGLISH
    - _ARABIZI
)


def detect_language(text: str, *, hint: str | None = None) -> str:
    """'ar', 'en' or 'other' for a comment; `hint` (e.g. the provider's locale) breaks ties."""
    return detect_from_tokens(prepare(text), text, hint=hint)


def detect_from_tokens(tokens: list[str], text: str, *, hint: str | None = None) -> str:
    """`detect_language` on tokens already made by `prepare(text)` (the hot path)."""
    arabic = latin = other = english = arabizi = foreign = 0
    for token in tokens:
        counts = _classify(token)
        arabic += counts[0]
        latin += counts[1]
        other += counts[2]
        english += counts[3]
        arabizi += counts[4]
        foreign += counts[5]
    letters = arabic + latin + other
    hinted = _base(hint)
    if letters == 0:
        return hinted or "other"
    if arabic and arabic >= ARABIC_SHARE * letters:
        persian = len(_PERSIAN_URDU.findall(text)) if not text.isascii() else 0
        return "other" if persian >= 2 and persian * 20 >= arabic else "ar"
    if other > latin:
        return "other"
    if arabizi > english and arabizi >= foreign:
        return "ar"
    if foreign > english and foreign > arabizi:
        return "other"
    if english:
        return "en"
    return hinted or "en"


@lru_cache(maxsize=32768)
def _classify(token: str) -> tuple[int, int, int, int, int, int]:
    """(arabic letters, latin letters, other letters, english, arabizi, foreign word) of one token."""
    if token.isdigit():
        return 0, 0, 0, 0, 0, 0
    if _ARABIC.match(token):
        return len(token), 0, 0, 0, 0, 0
    if not _LATIN.match(token):
        letters = sum(ch.isalpha() for ch in token)
        return 0, 0, letters, 0, 0, 0
    word = collapse_repeats(token)
    accented = 2 if _LATIN_ACCENTED.search(word) else 0
    if word in _ENGLISH:
        return 0, len(word), 0, 1, 0, 0
    if word in _ARABIZI or (_ARABIZI_DIGIT_WORD.match(word) and not _NOT_ARABIZI.match(word)):
        return 0, len(word), 0, 0, 1, 0
    return 0, len(word), 0, 0, 0, accented + (word in _OTHER_LATIN)


def _base(hint: str | None) -> str | None:
    """'ar-SA' -> 'ar'; any language other than ar/en -> 'other'; nothing -> None."""
    if not hint:
        return None
    code = hint.strip().lower().replace("_", "-").split("-")[0]
    if not code:
        return None
    return code if code in ("ar", "en") else "other"
