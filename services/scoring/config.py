"""Settings of the scoring worker (prefix `SCORING_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ScoringSettings(BaseSettings):
    """Consumer-group membership, batch size, implausible timestamps, and comment analysis."""

    model_config = SettingsConfigDict(env_prefix="SCORING_", extra="ignore", frozen=True)

    group_id: str = Field(default="voc-scoring", min_length=1, description="Kafka consumer group")
    max_batch: int = Field(
        default=1000, ge=1, le=50_000, description="Most records stored in one database transaction"
    )
    poll_timeout_ms: int = Field(
        default=500, ge=10, le=30_000, description="How long one poll waits for records"
    )
    future_tolerance_hours: float = Field(
        default=24.0,
        ge=0,
        le=24 * 365,
        description="An event stamped more than this after its arrival is stored but kept out of "
        "the scores",
    )
    text_analysis: bool = Field(
        default=True,
        description="Analyse comments (language, sentiment, themes); off stores them unanalysed, "
        "e.g. to measure what analysis costs",
    )
    taxonomy_refresh_seconds: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        description="How often the theme taxonomy is reloaded from the database",
    )
    retry_max_seconds: float = Field(
        default=10.0,
        ge=0.1,
        le=600,
        description="Longest back-off between attempts while the database is unavailable",
    )
    http_host: str = Field(
        default="127.0.0.1", description="Address the /metrics, /healthz and /readyz server binds"
    )
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the /metrics, /healthz and /readyz server; 0 picks a free port "
        "(logged at start-up), so several workers can share a host",
    )
    alerts_enabled: bool = Field(
        default=True, description="Evaluate alert rules and deliver notifications in this worker"
    )
    alerts_interval_seconds: float = Field(
        default=30.0, ge=0.1, le=3600, description="How often every alert rule is evaluated"
    )
    notify_poll_seconds: float = Field(
        default=1.0, ge=0.05, le=60, description="How often the outbox is checked for due messages"
    )
    notify_timeout_seconds: float = Field(
        default=5.0, ge=0.1, le=60, description="Longest wait for a notification receiver"
    )
    notify_max_attempts: int = Field(
        default=10, ge=1, le=100, description="Attempts before a notification is marked failed"
    )
    notify_backoff_base_seconds: float = Field(
        default=2.0, ge=0.01, le=3600, description="Ceiling of the first retry's random delay"
    )
    notify_backoff_max_seconds: float = Field(
        default=900.0, ge=0.01, le=86_400, description="Largest ceiling of a retry's random delay"
    )
