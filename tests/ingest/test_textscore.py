"""Reading scores from free text as customers type them, and cleaning email replies."""

# ruff: noqa: RUF001

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.ingest.providers.email_text import message_id, strip_reply
from services.ingest.textscore import guess_language, read_score


@pytest.mark.parametrize(
    ("text", "metric", "score"),
    [
        ("9", "nps", 9),
        ("9/10", "nps", 9),
        ("9 / 10 thanks", "nps", 9),
        ("9 great service", "nps", 9),
        ("10!", "nps", 10),
        ("  0 - awful", "nps", 0),
        ("nine", "nps", 9),
        ("Nine, great", "nps", 9),
        ("ten out of ten", "nps", 10),
        ("I'd give you 9/10", "nps", 9),
        ("٩", "nps", 9),
        ("١٠", "nps", 10),
        ("۸", "nps", 8),  # Extended Arabic-Indic (Persian/Urdu) digits
        ("٩ من ١٠", "nps", 9),
        ("تسعة", "nps", 9),
        ("تسعه", "nps", 9),
        ("عشرة شكرا لكم", "nps", 10),
        ("خمسة", "csat", 5),
        ("أربعة", "csat", 4),
        ("ثلاثة", "ces", 3),
        ("٥", "csat", 5),
        ("4/5", "csat", 4),
        ("７", "ces", 7),  # full-width digit
        ("Ｔｅｎ", "nps", 10),
    ],
)
def test_scores_customers_type(text: str, metric: str, score: int) -> None:
    assert read_score(text, metric) == score  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "metric"),
    [
        ("I waited 3 days for a reply", "nps"),  # a number in a sentence is not a score
        ("One of the best shops", "nps"),
        ("9.5", "nps"),
        ("11", "nps"),
        ("8", "csat"),  # off the asked scale: a comment, never a clipped score
        ("8/10", "csat"),  # a fraction of a different scale
        ("great service", "nps"),
        ("", "nps"),
        ("order 12345 was late", "nps"),
        ("الخدمة ممتازة", "nps"),
    ],
)
def test_text_without_a_score_on_the_scale_is_a_comment(text: str, metric: str) -> None:
    assert read_score(text, metric) is None  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300), st.sampled_from(["nps", "csat", "ces"]))
def test_any_text_gives_a_score_on_the_scale_or_none(text: str, metric: str) -> None:
    score = read_score(text, metric)  # type: ignore[arg-type]
    top = {"nps": 10, "csat": 5, "ces": 7}[metric]
    assert score is None or (0 if metric == "nps" else 1) <= score <= top


def test_arabic_replies_are_tagged_arabic() -> None:
    assert guess_language("الخدمة ممتازة 9") == "ar"
    assert guess_language("Great service") is None
    assert guess_language(None) is None


@pytest.mark.parametrize(
    ("body", "reply"),
    [
        (
            "9 - quick delivery\n\nOn Mon, Nov 23, 2026 at 10:00 AM Survey <s@x.com>\nwrote:\n"
            "> How likely are you to recommend us?\n",
            "9 - quick delivery",
        ),
        ("Ten\n\n> quoted\n> more", "Ten"),
        ("Nine\n-- \nJane Doe\nACME Corp", "Nine"),
        ("8\nSent from my iPhone\n", "8"),
        (
            "تسعة، شكرا\n\nفي الاثنين، ٢٣ نوفمبر ٢٠٢٦ ١٠:٠٠ ص، كتب Survey <s@x.com>:\n> السؤال",
            "تسعة، شكرا",
        ),
        ("٧\n\n-----الرسالة الأصلية-----\nمن: Survey", "٧"),
        ("5 stars\n\nFrom: Survey <s@x.com>\nSent: Monday, 23 November 2026\nTo: me", "5 stars"),
        ("10\r\n\r\nOn 23 Nov 2026, at 10:00, Survey <s@x.com> wrote:\r\n\r\n> q", "10"),
    ],
)
def test_quoted_history_and_signatures_are_stripped(body: str, reply: str) -> None:
    assert strip_reply(body) == reply


def test_message_id_is_read_from_a_header_block() -> None:
    headers = "Received: by mx\nMessage-ID: <CAF=abc@mail.gmail.com>\nSubject: Re: survey\n"
    assert message_id(headers) == "CAF=abc@mail.gmail.com"
    assert message_id("Subject: none\n") is None
