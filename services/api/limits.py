"""Request limits: a body-size cap (413) for every route and a per-key token bucket (429)."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.problems import Problem, problem_response


def _too_large(limit: int) -> Problem:
    return Problem(
        title="Request body too large", status=413, detail=f"the body may be at most {limit} bytes"
    )


class BodySizeLimit:
    """Refuse bodies over `max_bytes` from Content-Length, or while reading a chunked body."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the declared length first, then count bytes as the app reads them."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.max_bytes):
                await problem_response(_too_large(self.max_bytes))(scope, receive, send)
                return
        seen = 0
        started = rejected = False

        async def counting_receive() -> Message:
            # FastAPI turns any error while reading into a 400, so an oversized body is
            # answered here and the app is told the client went away; what it sends is dropped.
            nonlocal seen, rejected
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes and not started:
                    rejected = True
                    await problem_response(_too_large(self.max_bytes))(scope, receive, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, guarded_send)


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class TokenBuckets:
    """An in-process token bucket per API key: `rate` tokens a second, at most `burst` saved.

    Each API process keeps its own buckets, so N replicas admit up to N times the rate.
    """

    rate: float
    burst: int
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key_id: str) -> float:
        """Spend one token; return 0 if admitted, else the seconds until a token is due."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key_id)
            if bucket is None:
                bucket = self._buckets[key_id] = _Bucket(tokens=float(self.burst), updated=now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate


def retry_after(seconds: float) -> str:
    """A whole-second Retry-After value that is never 0."""
    return str(max(1, math.ceil(seconds)))
