"""Replaying a dead-lettered delivery, for the API only: parse it again with the source's config
as it is now and put its events on the broker, exactly as if the webhook had just arrived.

The provider's signature is not checked again (the delivery was authenticated before it was
dead-lettered, and its timestamp is long stale); the call itself must carry the API's
internal HMAC (shared.redrive), so nobody else can inject events through this route.
"""

from __future__ import annotations

import binascii
import logging
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr, ValidationError

from services.ingest.config import IngestSettings
from services.ingest.normalise import feedback_events
from services.ingest.providers.base import Delivery, Provider, Unparseable
from services.ingest.publish import broker_unavailable, publish
from services.ingest.routes.bodies import read_limited
from services.ingest.sources import SourceDirectory
from shared.kafka import BrokerUnavailable
from shared.problems import ProblemError, field_errors
from shared.redrive import REDRIVE_PATH, REPLAY_SETTING, RedriveRequest, RedriveResult, refusal

log = logging.getLogger(__name__)
router = APIRouter()


@router.post(REDRIVE_PATH, include_in_schema=False)
async def redrive(request: Request) -> JSONResponse:
    """Parse a stored delivery again and produce its events; 422 with the errors if it still fails."""
    state = request.app.state
    settings: IngestSettings = state.settings
    secret: SecretStr | None = state.internal_secret
    if secret is None:
        raise ProblemError(
            503, "Replay disabled", f"set {REPLAY_SETTING} on ingest and the API to enable it"
        )
    raw = await read_limited(request, 2 * settings.max_body_bytes + 65536)
    headers = {k.lower(): v for k, v in request.headers.items()}
    reason = refusal(secret.get_secret_value(), raw, headers, now=datetime.now(UTC))
    if reason is not None:
        log.warning("internal replay call refused", extra={"reason": reason})
        raise ProblemError(401, "Not an internal call", reason)
    try:
        call = RedriveRequest.model_validate_json(raw)
        body = call.body()
    except ValidationError as exc:
        raise ProblemError(
            422, "Invalid replay request", errors=field_errors(exc.errors(include_input=False))
        ) from None
    except (binascii.Error, ValueError):
        raise ProblemError(422, "Invalid replay request", "body_base64 is not base64") from None

    directory: SourceDirectory = state.sources
    source = await directory.fresh(call.source_id)
    provider: Provider | None = state.providers.get(source.provider) if source else None
    if source is None or provider is None:
        raise ProblemError(404, "Unknown source", f"no enabled source with id {call.source_id!r}")
    delivery_headers = {k.lower(): v for k, v in call.headers.items()}
    if call.content_type and "content-type" not in delivery_headers:
        delivery_headers["content-type"] = call.content_type
    delivery = Delivery(body=body, headers=delivery_headers, url="", received_at=call.received_at)
    request_id = call.request_id or uuid.uuid4().hex
    try:
        parsed = provider.parse(delivery, source)
    except Unparseable as exc:
        raise ProblemError(422, "Still unprocessable", exc.reason, errors=exc.errors) from None
    except KeyError as exc:  # a letter kept before its headers were: the parser needs one
        raise ProblemError(
            422, "Still unprocessable", f"the stored delivery lacks the {exc} header"
        ) from None
    if not parsed:
        return JSONResponse(RedriveResult(status="ignored", event_ids=[]).model_dump(mode="json"))
    events = feedback_events(
        parsed, source=source, received_at=call.received_at, request_id=request_id
    )
    try:
        await publish(state.producer, state.feedback_topic, events, request_id=request_id)
    except BrokerUnavailable:
        raise broker_unavailable(settings.retry_after_seconds) from None
    ids = [e.event_id for e in events]
    log.info(
        "dead letter replayed",
        extra={
            "source_id": source.id,
            "request_id": request_id,
            "event_ids": [str(i) for i in ids],
        },
    )
    return JSONResponse(RedriveResult(status="accepted", event_ids=ids).model_dump(mode="json"))
