"""What the customer actually wrote in an email reply: quoted history and signatures removed.

A reply to a survey email carries the survey itself underneath ("On ... wrote:" and `>`
lines) and a signature; reading a score from those would count the question, not the answer.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.parser import HeaderParser
from email.policy import compat32

from services.ingest.providers.base import ParsedFeedback, Unparseable
from services.ingest.textscore import guess_language, read_score
from shared.metric_math import Metric

# A line that starts the quoted original; everything from it on is history, not the reply.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),  # Gmail, Apple Mail
    re.compile(r"^\s*Le\b.{0,300}\ba écrit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*في\b.{0,300}\bكتب.{0,200}:\s*$", re.DOTALL),  # Gmail in Arabic
    re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(الرسالة الأصلية|رسالة معاد توجيهها)\s*-{2,}"),
    re.compile(r"^\s*_{10,}\s*$"),  # Outlook's rule above the quoted header block
]
# Outlook's quoted header block: "From:" followed within two lines by "Sent:"/"Date:".
_FROM = re.compile(r"^\s*\*?(From|من)\s*:\*?\s", re.IGNORECASE)
_SENT = re.compile(r"^\s*\*?(Sent|Date|تاريخ الإرسال|التاريخ|أرسلت|مرسل)\s*:", re.IGNORECASE)
# Where a signature begins: RFC 3676's "-- " and the phone footers mail apps add.
_SIGNATURE = [
    re.compile(r"^--\s?$"),
    re.compile(r"^\s*Sent from my \S+", re.IGNORECASE),
    re.compile(r"^\s*Get Outlook for \S+", re.IGNORECASE),
    re.compile(r"^\s*(أرسلت|ارسلت|أُرسلت|مرسل|تم الإرسال) من\s"),
]


def strip_reply(text: str) -> str:
    """The new text of a reply: up to the quoted original or the signature, without `>` lines."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        two = line + " " + lines[i + 1] if i + 1 < len(lines) else line  # headers wrap onto 2 lines
        if any(p.match(line) or p.match(two) for p in _QUOTE_HEADERS):
            break
        if _FROM.match(line) and any(_SENT.match(n) for n in lines[i + 1 : i + 3]):
            break
        if any(p.match(line) for p in _SIGNATURE):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def message_id(raw_headers: str | None) -> str | None:
    """The Message-ID of a header block, without its angle brackets."""
    if not raw_headers:
        return None
    value = HeaderParser(policy=compat32).parsestr(raw_headers, headersonly=True).get("Message-ID")
    return clean_message_id(str(value)) if value else None


def clean_message_id(value: str | None) -> str | None:
    """A Message-ID as an id: whitespace and angle brackets removed; None if nothing is left."""
    if not value:
        return None
    cleaned = value.strip().strip("<>").strip()
    return cleaned[:256] or None


def reply_feedback(
    *,
    message_id: str,
    body: str,
    sender: str,
    metric: Metric | None,
    touchpoint: str | None,
    received_at: datetime,
) -> list[ParsedFeedback]:
    """An email reply as feedback: the quoted thread dropped, a score read if the survey asked one."""
    text = strip_reply(body)
    score = read_score(text, metric) if metric else None
    if score is None and not text:
        raise Unparseable("the reply has neither a score nor any text")
    return [
        ParsedFeedback(
            provider_message_id=message_id,
            occurred_at=received_at,
            metric=metric if score is not None else None,
            score=score,
            text=text[:20_000] or None,
            language=guess_language(text),
            respondent_id=sender[:256] or None,
            touchpoint=touchpoint,
        )
    ]
