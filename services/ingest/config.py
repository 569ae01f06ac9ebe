"""Settings of the ingest service (prefix `INGEST_`)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    """How the webhook receiver listens, what it accepts, and how long it waits for the broker."""

    model_config = SettingsConfigDict(env_prefix="INGEST_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address to listen on")
    port: int = Field(default=8081, ge=1, le=65535, description="Port to listen on")
    max_body_bytes: int = Field(
        default=256 * 1024,
        ge=1024,
        le=32 * 1024 * 1024,
        description="Largest webhook body accepted; larger ones get 413",
    )
    delivery_timeout_ms: int = Field(
        default=10_000,
        ge=1000,
        le=120_000,
        description="How long to wait for the broker's acknowledgement before answering 503",
    )
    source_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a source's settings are cached; a disabled source or rotated secret "
        "takes effect within this time",
    )
    signature_tolerance_seconds: int = Field(
        default=300,
        ge=30,
        le=3600,
        description="How far a signed timestamp may be from now before a delivery is refused",
    )
    retry_after_seconds: int = Field(
        default=5, ge=1, le=600, description="Retry-After sent with 503 when the broker is down"
    )
    public_base_url: str | None = Field(
        default=None,
        description="Scheme, host and port providers post to (e.g. https://voc.example.com), when "
        "a proxy changes them; Twilio signs the full public URL, so it is validated against this "
        "base plus the request path and query. Unset: the URL as this service received it",
    )

    @field_validator("public_base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        scheme, _, rest = value.partition("://")
        if scheme not in ("http", "https") or not rest or "/" in rest or "?" in rest:
            raise ValueError("must be http(s)://host[:port] with no path")
        return value
