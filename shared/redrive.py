"""The internal channel the API uses to have ingest re-parse a dead-lettered delivery.

The API must not import ingest's parsers, so it posts the stored delivery to ingest, which
parses it with the source's current config and produces the event. The call is signed with
an HMAC-SHA256 over a timestamp and the exact body, keyed by `VOC_INTERNAL_SECRET`, a secret
only the two services hold: anyone else who can reach ingest gets 401. The timestamp bounds
how long a captured call could be re-sent, and re-sending one only replays the same letter,
which yields the same event ids.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REDRIVE_PATH = "/internal/redrive"
SIGNATURE_HEADER = "x-voc-signature"
TIMESTAMP_HEADER = "x-voc-timestamp"
TOLERANCE_SECONDS = 300
REPLAY_SETTING = "VOC_INTERNAL_SECRET"
_MIN_SECRET_CHARS = 32


class InternalSettings(BaseSettings):
    """The secret shared by the API and ingest; unset turns dead-letter replay off."""

    model_config = SettingsConfigDict(env_prefix="VOC_", extra="ignore", frozen=True)

    internal_secret: SecretStr | None = Field(
        default=None,
        description="At least 32 random characters, the same on the API and ingest; signs the "
        "API's replay calls to ingest. Unset: dead letters cannot be replayed",
    )

    @field_validator("internal_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value()) < _MIN_SECRET_CHARS:
            raise ValueError(f"must be at least {_MIN_SECRET_CHARS} characters")
        return value


class RedriveRequest(BaseModel):
    """A dead-lettered delivery as the API sends it back to ingest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source_id: str = Field(min_length=1, max_length=64)
    content_type: str | None = Field(default=None, max_length=255)
    headers: dict[str, str] = Field(
        default_factory=dict, max_length=32, description="The parse-relevant headers kept"
    )
    body_base64: str
    received_at: AwareDatetime = Field(description="When ingest first received it")
    request_id: str | None = Field(default=None, max_length=64)

    def body(self) -> bytes:
        """The raw delivery body."""
        return base64.b64decode(self.body_base64, validate=True)


class RedriveResult(BaseModel):
    """Ingest's answer to a replay that parsed: the events the broker now holds (none if ignored)."""

    status: Literal["accepted", "ignored"]
    event_ids: list[uuid.UUID]


def signature_for(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` + hex HMAC-SHA256 of "<timestamp>.<body>"."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, *, now: datetime) -> dict[str, str]:
    """The headers that authenticate `body` as a call from the API."""
    stamp = str(int(now.timestamp()))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature_for(secret, stamp, body)}


def refusal(secret: str, body: bytes, headers: Mapping[str, str], *, now: datetime) -> str | None:
    """Why a call is not from the API (None if it is): a missing, stale or wrong signature."""
    stamp = headers.get(TIMESTAMP_HEADER, "")
    presented = headers.get(SIGNATURE_HEADER, "")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12) or not presented:
        return f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required"
    if abs(now.timestamp() - int(stamp)) > TOLERANCE_SECONDS:
        return f"{TIMESTAMP_HEADER} is more than {TOLERANCE_SECONDS} s from now"
    expected = signature_for(secret, stamp, body)
    if not hmac.compare_digest(expected.encode(), presented.strip().encode()):
        return f"{SIGNATURE_HEADER} does not match"
    return None
