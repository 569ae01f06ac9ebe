"""Stored feedback: a filtered, searchable listing with stable keyset pages, one item, and CSV."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select, tuple_

from services.api.csv_export import CSV_MEDIA_TYPE, csv_chunks
from services.api.deps import ReadKey, SessionDep, SettingsDep
from services.api.feedback_query import (
    COLUMNS,
    CSV_COLUMNS,
    FeedbackOut,
    FiltersDep,
    newest_first,
    row_out,
)
from services.api.windows import bad_param
from shared.models import Feedback
from shared.problems import PROBLEM_RESPONSES, ProblemError, problem_responses

router = APIRouter(prefix="/v1/feedback", tags=["feedback"], responses=PROBLEM_RESPONSES)


class FeedbackPage(BaseModel):
    """A page of feedback and the cursor for the next, null on the last page."""

    items: list[FeedbackOut]
    next_cursor: str | None


def _encode_cursor(item: dict[str, Any]) -> str:
    raw = json.dumps({"t": item["occurred_at"].isoformat(), "id": str(item["event_id"])})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(doc["t"])
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, uuid.UUID(doc["id"])
    except (ValueError, KeyError, TypeError):
        raise bad_param("query.cursor", "is not a cursor this API returned") from None


@router.get("", response_model=FeedbackPage, summary="List and search feedback, newest first")
def list_feedback(
    session: SessionDep,
    settings: SettingsDep,
    filters: FiltersDep,
    _: ReadKey,
    limit: Annotated[
        int, Query(ge=1, le=1000, description="Items per page, capped at API_MAX_PAGE_SIZE")
    ] = 50,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
) -> dict[str, Any]:
    """Feedback ordered by occurred_at then event id, descending; follow next_cursor for more.

    Pages stay stable while new feedback arrives. Every filter combines with the others;
    feedback kept out of the scores is listed too, with its `excluded_reason`.
    """
    limit = min(limit, settings.max_page_size)
    query = filters.apply(newest_first(select(*COLUMNS))).limit(limit + 1)
    if cursor is not None:
        position = tuple_(*_decode_cursor(cursor))
        query = query.where(tuple_(Feedback.occurred_at, Feedback.event_id) < position)
    items = [row_out(r) for r in session.execute(query)]
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": _encode_cursor(items[-1]) if more else None}


@router.get(
    "/export.csv",
    summary="Export filtered feedback as CSV",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "One header line, then one line per response, newest first",
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
def export_feedback(request: Request, filters: FiltersDep, _: ReadKey) -> StreamingResponse:
    """Every response the filters select, as CSV (RFC 4180, UTF-8), streamed as it is read.

    Takes the same filters as `GET /v1/feedback` and has no page limit: rows come from a
    server-side cursor, so memory stays flat however many there are. `tags` is a JSON
    object, `themes` space-separated keys; cells that a spreadsheet would run as a formula
    are prefixed with `'`.
    """
    query = filters.apply(newest_first(select(*CSV_COLUMNS)))
    chunks = csv_chunks(request.app.state.sessions, query)
    first = next(chunks)  # runs the query now, so a database error is still a proper answer
    return StreamingResponse(
        _prepend(first, chunks),
        media_type=CSV_MEDIA_TYPE,
        headers={"Content-Disposition": 'attachment; filename="feedback.csv"'},
    )


def _prepend(first: str, rest: Any) -> Any:
    yield first
    yield from rest


@router.get(
    "/{event_id}",
    response_model=FeedbackOut,
    summary="Show one feedback item",
    responses=problem_responses(404),
)
def get_feedback(
    event_id: Annotated[uuid.UUID, Path(description="The event id, a UUID")],
    session: SessionDep,
    _: ReadKey,
) -> dict[str, Any]:
    """One stored response by its event id."""
    row = session.execute(select(*COLUMNS).where(Feedback.event_id == event_id)).first()
    if row is None:
        raise ProblemError(404, "Feedback not found", f"no feedback with event id {event_id}")
    return row_out(row)
