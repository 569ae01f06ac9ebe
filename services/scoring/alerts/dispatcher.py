"""Delivering the notification outbox: claim due rows, send, record the attempt, retry or finish.

Claiming moves a row's `next_attempt_at` forward by a lease in a short transaction
(`FOR UPDATE SKIP LOCKED`, so dispatchers in several workers share the work), and the
HTTP call runs outside any transaction. A dispatcher that dies mid-send leaves the row to
come due again when the lease ends: delivery is at least once, and the receiver drops a
repeat by its idempotency key (`webhook-id` for webhooks, the record key on Kafka).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks import Webhook

from shared.alert_math import backoff_seconds
from shared.alert_models import NotificationAttempt, NotificationDestination
from shared.alert_outbox import KAFKA_KIND
from shared.db import transaction
from shared.kafka import BrokerUnavailable, EventProducer
from shared.observability import NOTIFICATION_ATTEMPTS

log = logging.getLogger(__name__)

_CLAIM = """
    UPDATE notification SET next_attempt_at = now() + make_interval(secs => :lease)
    WHERE id IN (
        SELECT id FROM notification
        WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, id
        LIMIT :limit
        FOR UPDATE SKIP LOCKED)
    RETURNING id, kind, destination_id, idempotency_key, payload, attempts"""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait for a receiver, and how retries are spaced and bounded."""

    timeout_s: float
    max_attempts: int
    base_s: float
    cap_s: float

    @property
    def lease_s(self) -> float:
        """How long a claimed row stays invisible to other dispatchers: longer than one send."""
        return self.timeout_s * 2 + 2


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended."""

    ok: bool
    status_code: int | None
    error: str | None


@dataclass(frozen=True)
class _Claimed:
    id: int
    kind: str
    destination_id: str | None
    key: str
    payload: dict[str, Any]
    attempts: int


class Dispatcher:
    """Sends due outbox rows over HTTP (or to the alerts topic) and records every attempt."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        producer: EventProducer,
        alerts_topic: str,
        policy: RetryPolicy,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._sessions = sessions
        self._producer = producer
        self._topic = alerts_topic
        self._policy = policy
        self._jitter = jitter
        self._http = httpx.Client(timeout=policy.timeout_s, follow_redirects=False)

    def close(self) -> None:
        """Release the HTTP connection pool."""
        self._http.close()

    def dispatch_due(self, *, limit: int = 20) -> int:
        """Claim up to `limit` due rows, try each once, and return how many were tried."""
        with transaction(self._sessions) as session:
            rows = session.execute(
                text(_CLAIM), {"lease": self._policy.lease_s, "limit": limit}
            ).all()
        for row in rows:
            self._attempt(_Claimed(*row))
        return len(rows)

    def _attempt(self, item: _Claimed) -> None:
        destination = None
        if item.destination_id is not None:
            with self._sessions() as session:
                destination = session.get(NotificationDestination, item.destination_id)
        started = time.perf_counter()
        if item.kind == KAFKA_KIND:
            outcome = self._to_kafka(item)
        elif destination is None:
            outcome = Outcome(False, None, "destination no longer exists")
        else:
            outcome = self._to_http(item, destination)
        duration_ms = (time.perf_counter() - started) * 1000
        self._record(item, outcome, duration_ms)

    def _to_kafka(self, item: _Claimed) -> Outcome:
        try:
            self._producer.send_sync(
                self._topic,
                key=item.key.encode(),
                value=json.dumps(item.payload, separators=(",", ":")).encode(),
                headers={"voc-idempotency-key": item.key.encode()},
            )
        except BrokerUnavailable as exc:
            return Outcome(False, None, str(exc)[:500])
        return Outcome(True, None, None)

    def _to_http(self, item: _Claimed, destination: NotificationDestination) -> Outcome:
        body = json.dumps(item.payload, separators=(",", ":"), ensure_ascii=False)
        headers = {"content-type": "application/json", "idempotency-key": item.key}
        if destination.kind == "webhook" and destination.secret:
            now = datetime.now(UTC)
            headers |= {
                "webhook-id": item.key,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(destination.secret).sign(item.key, now, body),
            }
        try:
            response = self._http.post(destination.url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            # An incoming-webhook URL is itself a credential: keep it out of stored errors.
            reason = str(exc).replace(destination.url, "<destination url>")
            return Outcome(False, None, f"{type(exc).__name__}: {reason}"[:500])
        ok = 200 <= response.status_code < 300
        return Outcome(ok, response.status_code, None if ok else f"HTTP {response.status_code}")

    def _record(self, item: _Claimed, outcome: Outcome, duration_ms: float) -> None:
        attempts = item.attempts + 1
        if outcome.ok:
            status, label = "delivered", "delivered"
        elif attempts >= self._policy.max_attempts:
            status, label = "failed", "gave_up"
        else:
            status, label = "pending", "failed"
        delay = backoff_seconds(
            attempts, base=self._policy.base_s, cap=self._policy.cap_s, jitter=self._jitter()
        )
        with transaction(self._sessions) as session:
            session.add(
                NotificationAttempt(
                    notification_id=item.id,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=duration_ms,
                )
            )
            session.execute(
                text(
                    """UPDATE notification SET attempts = :attempts, status = :status,
                       last_error = :error,
                       delivered_at = CASE WHEN :delivered THEN now() END,
                       next_attempt_at = now() + make_interval(secs => :delay)
                       WHERE id = :id"""
                ),
                {
                    "attempts": attempts,
                    "status": status,
                    "delivered": outcome.ok,
                    "error": outcome.error,
                    "delay": delay,
                    "id": item.id,
                },
            )
        NOTIFICATION_ATTEMPTS.labels(destination_kind=item.kind, outcome=label).inc()
        if not outcome.ok:
            log.warning(
                "notification attempt failed",
                extra={
                    "notification_id": item.id,
                    "kind": item.kind,
                    "attempts": attempts,
                    "status": status,
                    "error": outcome.error,
                    "retry_in_s": round(delay, 2) if status == "pending" else None,
                },
            )
