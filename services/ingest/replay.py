"""Single-use tokens already accepted, per source: the replay guard for providers that sign one."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, sessionmaker

from shared.models import WebhookNonce


class NonceStore:
    """Checks a token before a delivery is accepted and records it only after the broker has it.

    Recording after the acknowledgement (not before) means a delivery answered 503 can be
    retried with the same token; two concurrent copies of one delivery may both pass, but
    they carry the same event ids, so scoring stores one.
    """

    def __init__(self, factory: sessionmaker[Session], *, keep_seconds: float) -> None:
        self._factory = factory
        self._keep = timedelta(seconds=keep_seconds)
        self._next_prune = 0.0

    async def seen(self, source_id: str, token: str) -> bool:
        """Whether this source already accepted a delivery with this token."""
        return await asyncio.to_thread(self._seen, source_id, token)

    async def remember(self, source_id: str, token: str) -> None:
        """Record an accepted token, and now and then forget those too old to matter."""
        await asyncio.to_thread(self._remember, source_id, token)

    def _seen(self, source_id: str, token: str) -> bool:
        with self._factory() as session:
            found = session.scalar(
                select(WebhookNonce.token).where(
                    WebhookNonce.source_id == source_id, WebhookNonce.token == token
                )
            )
            return found is not None

    def _remember(self, source_id: str, token: str) -> None:
        with self._factory() as session, session.begin():
            session.execute(
                insert(WebhookNonce)
                .values(source_id=source_id, token=token)
                .on_conflict_do_nothing()
            )
            now = time.monotonic()
            if now >= self._next_prune:
                self._next_prune = now + 60
                session.execute(
                    delete(WebhookNonce).where(
                        WebhookNonce.seen_at < datetime.now(UTC) - self._keep
                    )
                )
