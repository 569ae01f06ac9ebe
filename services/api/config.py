"""Settings of the API service (prefix `API_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Where the API listens, what it tells clients about the ingest service, and its limits."""

    model_config = SettingsConfigDict(env_prefix="API_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address to listen on")
    port: int = Field(default=8080, ge=1, le=65535, description="Port to listen on")
    public_ingest_url: str = Field(
        default="http://127.0.0.1:8081",
        pattern=r"^https?://[^/\s]+(/[^\s]*)?$",
        description="Base URL providers use to reach the ingest service; webhook URLs are built on it",
    )
    ingest_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/\s]+(/[^\s]*)?$",
        description="Base URL the API reaches ingest at to replay dead letters, when it differs "
        "from API_PUBLIC_INGEST_URL (a private address behind the public proxy, say)",
    )
    replay_timeout_seconds: float = Field(
        default=30.0, gt=0, le=300, description="How long a dead-letter replay waits for ingest"
    )
    cors_origins: str = Field(
        default="", description="Comma-separated origins allowed to call the API from a browser"
    )
    max_page_size: int = Field(
        default=200, ge=1, le=1000, description="Largest page a list returns"
    )
    max_body_bytes: int = Field(
        default=65536, ge=1024, le=16_777_216, description="Largest request body; larger is 413"
    )
    rate_limit_per_second: float = Field(
        default=100.0,
        ge=0,
        le=100_000,
        description="Requests per second each API key may make, per API process; 0 turns it off",
    )
    rate_limit_burst: int = Field(
        default=200, ge=1, le=1_000_000, description="Requests a key may make at once"
    )
    metrics_max_age_seconds: int = Field(
        default=5,
        ge=0,
        le=3600,
        description="Cache-Control max-age on metric reads, so polling dashboards hit their cache",
    )
    secret_grace_seconds: int = Field(
        default=86400,
        ge=0,
        le=30 * 86400,
        description="Default time a source's previous secret stays valid after a rotation",
    )
