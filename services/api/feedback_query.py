"""Which feedback a listing or export covers: filters, Arabic/English comment search, and rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import ColumnElement, Select, and_, func, literal, text

from services.api.metric_params import parse_tags
from services.api.windows import bad_param
from shared.events import Channel
from shared.metric_math import Metric
from shared.models import Feedback
from shared.text.themes import THEME_KEY

NO_NUL = r"^[^\x00]*$"
SentimentLabel = Literal["negative", "neutral", "positive"]
MAX_SEARCH_TERMS = 10


class FeedbackOut(BaseModel):
    """One stored response."""

    event_id: uuid.UUID
    source_id: str
    channel: Channel
    provider: str
    metric: Metric | None
    score: int | None
    text: str | None
    language: str | None
    respondent_id: str | None
    touchpoint: str | None
    tags: dict[str, str]
    occurred_at: datetime
    received_at: datetime
    excluded_reason: str | None = Field(description="Why it is kept out of the scores, if it is")
    sentiment_score: float | None = Field(
        description="Comment sentiment, -1 (negative) to 1 (positive); null without a comment "
        "or when it was stored unanalysed"
    )
    sentiment_label: SentimentLabel | None = Field(
        description="negative, neutral or positive; null like sentiment_score"
    )
    themes: list[str] = Field(
        description="Keys of the taxonomy themes the comment mentions (see /v1/themes/taxonomy)"
    )


FIELDS = tuple(FeedbackOut.model_fields)
_THEMES = func.coalesce(Feedback.themes, text("'{}'::varchar[]"))
COLUMNS = tuple(
    Feedback.text_ if f == "text" else _THEMES if f == "themes" else getattr(Feedback, f)
    for f in FIELDS
)
CSV_COLUMNS = tuple(
    func.array_to_string(_THEMES, " ") if f == "themes" else c
    for f, c in zip(FIELDS, COLUMNS, strict=True)
)
"""COLUMNS for CSV, where themes are one space-separated cell."""


def search_text(value: Any) -> ColumnElement[str]:
    """The database's voc_search_text(): case, Arabic letter variants, diacritics and tatweel folded."""
    return func.voc_search_text(value)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class FeedbackFilters:
    """The filters of one listing or export, already checked."""

    conditions: tuple[ColumnElement[bool], ...]

    def apply(self, query: Select[Any]) -> Select[Any]:
        """Narrow a select over feedback by every filter."""
        return query.where(*self.conditions) if self.conditions else query


def feedback_filters(
    channel: Annotated[Channel | None, Query(description="Only this channel")] = None,
    source_id: Annotated[
        str | None, Query(max_length=64, pattern=NO_NUL, description="Only this source")
    ] = None,
    metric: Annotated[Metric | None, Query(description="Only responses with this metric")] = None,
    score_min: Annotated[int | None, Query(ge=0, le=10, description="score >= score_min")] = None,
    score_max: Annotated[int | None, Query(ge=0, le=10, description="score <= score_max")] = None,
    language: Annotated[
        str | None, Query(max_length=16, pattern=NO_NUL, description="Language tag, e.g. ar, en")
    ] = None,
    touchpoint: Annotated[
        str | None, Query(max_length=128, pattern=NO_NUL, description="Only this touchpoint")
    ] = None,
    tag: Annotated[
        list[str] | None,
        Query(description="Tag filter key:value, repeatable (up to 10); all must hold"),
    ] = None,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="occurred_at >= from (RFC 3339)")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="occurred_at < to (RFC 3339)")] = None,
    has_comment: Annotated[
        bool | None, Query(description="true: only with a comment; false: only without")
    ] = None,
    theme: Annotated[
        list[str] | None,
        Query(description="Theme key, repeatable (up to 10); the comment must mention all"),
    ] = None,
    sentiment: Annotated[
        SentimentLabel | None, Query(description="Only comments with this sentiment label")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            pattern=NO_NUL,
            description="Words the comment must all contain (up to 10, any order, substrings "
            "match). Case, Arabic alef/yeh/teh-marbuta variants, diacritics and tatweel are "
            "ignored, so أسعار matches اسعار.",
        ),
    ] = None,
) -> FeedbackFilters:
    """Check the filter parameters and turn them into SQL conditions, naming any bad one."""
    if score_min is not None and score_max is not None and score_min > score_max:
        raise bad_param("query.score_min", "score_min must not be greater than score_max")
    fb = Feedback
    conds: list[ColumnElement[bool]] = [
        column == value
        for column, value in (
            (fb.channel, channel),
            (fb.source_id, source_id),
            (fb.metric, metric),
            (fb.language, language.lower() if language else None),
            (fb.touchpoint, touchpoint),
        )
        if value is not None
    ]
    if score_min is not None:
        conds.append(fb.score >= score_min)
    if score_max is not None:
        conds.append(fb.score <= score_max)
    if from_ is not None:
        conds.append(fb.occurred_at >= from_)
    if to is not None:
        conds.append(fb.occurred_at < to)
    tags = parse_tags(tag or [])
    if tags:
        conds.append(fb.tags.contains(dict(tags)))
    themes = sorted(set(theme or []))
    if len(themes) > MAX_SEARCH_TERMS or any(not THEME_KEY.match(t) for t in themes):
        raise bad_param(
            "query.theme", f"up to {MAX_SEARCH_TERMS} theme keys like delivery or price_value"
        )
    if themes:
        conds.append(fb.themes.contains(themes))
    if sentiment is not None:
        conds.append(fb.sentiment_label == sentiment)
    if has_comment is not None:
        present = and_(fb.text_.is_not(None), fb.text_ != "")
        conds.append(present if has_comment else ~present)
    if q is not None:
        terms = q.split()[:MAX_SEARCH_TERMS]
        if not terms:
            raise bad_param("query.q", "q must contain at least one word")
        haystack = search_text(fb.text_)
        for term in terms:
            needle = literal("%") + search_text(_escape_like(term)) + literal("%")
            conds.append(haystack.like(needle, escape="\\"))
    return FeedbackFilters(conditions=tuple(conds))


FiltersDep = Annotated[FeedbackFilters, Depends(feedback_filters)]


def newest_first(query: Select[Any]) -> Select[Any]:
    """The one order every listing uses, which keyset cursors rely on."""
    return query.order_by(Feedback.occurred_at.desc(), Feedback.event_id.desc())


def row_out(row: Any) -> dict[str, Any]:
    """A selected COLUMNS row as a FeedbackOut-shaped dict."""
    return dict(zip(FIELDS, row, strict=True))
