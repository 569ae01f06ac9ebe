"""Settings of the API service (prefix `API_`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Where the API listens and what it tells clients about the ingest service."""

    model_config = SettingsConfigDict(env_prefix="API_", extra="ignore", frozen=True)

    host: str = Field(default="127.0.0.1", description="Address to listen on")
    port: int = Field(default=8080, ge=1, le=65535, description="Port to listen on")
    public_ingest_url: str = Field(
        default="http://127.0.0.1:8081",
        pattern=r"^https?://[^/\s]+(/[^\s]*)?$",
        description="Base URL providers use to reach the ingest service; webhook URLs are built on it",
    )
    cors_origins: str = Field(
        default="", description="Comma-separated origins allowed to call the API from a browser"
    )
    max_page_size: int = Field(
        default=200, ge=1, le=1000, description="Largest page a list returns"
    )
