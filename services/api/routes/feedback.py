"""Stored feedback, newest first, with keyset pagination that stays stable as new feedback arrives."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import select, tuple_

from services.api.deps import ReadKey, SessionDep, SettingsDep
from shared.events import Channel
from shared.metric_math import Metric
from shared.models import Feedback
from shared.problems import PROBLEM_RESPONSES, FieldError, ProblemError

router = APIRouter(prefix="/v1/feedback", tags=["feedback"], responses=PROBLEM_RESPONSES)


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


class FeedbackPage(BaseModel):
    """A page of feedback and the cursor for the next, null on the last page."""

    items: list[FeedbackOut]
    next_cursor: str | None


def _encode_cursor(row: Feedback) -> str:
    raw = json.dumps({"t": row.occurred_at.isoformat(), "id": str(row.event_id)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(doc["t"]), uuid.UUID(doc["id"])
    except (ValueError, KeyError, TypeError):
        msg = "is not a cursor this API returned"
        raise ProblemError(
            422,
            "Invalid request",
            msg,
            errors=[FieldError(loc="query.cursor", msg=msg, type="value_error")],
        ) from None


@router.get("", response_model=FeedbackPage, summary="List feedback, newest first")
def list_feedback(
    session: SessionDep,
    settings: SettingsDep,
    _: ReadKey,
    limit: Annotated[int, Query(ge=1, le=1000, description="Items per page")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
    channel: Annotated[Channel | None, Query()] = None,
    source_id: Annotated[str | None, Query(max_length=64)] = None,
    touchpoint: Annotated[str | None, Query(max_length=128)] = None,
    metric: Annotated[Metric | None, Query()] = None,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="occurred_at >= from")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="occurred_at < to")] = None,
) -> dict[str, Any]:
    """Feedback ordered by occurred_at then event id, descending; follow next_cursor for more."""
    limit = min(limit, settings.max_page_size)
    fb = Feedback
    query = select(fb).order_by(fb.occurred_at.desc(), fb.event_id.desc()).limit(limit + 1)
    for column, value in (
        (fb.channel, channel),
        (fb.source_id, source_id),
        (fb.touchpoint, touchpoint),
        (fb.metric, metric),
    ):
        if value is not None:
            query = query.where(column == value)
    if from_ is not None:
        query = query.where(fb.occurred_at >= from_)
    if to is not None:
        query = query.where(fb.occurred_at < to)
    if cursor is not None:
        query = query.where(tuple_(fb.occurred_at, fb.event_id) < tuple_(*_decode_cursor(cursor)))
    rows = list(session.scalars(query))
    more = len(rows) > limit
    rows = rows[:limit]
    items = [
        {c: getattr(r, c) for c in FeedbackOut.model_fields if c != "text"} | {"text": r.text_}
        for r in rows
    ]
    return {"items": items, "next_cursor": _encode_cursor(rows[-1]) if more and rows else None}
