"""Formbricks response webhooks: Standard Webhooks headers and a `whsec_` secret.

The signature check is the generic provider's (the reference library, any valid secret,
a recent timestamp). `responseCreated`, `responseUpdated` and `responseFinished` all carry
the response so far; its id is the idempotency key and its updatedAt the revision, so the
later state of the response replaces the earlier one.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.ingest.providers.base import Delivery, ParsedFeedback
from services.ingest.providers.common import json_object, source_config, validated
from services.ingest.providers.generic import GenericProvider
from services.ingest.providers.surveys import mapped_feedback
from services.ingest.sources import ActiveSource
from shared.providers import SurveyFormConfig

_EVENTS = ("responseCreated", "responseUpdated", "responseFinished")


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=200)
    createdAt: AwareDatetime | None = None
    updatedAt: AwareDatetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    contact: dict[str, Any] | None = None
    language: str | None = Field(default=None, max_length=16)


class FormbricksProvider:
    """Survey responses from Formbricks."""

    name = "formbricks"

    def __init__(self, *, tolerance_seconds: int) -> None:
        self._standard = GenericProvider(tolerance_seconds=tolerance_seconds)

    def authenticate(self, delivery: Delivery, source: ActiveSource) -> None:
        """Standard Webhooks verification, as for the generic provider."""
        self._standard.authenticate(delivery, source)

    def parse(self, delivery: Delivery, source: ActiveSource) -> list[ParsedFeedback]:
        """The mapped answers of the response in a response event."""
        doc = json_object(delivery)
        if doc.get("event") not in _EVENTS:
            return []
        response = validated(_Response, doc.get("data"), "Formbricks response")
        created = response.createdAt or delivery.received_at
        contact = (response.contact or {}).get("id") or (response.contact or {}).get("userId")
        language = response.language if response.language not in (None, "default") else None
        return mapped_feedback(
            response_id=response.id,
            answers=response.data,
            config=source_config(source, SurveyFormConfig),
            occurred_at=created,
            updated_at=response.updatedAt or created,
            respondent_id=str(contact)[:256] if contact else None,
            language=language.lower() if language else None,
        )
