"""The webhook endpoint: authenticate, parse, and answer 202 only once the broker has the event."""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError

from services.ingest.config import IngestSettings
from services.ingest.normalise import feedback_events, kept_headers
from services.ingest.providers.base import Delivery, Provider, Unauthenticated, Unparseable
from services.ingest.publish import broker_unavailable, publish, traced
from services.ingest.replay import NonceStore
from services.ingest.routes.bodies import read_limited
from services.ingest.sources import ActiveSource, SourceDirectory
from shared.events import DeadLetter
from shared.kafka import BrokerUnavailable, EventProducer
from shared.observability import WEBHOOK_DELIVERIES
from shared.problems import PROBLEM_MEDIA_TYPE, Problem, ProblemError

log = logging.getLogger(__name__)
router = APIRouter()
# The source label before a source is found: the path's id is client-chosen, so it is
# never a label value (it would let anyone create metric series).
UNKNOWN_SOURCE = "unknown"


def _count(source: str, outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(source, outcome).inc()


@contextmanager
def _counting_database_outage(source: str) -> Iterator[None]:
    """Count a database failure as this delivery's outcome and let it propagate: the handler
    shared/unavailable.py installs answers it 503, which the provider retries."""
    try:
        yield
    except SQLAlchemyError:
        _count(source, "database_unavailable")
        raise


class Accepted(BaseModel):
    """The answer to an accepted delivery: the ids of the events the broker now holds."""

    status: str = "accepted"
    event_ids: list[uuid.UUID] = Field(description="One per response in the delivery")
    event_id: uuid.UUID = Field(description="The first (usually only) event id")


def _problem_doc(status: int, text: str) -> dict[str, object]:
    return {"model": Problem, "description": text, "content": {PROBLEM_MEDIA_TYPE: {}}}


@router.post(
    "/v1/webhooks/{source_id}",
    status_code=202,
    response_model=Accepted,
    summary="Receive a provider webhook for a source",
    responses={
        200: {
            "description": "Authentic but not feedback (a ping, an unsubscribe), or a Twilio "
            "delivery answered with TwiML (`application/xml`)"
        },
        401: _problem_doc(401, "The signature is missing, wrong, or too old"),
        404: _problem_doc(404, "No enabled source has this id"),
        413: _problem_doc(413, "The body is larger than the limit"),
        406: _problem_doc(406, "Mailgun only: dead-lettered or replayed; Mailgun stops retrying"),
        422: _problem_doc(422, "Authentic but invalid; dead-lettered, `errors` says where"),
        503: _problem_doc(503, "The broker did not acknowledge; retry after Retry-After"),
    },
)
async def receive_webhook(
    request: Request,
    source_id: Annotated[str, Path(max_length=64)],
) -> Response:
    """Accept one delivery: 202 means every event in it is on the broker with acks=all."""
    state = request.app.state
    settings: IngestSettings = state.settings
    directory: SourceDirectory = state.sources
    try:
        body = await read_limited(request, settings.max_body_bytes)
    except ProblemError:
        _count(UNKNOWN_SOURCE, "too_large")
        raise
    with _counting_database_outage(UNKNOWN_SOURCE):
        source = await directory.get(source_id)
    if source is None:
        _count(UNKNOWN_SOURCE, "unknown_source")
        raise ProblemError(404, "Unknown source", f"no enabled source with id {source_id!r}")
    provider: Provider | None = state.providers.get(source.provider)
    if provider is None:  # a source made by a newer release; refuse rather than guess
        raise ProblemError(
            404, "Unknown source", f"provider {source.provider!r} is not served here"
        )

    delivery = Delivery(
        body=body,
        headers={k.lower(): v for k, v in request.headers.items()},
        url=str(request.url),
        received_at=datetime.now(UTC),
    )
    try:
        nonce = provider.authenticate(delivery, source)
    except Unauthenticated as exc:
        _count(source.id, "unauthorized")
        log.info("webhook refused", extra={"source_id": source_id, "reason": str(exc)})
        raise ProblemError(401, "Invalid signature", str(exc)) from None
    # The status that tells this provider "do not retry" (Mailgun stops only on 406).
    permanent: int = getattr(provider, "permanent_status", 422)
    nonces: NonceStore = state.nonces
    with _counting_database_outage(source.id):
        replayed = nonce is not None and await nonces.seen(source.id, nonce)
    if replayed:
        _count(source.id, "duplicate")
        log.info("replayed webhook refused", extra={"source_id": source_id})
        raise ProblemError(permanent, "Replayed delivery", "this signed token was already used")

    # Set by the RequestIds middleware from a sane X-Request-Id, or made up.
    request_id: str = getattr(request.state, "request_id", None) or uuid.uuid4().hex
    try:
        parsed = provider.parse(delivery, source)
    except Unparseable as exc:
        await _dead_letter(
            state.producer, state.dlq_topic, settings, source, delivery, exc, request_id
        )
        await _remember(nonces, source, nonce)
        _count(source.id, "dead_lettered")
        log.info("unparseable webhook dead-lettered", extra={"source_id": source_id})
        raise ProblemError(
            permanent, "Unprocessable delivery", exc.reason, errors=exc.errors
        ) from None
    if not parsed:  # authentic, well-formed, and not feedback (a ping, an unsubscribe)
        await _remember(nonces, source, nonce)
        _count(source.id, "ignored")
        return JSONResponse(
            {"status": "ignored", "event_ids": []},
            status_code=200,
            headers={"x-request-id": request_id},
        )

    events = feedback_events(
        parsed, source=source, received_at=delivery.received_at, request_id=request_id
    )
    try:
        await publish(state.producer, state.feedback_topic, events, request_id=request_id)
    except BrokerUnavailable as exc:
        _count(source.id, "broker_unavailable")
        log.warning(
            "broker unavailable, answering 503", extra={"source_id": source_id, "error": str(exc)}
        )
        raise broker_unavailable(settings.retry_after_seconds) from None
    await _remember(nonces, source, nonce)
    _count(source.id, "accepted")
    ids = [e.event_id for e in events]
    acknowledge = getattr(provider, "acknowledge", None)
    if acknowledge is not None:  # a provider that reads the answer (Twilio's TwiML reply)
        custom: Response = acknowledge(source)
        custom.headers["x-request-id"] = request_id
        return custom
    return JSONResponse(
        Accepted(event_ids=ids, event_id=ids[0]).model_dump(mode="json"),
        status_code=202,
        headers={"x-request-id": request_id},
    )


@router.head(
    "/v1/webhooks/{source_id}",
    summary="Probe a webhook URL",
    responses={404: _problem_doc(404, "No enabled source has this id")},
)
async def probe_webhook(
    request: Request, source_id: Annotated[str, Path(max_length=64)]
) -> Response:
    """200 for an enabled source, so tools that check a URL before saving it accept it."""
    directory: SourceDirectory = request.app.state.sources
    if await directory.get(source_id) is None:
        return Response(status_code=404)
    return Response(status_code=200)


async def _remember(nonces: NonceStore, source: ActiveSource, nonce: str | None) -> None:
    """Record an accepted token; failing to is logged, not answered: the broker already has it."""
    if nonce is None:
        return
    try:
        await nonces.remember(source.id, nonce)
    except SQLAlchemyError as exc:
        log.warning("could not record a replay token", extra={"error": str(exc)})


async def _dead_letter(
    producer: EventProducer,
    topic: str,
    settings: IngestSettings,
    source: ActiveSource,
    delivery: Delivery,
    exc: Unparseable,
    request_id: str,
) -> None:
    """Keep an authentic delivery we cannot parse, so it can be fixed and replayed, not lost."""
    letter = DeadLetter(
        source_id=source.id,
        provider=source.provider,
        received_at=delivery.received_at,
        reason=exc.reason,
        errors=[e.model_dump() for e in exc.errors],
        # The whole header, not just the media type: a multipart body needs its boundary.
        content_type=delivery.headers.get("content-type"),
        body_base64=base64.b64encode(delivery.body).decode(),
        request_id=request_id,
        headers=kept_headers(delivery.headers),
    )
    try:
        await producer.send(
            topic,
            key=source.id.encode(),
            value=letter.to_bytes(),
            headers=traced(request_id),
        )
    except BrokerUnavailable:
        _count(source.id, "broker_unavailable")
        raise broker_unavailable(settings.retry_after_seconds) from None
