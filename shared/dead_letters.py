"""Keeps every record of the dead-letter topic in the `dead_letter` table, once each.

The recorder is a consumer-group member like scoring: it stores a batch in one transaction,
then commits the offsets. Rows are unique by topic, partition and offset, so a batch
replayed after a crash is stored once. A record that is not a dead-letter document (scoring
copies feedback records it cannot decode, with a `voc-reason` header) is kept too, raw.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from kafka import TopicPartition
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from shared.events import DeadLetter
from shared.kafka import CONTROL_HEADER, REQUEST_ID_HEADER, make_consumer
from shared.models import DeadLetterRecord
from shared.observability import (
    BATCH_DURATION,
    BATCH_FAILURES,
    BATCH_RECORDS,
    DEAD_LETTERS_RECORDED,
    LagTracker,
)

log = logging.getLogger(__name__)
REASON_HEADER = "voc-reason"


class DeadLetterSettings(BaseSettings):
    """Where the recorder serves /metrics, /healthz and /readyz (prefix `DEAD_LETTERS_`)."""

    model_config = SettingsConfigDict(env_prefix="DEAD_LETTERS_", extra="ignore", frozen=True)

    http_host: str = Field(
        default="127.0.0.1", description="Address the /metrics, /healthz and /readyz server binds"
    )
    http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Port of the /metrics, /healthz and /readyz server; 0 picks a free port "
        "(logged at start-up)",
    )


def _headers(record: Any) -> dict[str, bytes]:
    return {k: v for k, v in (record.headers or ()) if v is not None}


def _text(value: str | None, limit: int | None = None) -> str | None:
    # PostgreSQL text cannot hold NUL; a letter must never block the topic over one.
    if not value:
        return None
    return value.replace("\x00", "")[:limit]


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


def letter_row(record: Any) -> dict[str, Any]:
    """The dead_letter row for one consumer record (topic, partition, offset, value, headers)."""
    row: dict[str, Any] = {
        "kafka_topic": record.topic,
        "kafka_partition": record.partition,
        "kafka_offset": record.offset,
        "source_id": None,
        "provider": None,
        "errors": [],
        "content_type": None,
        "request_id": None,
        "received_at": None,
        "headers": {},
    }
    raw: bytes = record.value or b""
    try:
        letter = DeadLetter.model_validate_json(raw)
        body = base64.b64decode(letter.body_base64, validate=True)
    except (ValidationError, binascii.Error, ValueError):
        headers = _headers(record)
        reason = headers.get(REASON_HEADER, b"not a dead-letter document")
        request_id = headers.get(REQUEST_ID_HEADER, b"").decode("utf-8", "replace")
        return row | {
            "reason": _text(reason.decode("utf-8", "replace")) or "-",
            "body": raw,
            "request_id": _text(request_id, 64),
        }
    errors = _scrub(json.loads(json.dumps(letter.errors, default=str)))
    return row | {
        "source_id": _text(letter.source_id, 64),
        "provider": _text(letter.provider, 32),
        "reason": _text(letter.reason) or "-",
        "errors": errors,
        "content_type": _text(letter.content_type, 255),
        "body": body,
        "request_id": _text(letter.request_id, 64),
        "received_at": letter.received_at if letter.received_at.tzinfo else None,
        "headers": {
            _text(k, 64) or "-": _text(v, 1024) or "" for k, v in list(letter.headers.items())[:32]
        },
    }


def store_dead_letters(*, session: Session, records: Sequence[Any]) -> int:
    """Insert the records not stored yet; return how many were new."""
    rows = [letter_row(r) for r in records if CONTROL_HEADER not in _headers(r)]
    if not rows:
        return 0
    statement = (
        insert(DeadLetterRecord)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["kafka_topic", "kafka_partition", "kafka_offset"])
        .returning(DeadLetterRecord.id)
    )
    return len(session.execute(statement).all())


class DeadLetterRecorder:
    """Consumes the dead-letter topic into the database; offsets are committed after each commit."""

    def __init__(
        self,
        *,
        bootstrap_servers: str,
        topic: str,
        group_id: str,
        sessions: sessionmaker[Session],
        poll_timeout_ms: int = 500,
        max_batch: int = 500,
        retry_seconds: float = 1.0,
    ) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._topic = topic
        self._group_id = group_id
        self._max_batch = max_batch
        self._sessions = sessions
        self._poll_timeout_ms = poll_timeout_ms
        self._retry_seconds = retry_seconds
        self._consumer: Any = None
        self._lag = LagTracker(group_id)

    def poll_once(self) -> int:
        """Poll one batch, store it, then commit its offsets; return how many letters were new."""
        if self._consumer is None:
            self._consumer = make_consumer(
                self._bootstrap_servers,
                topics=[self._topic],
                group_id=self._group_id,
                max_poll_records=self._max_batch,
            )
        batches = self._consumer.poll(timeout_ms=self._poll_timeout_ms)
        self._lag.update(self._consumer)
        records = [r for part in batches.values() for r in part]
        if not records:
            return 0
        started = time.perf_counter()
        try:
            with self._sessions() as session, session.begin():
                new = store_dead_letters(session=session, records=records)
        except OperationalError:
            # The database is unreachable and nothing was committed: rewind and back off.
            for tp, part in batches.items():
                self._consumer.seek(TopicPartition(tp.topic, tp.partition), part[0].offset)
            BATCH_FAILURES.labels(self._group_id, "database").inc()
            log.warning("dead letters not stored; retrying", exc_info=True)
            time.sleep(self._retry_seconds)
            return 0
        self._consumer.commit()
        self._lag.processed(records)
        self._lag.update(self._consumer)
        BATCH_RECORDS.labels(self._group_id).observe(len(records))
        BATCH_DURATION.labels(self._group_id).observe(time.perf_counter() - started)
        DEAD_LETTERS_RECORDED.inc(new)
        if new:
            log.info("dead letters recorded", extra={"count": new})
        return new

    def run(self, stop: threading.Event) -> None:
        """Record until `stop` is set, then leave the group."""
        try:
            while not stop.is_set():
                self.poll_once()
        finally:
            self.close()

    def close(self) -> None:
        """Leave the group; offsets were already committed after each batch."""
        if self._consumer is not None:
            self._consumer.close(autocommit=False)
            self._consumer = None
