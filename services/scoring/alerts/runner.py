"""The alert engine's two threads in a scoring process: rule evaluation and outbox delivery.

Evaluation runs every `alerts_interval_seconds` and soon after a committed batch touched a
rule's metric; the worker only drops the batch's metrics into a set and sets an event, so
alerting can never slow down or break storing and committing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Collection

from sqlalchemy.orm import Session, sessionmaker

from services.scoring.alerts.dispatcher import Dispatcher, RetryPolicy
from services.scoring.alerts.lifecycle import evaluate_rules
from services.scoring.config import ScoringSettings
from shared.kafka import EventProducer
from shared.settings import CommonSettings

log = logging.getLogger(__name__)

# Batch-triggered evaluations are spaced at least this far apart, so a busy stream does not
# turn evaluation into a busy loop.
MIN_GAP_S = 1.0


class AlertEngine:
    """Owns the evaluator and dispatcher threads; `batch_committed` is the worker's hook."""

    def __init__(
        self,
        *,
        common: CommonSettings,
        settings: ScoringSettings,
        sessions: sessionmaker[Session],
        producer: EventProducer,
    ) -> None:
        self._settings = settings
        self._sessions = sessions
        self._dispatcher = Dispatcher(
            sessions=sessions,
            producer=producer,
            alerts_topic=common.voc_alerts_topic,
            policy=RetryPolicy(
                timeout_s=settings.notify_timeout_seconds,
                max_attempts=settings.notify_max_attempts,
                base_s=settings.notify_backoff_base_seconds,
                cap_s=settings.notify_backoff_max_seconds,
            ),
        )
        self._stop = threading.Event()
        self._touched: set[str | None] = set()
        self._touched_lock = threading.Lock()
        self._batch = threading.Event()
        self._enqueued = threading.Event()
        self._threads = [
            threading.Thread(target=self._evaluate_loop, name="alert-evaluator", daemon=True),
            threading.Thread(target=self._dispatch_loop, name="alert-dispatcher", daemon=True),
        ]

    def start(self) -> None:
        """Start both threads."""
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask both threads to finish what they are doing and wait for them."""
        self._stop.set()
        self._batch.set()
        self._enqueued.set()
        for thread in self._threads:
            thread.join(timeout_s)
        self._dispatcher.close()

    def batch_committed(self, metrics: Collection[str | None]) -> None:
        """Note that a committed batch touched these metrics; never blocks, never raises."""
        with self._touched_lock:
            self._touched.update(metrics)
        self._batch.set()

    def _evaluate_loop(self) -> None:
        interval = self._settings.alerts_interval_seconds
        next_full = time.monotonic()
        while not self._stop.is_set():
            self._batch.wait(max(0.0, next_full - time.monotonic()))
            if self._stop.is_set():
                return
            with self._touched_lock:
                touched, self._touched = self._touched, set()
            self._batch.clear()
            full = time.monotonic() >= next_full
            started = time.monotonic()
            try:
                result = evaluate_rules(sessions=self._sessions, metrics=None if full else touched)
                if result.fired or result.resolved:
                    log.info(
                        "alerts changed",
                        extra={"fired": result.fired, "resolved": result.resolved},
                    )
                    self._enqueued.set()
            except Exception:  # the database may be away; the next pass tries again
                log.exception("alert evaluation pass failed")
            if full:
                next_full = started + interval
            self._stop.wait(MIN_GAP_S)

    def _dispatch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                while self._dispatcher.dispatch_due() and not self._stop.is_set():
                    pass
            except Exception:
                log.exception("notification dispatch pass failed")
            self._enqueued.wait(self._settings.notify_poll_seconds)
            self._enqueued.clear()
