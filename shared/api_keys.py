"""API keys: minted once, shown once, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.models import ApiKey

Scope = Literal["read", "write", "admin"]
SCOPES: tuple[Scope, ...] = ("read", "write", "admin")
KEY_PREFIX = "voc_"


def hash_key(plaintext: str) -> str:
    """SHA-256 is enough here: keys carry 256 random bits, so there is nothing to brute-force."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_api_key(*, session: Session, name: str, scopes: Iterable[Scope]) -> tuple[ApiKey, str]:
    """Store a new key and return it with its plaintext, which is never retrievable again."""
    wanted = sorted(set(scopes))
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        raise ValueError(f"scopes must be a non-empty subset of {', '.join(SCOPES)}")
    key_id = secrets.token_hex(6)
    plaintext = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKey(id=key_id, name=name, key_hash=hash_key(plaintext), scopes=wanted)
    session.add(row)
    session.flush()
    return row, plaintext


def find_active_key(*, session: Session, plaintext: str) -> ApiKey | None:
    """The unrevoked key with this plaintext, or None."""
    return session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext), ApiKey.revoked_at.is_(None))
    )


def list_api_keys(*, session: Session) -> Sequence[ApiKey]:
    """Every key, revoked ones included, oldest first; the hash stays in the database."""
    return session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)).all()


def revoke_api_key(*, session: Session, key_id: str) -> ApiKey | None:
    """Revoke a key from now on (a no-op if already revoked); None if there is no such key."""
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    return session.get(ApiKey, key_id, populate_existing=True)


class TouchMemo:
    """Remembers when this process last recorded a key's use, so that is written once a minute,
    not on every request."""

    def __init__(self, every_seconds: float = 60.0) -> None:
        self._every = every_seconds
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def due(self, key_id: str) -> bool:
        """Whether this key's use should be recorded now (and note that it is)."""
        now = time.monotonic()
        with self._lock:
            last = self._last.get(key_id)
            if last is not None and now - last < self._every:
                return False
            self._last[key_id] = now
            return True


def touch_key(*, session: Session, key_id: str) -> None:
    """Record that a key was used, at most once a minute, so audits can see stale keys."""
    now = datetime.now(UTC)
    session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id)
        .where((ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < now.replace(second=0)))
        .values(last_used_at=now)
    )
