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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord
from kafka.errors import CommitFailedError, KafkaError
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.analysis import BatchAnalyser
from services.scoring.config import ScoringSettings
from services.scoring.store import (
    Positioned,
    StagedBatch,
    StoreResult,
    stage_batch,
    store_staged,
)
from shared.db import transaction
from shared.events import FeedbackEvent
from shared.gc_tuning import tune_for_batches
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


@dataclass(frozen=True)
class Staged:
    """A polled batch decoded and turned into COPY rows, ready for the store thread."""

    events: list[Positioned]
    rows: StagedBatch


@dataclass(frozen=True)
class InFlight:
    """The batch the store thread is working on, with what its commit needs."""

    records: list[ConsumerRecord]
    staged: Staged
    started: float
    result: Future[StoreResult]


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
        self._lag = LagTracker(settings.group_id)
        self._backoff = 0.0
        self._in_flight: InFlight | None = None
        self._offsets = OffsetsToCommit()
        # Told the metrics of each committed batch (the alert engine); never on the commit path.
        self._on_committed = on_committed

    def stop(self) -> None:
        """Ask the loop to finish the batch in hand, commit it, and return."""
        self._stop.set()

    def run(self) -> None:
        """Consume until stopped; the consumer is closed only after the last commit.

        Two batches are in hand at a time: while PostgreSQL stores one (in the store
        thread, which only waits on the database), this thread polls, decodes and analyses
        the next, so the interpreter and the database work at the same time. Offsets are
        committed per batch, and only for a batch whose transaction committed.
        """
        tune_for_batches()
        consumer = make_consumer(
            self._common.kafka_bootstrap_servers,
            topics=[self._common.voc_feedback_topic],
            group_id=self._settings.group_id,
            max_poll_records=self._settings.max_batch,
        )
        log.info("scoring worker started", extra={"group_id": self._settings.group_id})
        try:
            with ThreadPoolExecutor(1, thread_name_prefix="scoring-store") as store_thread:
                while not self._stop.is_set():
                    polled = consumer.poll(timeout_ms=self._settings.poll_timeout_ms)
                    self._lag.update(consumer)
                    records = [r for batch in polled.values() for r in batch]
                    if records and self.stats.first_record_at is None:
                        self.stats.first_record_at = time.monotonic()
                    try:
                        staged = self._stage(records)
                    except (SQLAlchemyError, BrokerUnavailable) as exc:
                        self._retry_later(consumer, [*self._settle(consumer), *records], exc)
                        continue
                    failed = self._settle(consumer)
                    if failed:
                        self._retry_later(consumer, [*failed, *records], None)
                        continue
                    if records:
                        self._in_flight = InFlight(
                            records=records,
                            staged=staged,
                            started=time.perf_counter(),
                            result=store_thread.submit(self._store, staged.rows),
                        )
                self._settle(consumer)
        finally:
            consumer.close(autocommit=False)
            log.info("scoring worker stopped")

    def _stage(self, records: list[ConsumerRecord]) -> Staged:
        """Decode and analyse a polled batch (the interpreter's share of the work)."""
        events = list(self._decode(records))
        if self._analyser is not None and events:
            with self._sessions() as session:
                self._analyser.refresh(session)
        return Staged(events=events, rows=stage_batch(events, self._analyser))

    def _store(self, staged: StagedBatch) -> StoreResult:
        """The database's share: one transaction, run in the store thread."""
        with transaction(self._sessions) as session:
            return store_staged(
                session=session, staged=staged, future_tolerance=self._future_tolerance
            )

    def _settle(self, consumer: KafkaConsumer) -> list[ConsumerRecord]:
        """Wait for the batch in the store thread; commit its offsets if it was stored.

        With no batch in hand, retry offsets a rebalance refused. Returns the batch's records
        if storing failed for a reason worth retrying (the database or broker is down);
        anything else is a bug and ends the worker.
        """
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is None:
            self._offsets.commit(consumer)  # nothing pending is no call to the broker
            return []
        try:
            result = in_flight.result.result()
        except (SQLAlchemyError, BrokerUnavailable) as exc:
            self._note_failure(exc)
            return in_flight.records
        self._backoff = 0.0
        self._offsets.add(in_flight.records)
        self._offsets.commit(consumer)
        group = self._settings.group_id
        BATCH_DURATION.labels(group).observe(time.perf_counter() - in_flight.started)
        BATCH_RECORDS.labels(group).observe(len(in_flight.records))
        EVENTS_STORED.inc(result.stored)
        EVENTS_DEDUPLICATED.inc(result.duplicates)
        self._lag.processed(in_flight.records)
        self._lag.update(consumer)
        self.stats.records += len(in_flight.records)
        self.stats.batches += 1
        self.stats.stored += result.stored
        self.stats.duplicates += result.duplicates
        self.stats.last_commit_at = time.monotonic()
        if log.isEnabledFor(logging.DEBUG):
            # One line per event lets an operator follow a webhook's request id into
            # scoring; at INFO it would cost more than storing the event does.
            for item in in_flight.staged.events:
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
                "records": len(in_flight.records),
                "stored": result.stored,
                "revised": result.revised,
                "duplicates": result.duplicates,
                "excluded": result.excluded,
                "ms": round((time.perf_counter() - in_flight.started) * 1000, 1),
            },
        )
        self._committed(frozenset(item.event.metric for item in in_flight.staged.events))
        return []

    def _note_failure(self, exc: Exception) -> None:
        reason = "database" if isinstance(exc, SQLAlchemyError) else "broker"
        BATCH_FAILURES.labels(self._settings.group_id, reason).inc()
        self._backoff = min(self._settings.retry_max_seconds, max(0.2, self._backoff * 2))
        log.warning(
            "database or broker unavailable; will retry the batch",
            extra={"error": type(exc).__name__, "retry_in_s": self._backoff},
        )

    def _retry_later(
        self, consumer: KafkaConsumer, records: list[ConsumerRecord], exc: Exception | None
    ) -> None:
        """Rewind to the first record not stored and wait out the back-off."""
        if exc is not None:
            self._note_failure(exc)
        _rewind(consumer, records)
        self._stop.wait(self._backoff)

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


class OffsetsToCommit:
    """Offsets of stored batches not yet committed, kept until a commit succeeds.

    The offsets are each batch's own, not the consumer's position, which is already past
    the next batch being staged. A commit refused mid-rebalance is tried again after it:
    a member that keeps a partition may already have fetched all of it, and would
    otherwise never commit its end. Partitions a rebalance gave to another member are
    dropped, so their new owner's commits are never overwritten; it re-reads from the last
    commit and finds those events already stored.
    """

    def __init__(self) -> None:
        self._pending: dict[TopicPartition, int] = {}

    def add(self, records: list[ConsumerRecord]) -> None:
        """Note a stored batch's records."""
        for r in records:
            tp = TopicPartition(r.topic, r.partition)
            self._pending[tp] = max(self._pending.get(tp, -1), r.offset + 1)

    def commit(self, consumer: KafkaConsumer) -> None:
        """Commit what is pending for the partitions this member still owns."""
        if not self._pending:
            return
        assigned = consumer.assignment()
        self._pending = {tp: o for tp, o in self._pending.items() if tp in assigned}
        if not self._pending:
            return
        try:
            consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in self._pending.items()})
        except (CommitFailedError, KafkaError) as exc:
            log.warning(
                "offset commit failed; will retry, and records may be redelivered and deduplicated",
                extra={"error": str(exc)},
            )
            return
        self._pending = {}
