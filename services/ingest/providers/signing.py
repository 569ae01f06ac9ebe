"""Signature helpers every provider shares: HMACs over raw bytes, compared in constant time
against every valid secret (so a rotation never drops a delivery), and timestamp windows."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Literal

from services.ingest.providers.base import Unauthenticated

Algorithm = Literal["sha1", "sha256"]
Encoding = Literal["hex", "base64"]

# More presented signatures than this is not a sender rotating keys, it is someone guessing.
_MAX_PRESENTED = 8


def mac(algorithm: Algorithm, key: bytes, message: bytes, encoding: Encoding) -> str:
    """HMAC of `message`, hex (lower-case) or standard base64 encoded, as providers send it."""
    digest = hmac.new(key, message, getattr(hashlib, algorithm)).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def require_signed(
    secrets: Sequence[str],
    presented: Iterable[str | None],
    expected_for: Callable[[bytes], str],
    *,
    what: str,
) -> None:
    """Raise Unauthenticated unless a presented signature equals `expected_for(secret)` for a secret.

    Every secret is compared with every presented value, with hmac.compare_digest and no
    early exit, so the answer time does not tell which secret or which prefix matched.
    """
    candidates = [p.strip().encode() for p in presented if p][:_MAX_PRESENTED]
    if not candidates:
        raise Unauthenticated(f"{what} is missing")
    matched = False
    for secret in secrets:
        expected = expected_for(secret.encode()).encode()
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise Unauthenticated(f"{what} does not match this source's secret")


def require_fresh(
    sent: datetime | float, now: datetime, tolerance_seconds: float, *, what: str
) -> None:
    """Refuse a signed timestamp too far from now: a captured request cannot be replayed later."""
    sent_ts = sent.timestamp() if isinstance(sent, datetime) else sent
    if not abs(now.timestamp() - sent_ts) <= tolerance_seconds:  # also refuses NaN
        raise Unauthenticated(
            f"{what} is outside the accepted tolerance of {tolerance_seconds:g} s"
        )


def parse_unix(value: str | None, *, what: str) -> float:
    """A Unix time in seconds from a header or form field, or Unauthenticated."""
    try:
        return float((value or "").strip())
    except ValueError:
        raise Unauthenticated(f"{what} is missing or not a Unix time") from None
