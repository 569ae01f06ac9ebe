"""Dead-lettered deliveries, for admins: authentic webhooks that could not be parsed, kept whole,
and replayed through ingest once the cause (usually the source's config) is fixed."""

from __future__ import annotations

import base64
import logging
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field, SecretStr
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from services.api.deps import AdminKey, SessionDep, SettingsDep
from services.api.feedback_query import NO_NUL
from services.api.redrive_client import StillUnparseable, replay_delivery
from shared.db import transaction
from shared.models import DeadLetterRecord
from shared.problems import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_RESPONSES,
    Problem,
    ProblemError,
    problem_doc,
    problem_responses,
)
from shared.redrive import REPLAY_SETTING, RedriveRequest

log = logging.getLogger(__name__)

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
    "replayed_at",
)
LetterId = Annotated[int, Path(ge=1, le=2**62, description="The dead letter's id")]


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
    replayed_at: datetime | None = Field(
        description="When a replay last turned it into events; null if none has yet"
    )


class DeadLetterDetail(DeadLetterOut):
    """A dead-lettered delivery with its field errors, raw body, and where it sat on the topic."""

    errors: list[dict[str, Any]] = Field(description="Field errors found while parsing")
    body_base64: str = Field(description="The raw request body, base64")
    headers: dict[str, str] = Field(
        description="The request headers parsers read, kept for a replay (never credentials)"
    )
    replay_attempted_at: datetime | None = Field(description="When a replay was last tried")
    replay_event_ids: list[uuid.UUID] | None = Field(
        description="The events the last successful replay produced"
    )
    replay_error: dict[str, Any] | None = Field(
        description="The problem document of the last replay, if it failed; null after a success"
    )
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
    replayed: Annotated[
        bool | None, Query(description="true: only those replayed; false: only those not yet")
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
    if replayed is not None:
        query = query.where(dl.replayed_at.is_not(None) if replayed else dl.replayed_at.is_(None))
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
    letter_id: LetterId,
    session: SessionDep,
    _: AdminKey,
) -> dict[str, Any]:
    """One dead letter, with the field errors and the raw body, base64."""
    row = session.get(DeadLetterRecord, letter_id)
    if row is None:
        raise ProblemError(404, "Dead letter not found", f"no dead letter with id {letter_id}")
    fields = (
        *_LISTED,
        "errors",
        "kafka_topic",
        "kafka_partition",
        "kafka_offset",
        "headers",
        "replay_attempted_at",
        "replay_event_ids",
        "replay_error",
    )
    return {f: getattr(row, f) for f in fields} | {
        "body_base64": base64.b64encode(row.body).decode()
    }


class ReplayOutcome(BaseModel):
    """A replay that went through: the events the broker now holds (none if ignored)."""

    id: int = Field(description="The dead letter's id")
    status: Literal["accepted", "ignored"] = Field(
        description="accepted: events produced; ignored: authentic but not feedback (a ping)"
    )
    event_ids: list[uuid.UUID] = Field(
        description="Derived from the provider's ids, so replaying again gives the same ones "
        "and the feedback is stored once"
    )
    replayed_at: datetime


def _problem_entry(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description, "content": {PROBLEM_MEDIA_TYPE: {}}}


@router.post(
    "/{letter_id}/replay",
    response_model=ReplayOutcome,
    summary="Replay a dead letter after fixing its cause",
    responses={
        **problem_responses(404, 409),
        422: problem_doc(422, "The delivery still cannot be parsed; `errors` says where"),
        502: _problem_entry("Ingest answered in a way the API did not expect"),
        503: _problem_entry(
            f"Replay is off ({REPLAY_SETTING} unset) or misconfigured, or ingest or its broker "
            "is unavailable; `detail` says which"
        ),
    },
)
def replay_dead_letter(
    letter_id: LetterId,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _: AdminKey,
) -> dict[str, Any]:
    """Have ingest parse the stored delivery again with the source's current config.

    The provider's signature is not checked again (it was when the delivery arrived). The
    outcome is recorded on the dead letter either way; replaying twice yields the same events.
    """
    row = session.get(DeadLetterRecord, letter_id)
    if row is None:
        raise ProblemError(404, "Dead letter not found", f"no dead letter with id {letter_id}")
    if row.source_id is None or row.received_at is None:
        raise ProblemError(
            409, "Not a delivery", "this record is not a webhook delivery and cannot be replayed"
        )
    secret: SecretStr | None = request.app.state.internal_secret
    if secret is None:
        raise ProblemError(
            503,
            "Replay disabled",
            f"set {REPLAY_SETTING} (at least 32 random characters, the same value) on the API "
            "and ingest services to replay dead letters",
        )
    call = RedriveRequest(
        source_id=row.source_id,
        content_type=row.content_type,
        headers=row.headers,
        body_base64=base64.b64encode(row.body).decode(),
        received_at=row.received_at,
        request_id=row.request_id,
    )
    session.rollback()  # hold no transaction open while ingest works
    sessions: sessionmaker[Session] = request.app.state.sessions
    try:
        result = replay_delivery(
            ingest_url=settings.ingest_url or settings.public_ingest_url,
            secret=secret.get_secret_value(),
            call=call,
            timeout_s=settings.replay_timeout_seconds,
        )
    except StillUnparseable as exc:
        _record(sessions, letter_id, error=exc.problem)
        raise ProblemError(
            422, "Still unprocessable", exc.problem.detail, errors=exc.problem.errors
        ) from None
    except ProblemError as exc:
        _record(sessions, letter_id, error=exc.problem)
        raise
    now = _record(sessions, letter_id, event_ids=result.event_ids)
    log.info(
        "dead letter replayed",
        extra={"dead_letter_id": letter_id, "event_ids": [str(i) for i in result.event_ids]},
    )
    return {
        "id": letter_id,
        "status": result.status,
        "event_ids": result.event_ids,
        "replayed_at": now,
    }


def _record(
    sessions: sessionmaker[Session],
    letter_id: int,
    *,
    event_ids: list[uuid.UUID] | None = None,
    error: Problem | None = None,
) -> datetime:
    """Keep a replay's outcome on the dead letter in its own transaction, a failure included."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {"replay_attempted_at": now}
    if error is not None:
        values["replay_error"] = error.model_dump(exclude_none=True)
    else:
        values |= {"replayed_at": now, "replay_event_ids": event_ids, "replay_error": None}
    with transaction(sessions) as session:
        session.execute(
            update(DeadLetterRecord).where(DeadLetterRecord.id == letter_id).values(**values)
        )
    return now
