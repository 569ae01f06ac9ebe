"""Settings of the scoring worker (prefix `SCORING_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ScoringSettings(BaseSettings):
    """Consumer-group membership, batch size, and what counts as an implausible timestamp."""

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
    retry_max_seconds: float = Field(
        default=10.0,
        ge=0.1,
        le=600,
        description="Longest back-off between attempts while the database is unavailable",
    )
