"""The scoring worker: a consumer-group member that stores each event once and updates the buckets.

Offsets are committed only after the database transaction that reflects them has
committed. A crash between the two replays the batch, and the event-id primary key
turns the replay into a no-op, so every event counts exactly once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.analysis import BatchAnalyser
from services.scoring.config import ScoringSettings
from services.scoring.store import Positioned, store_batch
from shared.db import transaction
from shared.events import FeedbackEvent
from shared.kafka import (
    CONTROL_HEADER,
    REQUEST_ID_HEADER,
    BrokerUnavailable,
    EventProducer,
    make_consumer,
)
from shared.observability import (
    BATCH_DURATION,
    BATCH_FAILURES,
    BATCH_RECORDS,
    EVENTS_DEAD_LETTERED,
    EVENTS_DEDUPLICATED,
    EVENTS_STORED,
    LagTracker,
)
from shared.settings import CommonSettings

log = logging.getLogger(__name__)


@dataclass
class WorkerStats:
    """Running totals of one worker, for benchmarks and (later) metrics exposition."""

    records: int = 0
    batches: int = 0
    stored: int = 0
    duplicates: int = 0
    first_record_at: float | None = None
    last_commit_at: float | None = None


class ScoringWorker:
    """Runs the poll-store-commit loop until asked to stop, then leaves the group cleanly."""

    def __init__(
        self,
        *,
        common: CommonSettings,
        settings: ScoringSettings,
        sessions: sessionmaker[Session],
        dead_letters: EventProducer,
        on_committed: Callable[[frozenset[str | None]], None] | None = None,
    ) -> None:
        self._common = common
        self._settings = settings
        self._sessions = sessions
        self._dead_letters = dead_letters
        self._stop = threading.Event()
        self._future_tolerance = timedelta(hours=settings.future_tolerance_hours)
        self._analyser = (
            BatchAnalyser(refresh_seconds=settings.taxonomy_refresh_seconds)
            if settings.text_analysis
            else None
        )
        self.stats = WorkerStats()
        # Told the metrics of each committed batch (the alert engine); never on the commit path.
        self._on_committed = on_committed

    def stop(self) -> None:
        """Ask the loop to finish the batch in hand, commit it, and return."""
        self._stop.set()

    def run(self) -> None:
        """Consume until stopped; the consumer is closed only after the last commit."""
        consumer = make_consumer(
            self._common.kafka_bootstrap_servers,
            topics=[self._common.voc_feedback_topic],
            group_id=self._settings.group_id,
            max_poll_records=self._settings.max_batch,
        )
        log.info("scoring worker started", extra={"group_id": self._settings.group_id})
        group = self._settings.group_id
        lag = LagTracker(group)
        backoff = 0.0
        try:
            while not self._stop.is_set():
                polled = consumer.poll(timeout_ms=self._settings.poll_timeout_ms)
                lag.update(consumer)
                records = [r for batch in polled.values() for r in batch]
                if not records:
                    continue
                if self.stats.first_record_at is None:
                    self.stats.first_record_at = time.monotonic()
                started = time.perf_counter()
                try:
                    touched = self._process(records)
                except (SQLAlchemyError, BrokerUnavailable) as exc:
                    reason = "database" if isinstance(exc, SQLAlchemyError) else "broker"
                    BATCH_FAILURES.labels(group, reason).inc()
                    backoff = min(self._settings.retry_max_seconds, max(0.2, backoff * 2))
                    log.warning(
                        "database or broker unavailable; will retry the batch",
                        extra={"error": type(exc).__name__, "retry_in_s": backoff},
                    )
                    _rewind(consumer, records)
                    self._stop.wait(backoff)
                    continue
                backoff = 0.0
                _commit(consumer)
                BATCH_DURATION.labels(group).observe(time.perf_counter() - started)
                BATCH_RECORDS.labels(group).observe(len(records))
                self._committed(touched)
                lag.processed(records)
                lag.update(consumer)
                self.stats.records += len(records)
                self.stats.batches += 1
                self.stats.last_commit_at = time.monotonic()
        finally:
            consumer.close(autocommit=False)
            log.info("scoring worker stopped")

    def _process(self, records: list[ConsumerRecord]) -> frozenset[str | None]:
        """Store the batch; return the metrics it touched, for the after-commit hook."""
        batch = list(self._decode(records))
        touched = frozenset(item.event.metric for item in batch)
        if not batch:
            return touched
        started = time.perf_counter()
        with transaction(self._sessions) as session:
            result = store_batch(
                session=session,
                batch=batch,
                future_tolerance=self._future_tolerance,
                analyser=self._analyser,
            )
        self.stats.stored += result.stored
        self.stats.duplicates += result.duplicates
        EVENTS_STORED.inc(result.stored)
        EVENTS_DEDUPLICATED.inc(result.duplicates)
        if log.isEnabledFor(logging.DEBUG):
            # One line per event lets an operator follow a webhook's request id into
            # scoring; at INFO it would cost more than storing the event does.
            for item in batch:
                log.debug(
                    "event stored",
                    extra={
                        "event_id": str(item.event.event_id),
                        "request_id": item.event.request_id,
                        "partition": item.partition,
                        "offset": item.offset,
                    },
                )
        log.debug(
            "batch stored",
            extra={
                "records": len(records),
                "stored": result.stored,
                "revised": result.revised,
                "duplicates": result.duplicates,
                "excluded": result.excluded,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return touched

    def _committed(self, touched: frozenset[str | None]) -> None:
        """Pass the batch's metrics to the hook; a failing hook is logged, never raised."""
        if self._on_committed is None or not touched:
            return
        try:
            self._on_committed(touched)
        except Exception:
            log.exception("after-commit hook failed")

    def _decode(self, records: Iterable[ConsumerRecord]) -> Iterable[Positioned]:
        for record in records:
            headers = dict(record.headers or ())
            if CONTROL_HEADER in headers:
                continue
            try:
                event = FeedbackEvent.from_bytes(record.value)
            except ValidationError as exc:
                # Ingest validates before producing, so this is another producer's mistake:
                # keep the record on the dead-letter topic rather than stall the partition.
                request_id = headers.get(REQUEST_ID_HEADER)
                forwarded = {"voc-reason": b"undecodable event on feedback topic"}
                if request_id:
                    forwarded[REQUEST_ID_HEADER] = request_id
                self._dead_letters.send_sync(
                    self._common.voc_dlq_topic,
                    key=record.key or b"",
                    value=record.value,
                    headers=forwarded,
                )
                EVENTS_DEAD_LETTERED.inc()
                log.error(
                    "undecodable record dead-lettered",
                    extra={
                        "partition": record.partition,
                        "offset": record.offset,
                        "errors": exc.error_count(),
                        "request_id": request_id.decode("utf-8", "replace") if request_id else None,
                    },
                )
                continue
            yield Positioned(event=event, partition=record.partition, offset=record.offset)


def _rewind(consumer: KafkaConsumer, records: list[ConsumerRecord]) -> None:
    """Seek each partition back to the first record of the failed batch, to process it again."""
    first: dict[TopicPartition, int] = {}
    for r in records:
        tp = TopicPartition(r.topic, r.partition)
        first[tp] = min(first.get(tp, r.offset), r.offset)
    for tp, offset in first.items():
        if tp in consumer.assignment():
            consumer.seek(tp, offset)


def _commit(consumer: KafkaConsumer) -> None:
    """Commit what was consumed; a failed commit only means the batch will be replayed harmlessly."""
    try:
        consumer.commit()
    except (CommitFailedError, KafkaError) as exc:
        log.warning(
            "offset commit failed; records will be redelivered and deduplicated",
            extra={"error": str(exc)},
        )
