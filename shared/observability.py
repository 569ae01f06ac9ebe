"""Prometheus metrics every service exposes, defined once so names and labels never drift.

All metrics live in prometheus-client's default registry, which also carries the process and
Python collectors (memory, CPU, file descriptors, GC). Label values are always drawn from
small, known sets (route templates, outcome words, source ids an operator created), never from
raw request data, so a hostile client cannot grow the series count.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from kafka.errors import KafkaError
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

# Latency buckets from 1 ms to 10 s: webhook answers sit around 20 ms, database-bound API
# reads up to a few hundred, and the 10 s bucket catches delivery timeouts.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 50_000)

HTTP_REQUESTS = Counter(
    "voc_http_requests",
    "HTTP requests answered, by service, method, route template and status code",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "voc_http_request_duration_seconds",
    "Time from request start to the end of the response, by service, method and route template",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
WEBHOOK_DELIVERIES = Counter(
    "voc_webhook_deliveries",
    "Webhook deliveries by source id and outcome (accepted, ignored, duplicate, unauthorized, "
    "unknown_source, too_large, invalid, dead_lettered, broker_unavailable, database_unavailable)",
    ["source", "outcome"],
)
PRODUCE_LATENCY = Histogram(
    "voc_kafka_produce_duration_seconds",
    "Time from send to the broker's acks=all acknowledgement, by topic",
    ["topic"],
    buckets=LATENCY_BUCKETS,
)
PRODUCE_FAILURES = Counter(
    "voc_kafka_produce_failures",
    "Records the broker did not acknowledge in time (the caller reported failure), by topic",
    ["topic"],
)
CONSUMER_LAG = Gauge(
    "voc_consumer_lag",
    "Records between a group member's position and the partition's high watermark, as last fetched",
    ["group", "topic", "partition"],
)
BATCH_RECORDS = Histogram(
    "voc_consumer_batch_records",
    "Records in each polled batch a consumer processed, by consumer group",
    ["group"],
    buckets=BATCH_BUCKETS,
)
BATCH_DURATION = Histogram(
    "voc_consumer_batch_duration_seconds",
    "Time to store one batch and commit its offsets, by consumer group",
    ["group"],
    buckets=LATENCY_BUCKETS,
)
BATCH_FAILURES = Counter(
    "voc_consumer_batch_failures",
    "Batches that could not be stored and will be retried after a back-off, by group and reason",
    ["group", "reason"],
)
EVENTS_STORED = Counter(
    "voc_events_stored", "Feedback events stored for the first time (or revised) by scoring"
)
EVENTS_DEDUPLICATED = Counter(
    "voc_events_deduplicated", "Redelivered feedback events scoring recognised and skipped"
)
EVENTS_DEAD_LETTERED = Counter(
    "voc_events_dead_lettered",
    "Records on the feedback topic scoring could not decode and copied to the dead-letter topic",
)
DEAD_LETTERS_RECORDED = Counter(
    "voc_dead_letters_recorded", "Dead-letter records stored in the dead_letter table"
)
# Incremented by the alert engine: `rule_kind` is the rule's kind, `outcome` what the
# evaluation concluded (e.g. ok, firing, resolved, insufficient_data, error).
ALERT_EVALUATIONS = Counter(
    "voc_alert_evaluations",
    "Alert rule evaluations, by rule kind and outcome",
    ["rule_kind", "outcome"],
)
# Incremented by the notifier: `destination_kind` is the destination's kind (e.g. webhook,
# slack, teams), `outcome` how the attempt ended (e.g. delivered, failed, gave_up).
NOTIFICATION_ATTEMPTS = Counter(
    "voc_notification_attempts",
    "Notification delivery attempts, by destination kind and outcome",
    ["destination_kind", "outcome"],
)

UNMATCHED_ROUTE = "<unmatched>"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


def exposition() -> tuple[bytes, str]:
    """The current metrics in Prometheus' text format, with its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


def route_template(scope: Scope) -> str:
    """The matched route's template (`/v1/webhooks/{source_id}`), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class HttpMetrics:
    """ASGI middleware counting requests and timing them by route template and status.

    A plain ASGI middleware rather than Starlette's BaseHTTPMiddleware: it adds no task per
    request and does not buffer streamed responses.
    """

    def __init__(self, app: Asgi, *, service: str) -> None:
        self._app = app
        self._service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request through, then record its route, status and duration."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before responding

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self._app(scope, receive, send_and_note)
        finally:
            route = route_template(scope)
            method = str(scope.get("method", ""))
            HTTP_REQUESTS.labels(self._service, method, route, str(status)).inc()
            HTTP_LATENCY.labels(self._service, method, route).observe(time.perf_counter() - started)


class LagTracker:
    """Per-partition consumer lag: the last fetched high watermark minus the next offset to do.

    Positions come from the records this member processed rather than from the consumer's
    position(), which may make a network call; the high watermark arrives with every fetch
    response. Tansu may report a high watermark at the start of its last record batch, so
    there the figure can read low, never high; the gauge is clamped at zero.
    """

    def __init__(self, group: str) -> None:
        self._group = group
        self._next: dict[tuple[str, int], int] = {}
        self._shown: set[tuple[str, int]] = set()

    def processed(self, records: Iterable[Any]) -> None:
        """Note records whose processing was committed: the partition's work moves past them."""
        for record in records:
            key = (record.topic, record.partition)
            self._next[key] = max(self._next.get(key, 0), record.offset + 1)

    def update(self, consumer: Any) -> None:
        """Refresh the gauge for the assigned partitions; drop series of partitions given away."""
        shown: set[tuple[str, int]] = set()
        assigned = {(tp.topic, tp.partition): tp for tp in consumer.assignment()}
        for key, tp in assigned.items():
            try:
                highwater = consumer.highwater(tp)
            except KafkaError:  # revoked between assignment() and highwater()
                continue
            done = self._next.get(key)
            if highwater is None or done is None:
                continue
            CONSUMER_LAG.labels(self._group, tp.topic, str(tp.partition)).set(
                max(0, highwater - done)
            )
            shown.add(key)
        for topic, partition in self._shown - shown:
            CONSUMER_LAG.remove(self._group, topic, str(partition))
        for key in set(self._next) - set(assigned):
            del self._next[key]  # another member owns it now and will report it
        self._shown = shown
