"""Provider integrations, looked up by the name a source was created with."""

from __future__ import annotations

from services.ingest.config import IngestSettings
from services.ingest.providers.base import Provider
from services.ingest.providers.generic import GenericProvider


def build_registry(settings: IngestSettings) -> dict[str, Provider]:
    """One instance of each provider, configured from the ingest settings."""
    providers: list[Provider] = [
        GenericProvider(tolerance_seconds=settings.signature_tolerance_seconds),
    ]
    return {p.name: p for p in providers}
