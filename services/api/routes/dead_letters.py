"""Dead-lettered deliveries, for admins: authentic webhooks that could not be parsed, kept whole."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.api.deps import AdminKey, SessionDep, SettingsDep
from services.api.feedback_query import NO_NUL
from shared.models import DeadLetterRecord
from shared.problems import PROBLEM_RESPONSES, ProblemError, problem_responses

router = APIRouter(prefix="/v1/dead-letters", tags=["dead letters"], responses=PROBLEM_RESPONSES)
_LISTED = (
    "id",
    "source_id",
    "provider",
    "reason",
    "content_type",
    "request_id",
    "received_at",
    "recorded_at",
)


class DeadLetterOut(BaseModel):
    """A dead-lettered delivery as listed, without its body."""

    id: int
    source_id: str | None = Field(description="Null for a record that was not a delivery")
    provider: str | None
    reason: str = Field(description="Why it could not be turned into feedback")
    content_type: str | None
    request_id: str | None = Field(description="The ingest request id, to find its log lines")
    received_at: datetime | None = Field(description="When ingest received the delivery")
    recorded_at: datetime = Field(description="When it was stored here")


class DeadLetterDetail(DeadLetterOut):
    """A dead-lettered delivery with its field errors, raw body, and where it sat on the topic."""

    errors: list[dict[str, Any]] = Field(description="Field errors found while parsing")
    body_base64: str = Field(description="The raw request body, base64")
    kafka_topic: str
    kafka_partition: int
    kafka_offset: int


class DeadLetterPage(BaseModel):
    """A page of dead letters, newest first, and the cursor for the next (null on the last)."""

    items: list[DeadLetterOut]
    next_cursor: int | None


@router.get("", response_model=DeadLetterPage, summary="List dead letters, newest first")
def list_dead_letters(
    session: SessionDep,
    settings: SettingsDep,
    _: AdminKey,
    source_id: Annotated[
        str | None, Query(max_length=64, pattern=NO_NUL, description="Only this source")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Items per page")] = 50,
    cursor: Annotated[
        int | None, Query(ge=1, le=2**62, description="next_cursor of the previous page")
    ] = None,
) -> dict[str, Any]:
    """Dead letters by id, descending; follow next_cursor for more."""
    limit = min(limit, settings.max_page_size)
    dl = DeadLetterRecord
    query = select(*(getattr(dl, c) for c in _LISTED)).order_by(dl.id.desc()).limit(limit + 1)
    if source_id is not None:
        query = query.where(dl.source_id == source_id)
    if cursor is not None:
        query = query.where(dl.id < cursor)
    items = [dict(zip(_LISTED, row, strict=True)) for row in session.execute(query)]
    more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": items[-1]["id"] if more else None}


@router.get(
    "/{letter_id}",
    response_model=DeadLetterDetail,
    summary="Show a dead letter with its raw body",
    responses=problem_responses(404),
)
def get_dead_letter(
    letter_id: Annotated[int, Path(ge=1, le=2**62, description="The dead letter's id")],
    session: SessionDep,
    _: AdminKey,
) -> dict[str, Any]:
    """One dead letter, with the field errors and the raw body, base64."""
    row = session.get(DeadLetterRecord, letter_id)
    if row is None:
        raise ProblemError(404, "Dead letter not found", f"no dead letter with id {letter_id}")
    fields = (*_LISTED, "errors", "kafka_topic", "kafka_partition", "kafka_offset")
    return {f: getattr(row, f) for f in fields} | {
        "body_base64": base64.b64encode(row.body).decode()
    }
