"""Source look-up for the hot path: one query per source per cache period, not per webhook."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.models import Source


@dataclass(frozen=True)
class ActiveSource:
    """What ingest needs of a source: who it is and which secrets are valid right now."""

    id: str
    channel: str
    provider: str
    secrets: tuple[str, ...]
    config: dict[str, Any] = field(default_factory=dict)


class SourceDirectory:
    """Caches enabled sources for a few seconds so the webhook path rarely touches the database."""

    def __init__(self, factory: sessionmaker[Session], *, ttl_seconds: float) -> None:
        self._factory = factory
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[float, ActiveSource | None]] = {}

    async def get(self, source_id: str) -> ActiveSource | None:
        """The enabled source with this id, or None."""
        now = time.monotonic()
        hit = self._cache.get(source_id)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        found = await asyncio.to_thread(self._load, source_id)
        if len(self._cache) > 10_000:  # unknown ids are cached too; bound the memory they take
            self._cache.clear()
        self._cache[source_id] = (now, found)
        return found

    async def fresh(self, source_id: str) -> ActiveSource | None:
        """The enabled source read now, past the cache: a replay must see a config just fixed."""
        found = await asyncio.to_thread(self._load, source_id)
        self._cache[source_id] = (time.monotonic(), found)
        return found

    def _load(self, source_id: str) -> ActiveSource | None:
        with self._factory() as session:
            row = session.scalar(
                select(Source).where(Source.id == source_id, Source.disabled_at.is_(None))
            )
            if row is None:
                return None
            secrets = [row.secret]
            if row.previous_secret and (
                row.previous_secret_expires_at is None
                or row.previous_secret_expires_at > datetime.now(UTC)
            ):
                secrets.append(row.previous_secret)
            return ActiveSource(
                id=row.id,
                channel=row.channel,
                provider=row.provider,
                secrets=tuple(secrets),
                config=dict(row.config),
            )
