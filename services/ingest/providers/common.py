"""Small pieces several providers need: reading the source config, JSON bodies, timestamps."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from services.ingest.providers.base import Delivery, Unparseable
from services.ingest.sources import ActiveSource
from shared.problems import field_errors

C = TypeVar("C", bound=BaseModel)


def source_config(source: ActiveSource, model: type[C]) -> C:
    """The source's config read with its provider's model; a bad one dead-letters the delivery
    (it can be replayed once the source is fixed) rather than guessing."""
    try:
        return model.model_validate(source.config)
    except ValidationError as exc:
        raise Unparseable(
            "the source's config does not fit its provider",
            field_errors(exc.errors(include_input=False), prefix="source.config"),
        ) from None


def json_object(delivery: Delivery) -> dict[str, Any]:
    """The body as a JSON object, or Unparseable."""
    try:
        doc = json.loads(delivery.body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unparseable(f"body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise Unparseable("body is not a JSON object")
    return doc


def validated(model: type[C], doc: Any, what: str) -> C:
    """`doc` read with `model`, or Unparseable naming each field at fault under `body`."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise Unparseable(
            f"body is not a {what}", field_errors(exc.errors(include_input=False), prefix="body")
        ) from None


def epoch_ms(moment: datetime) -> int:
    """A revision number from a provider's updated-at: later versions get higher numbers."""
    return max(0, int(moment.timestamp() * 1000))


def from_epoch(seconds: float) -> datetime:
    """A provider's Unix timestamp as an aware datetime; an impossible one is Unparseable."""
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError):
        raise Unparseable(f"timestamp {seconds!r} is not a plausible Unix time") from None
