"""What every provider integration implements: authenticate a raw delivery, then parse it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

from services.ingest.sources import ActiveSource
from shared.metric_math import Metric
from shared.problems import FieldError

if TYPE_CHECKING:
    from services.ingest.providers.forms import Form


@dataclass(frozen=True)
class Delivery:
    """A webhook exactly as received: signatures are computed over these bytes, never a re-encoding."""

    body: bytes
    headers: Mapping[str, str]
    url: str
    received_at: datetime

    @property
    def content_type(self) -> str | None:
        """The media type without parameters."""
        value = self.headers.get("content-type")
        return value.split(";", 1)[0].strip().lower() if value else None

    @cached_property
    def form(self) -> Form:
        """The body read as a form, once: a provider reads it to authenticate and again to parse.

        Raises Unparseable (not cached, so it is raised again) if the body is no form.
        """
        # Imported here because forms imports this module (for Unparseable).
        from services.ingest.providers.forms import read_form

        return read_form(self)[0]


@dataclass(frozen=True)
class ParsedFeedback:
    """One response read out of a delivery, before it gets its event id and envelope."""

    provider_message_id: str
    occurred_at: datetime
    metric: Metric | None = None
    score: int | None = None
    text: str | None = None
    language: str | None = None
    respondent_id: str | None = None
    touchpoint: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    # Higher for a later version of the same response (e.g. the provider's update time in ms).
    revision: int = 0


class Unauthenticated(Exception):
    """The delivery's signature or credentials do not match the source: answer 401, keep nothing."""


class Unparseable(Exception):
    """An authentic delivery that cannot become feedback: answer 422 and dead-letter it whole."""

    def __init__(self, reason: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = list(errors)


class Provider(Protocol):
    """One provider's webhook format and signature scheme."""

    name: str

    def authenticate(self, delivery: Delivery, source: ActiveSource) -> str | None:
        """Raise Unauthenticated unless one of the source's secrets signed these exact bytes.

        A provider that signs a single-use token (Mailgun) returns it: the endpoint refuses a
        delivery whose token it has already accepted, so a captured request cannot be replayed.
        """

    def parse(self, delivery: Delivery, source: ActiveSource) -> list[ParsedFeedback]:
        """Read the responses out of an authentic delivery; raise Unparseable if it cannot."""
