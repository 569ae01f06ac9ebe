"""Thin wrappers over kafka-python that every service uses the same way.

They take their settings through the constructor, make no network call until first
used, and turn the client's many exception types into the two a service acts on:
the broker could not take the record, or it could not be reached at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from shared.observability import PRODUCE_FAILURES, PRODUCE_LATENCY

log = logging.getLogger(__name__)

# Tansu (the embedded broker) makes a group join take about half the session timeout,
# so short timeouts keep joins and rebalances to a few seconds on both brokers.
CONSUMER_GROUP_TIMEOUTS = {
    "session_timeout_ms": 6000,
    "heartbeat_interval_ms": 1000,
    "max_poll_interval_ms": 60000,
}

# Explicit configs, because Tansu's DescribeConfigs reports only what a topic was created with.
TOPIC_CONFIGS = {"cleanup.policy": "delete", "retention.ms": str(7 * 24 * 3600 * 1000)}


class BrokerUnavailable(Exception):
    """The broker did not acknowledge a record in time; the caller must not report success."""


@dataclass(frozen=True)
class Acknowledged:
    """Where the broker stored a record: what a caller needs to prove it was not lost."""

    topic: str
    partition: int
    offset: int


def _settle(
    future: asyncio.Future[Acknowledged], ack: Acknowledged | None, exc: BaseException | None
) -> None:
    if future.done():  # the waiter timed out first
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        assert ack is not None
        future.set_result(ack)


def bootstrap_list(servers: str) -> list[str]:
    """Split the comma-separated setting into the list kafka-python expects."""
    return [s.strip() for s in servers.split(",") if s.strip()]


def ensure_topics(
    bootstrap_servers: str, topics: Sequence[str], *, partitions: int, replication: int = 1
) -> None:
    """Create the topics if they are missing, with explicit configs; existing ones are left alone."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_list(bootstrap_servers))
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(
                t,
                num_partitions=partitions,
                replication_factor=replication,
                topic_configs=dict(TOPIC_CONFIGS),
            )
            for t in topics
            if t not in existing
        ]
        if missing:
            # Another process may create one between our list and create.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(missing)
    finally:
        admin.close()


class EventProducer:
    """An acks=all, idempotent producer whose sends can be awaited from asyncio code."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        delivery_timeout_ms: int = 10_000,
        linger_ms: int = 2,
        client_id: str = "voc",
    ) -> None:
        self._config = {
            "bootstrap_servers": bootstrap_list(bootstrap_servers),
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": linger_ms,
            # Fail inside the time a webhook sender waits, so it gets a 503 and retries.
            "request_timeout_ms": max(1000, delivery_timeout_ms - linger_ms - 1),
            "delivery_timeout_ms": delivery_timeout_ms,
            "max_block_ms": delivery_timeout_ms,
            "bootstrap_timeout_ms": delivery_timeout_ms,
            "reconnect_backoff_max_ms": 2000,
            # The client's own sensors cost CPU on every record and nothing reads them: the
            # Prometheus metrics in shared/observability.py are what operators see.
            "metrics_enabled": False,
        }
        self._timeout_s = delivery_timeout_ms / 1000
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _client(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                try:
                    self._producer = KafkaProducer(**self._config)
                except KafkaError as exc:
                    raise BrokerUnavailable(f"cannot connect to the broker: {exc}") from exc
            return self._producer

    def _discard(self, broken: KafkaProducer | None) -> None:
        """Drop a client that failed to deliver, so the next send starts with a new one.

        Once records expire unacknowledged (a broker outage), kafka-python's idempotent
        producer never delivers again, even when the broker is back: measured here against a
        restarted broker. A new client gets a new producer id and delivers at once. Records
        still pending on the old client fail (their senders answer 503), never succeed silently.
        """
        with self._lock:
            if broken is None or self._producer is not broken:
                return  # another failed send already replaced it
            self._producer = None
        log.warning("producer discarded after a failed delivery; the next send reconnects")
        threading.Thread(target=_close_quietly, args=(broken,), daemon=True).start()

    def send_sync(
        self,
        topic: str,
        *,
        key: bytes,
        value: bytes,
        headers: Mapping[str, bytes] | None = None,
        partition: int | None = None,
    ) -> Acknowledged:
        """Send one record and block until the broker acknowledges it."""
        started = time.perf_counter()
        client: KafkaProducer | None = None
        try:
            client = self._client()
            future = client.send(
                topic,
                key=key,
                value=value,
                headers=list((headers or {}).items()),
                partition=partition,
            )
            meta = future.get(timeout=self._timeout_s + 1)
        except (KafkaError, BrokerUnavailable) as exc:
            PRODUCE_FAILURES.labels(topic).inc()
            self._discard(client)
            if isinstance(exc, BrokerUnavailable):
                raise
            raise BrokerUnavailable(f"broker did not acknowledge: {exc}") from exc
        PRODUCE_LATENCY.labels(topic).observe(time.perf_counter() - started)
        return Acknowledged(topic=meta.topic, partition=meta.partition, offset=meta.offset)

    async def send(
        self, topic: str, *, key: bytes, value: bytes, headers: Mapping[str, bytes] | None = None
    ) -> Acknowledged:
        """Send one record and wait, without blocking the event loop, for its acknowledgement.

        The client's own I/O thread resolves an asyncio future through callbacks, so a
        request costs no thread hop; only the first send, which may connect, runs in a thread.
        """
        client = self._producer
        if client is None:
            return await asyncio.to_thread(
                self.send_sync, topic, key=key, value=value, headers=headers
            )
        loop = asyncio.get_running_loop()
        acked: asyncio.Future[Acknowledged] = loop.create_future()
        started = time.perf_counter()

        def on_success(meta: Any) -> None:
            ack = Acknowledged(topic=meta.topic, partition=meta.partition, offset=meta.offset)
            loop.call_soon_threadsafe(_settle, acked, ack, None)

        def on_error(exc: BaseException) -> None:
            failure = BrokerUnavailable(f"broker did not acknowledge: {exc}")
            loop.call_soon_threadsafe(_settle, acked, None, failure)

        try:
            future = client.send(topic, key=key, value=value, headers=list((headers or {}).items()))
        except KafkaError as exc:
            PRODUCE_FAILURES.labels(topic).inc()
            self._discard(client)
            raise BrokerUnavailable(f"broker did not take the record: {exc}") from exc
        future.add_callback(on_success)
        future.add_errback(on_error)
        try:
            ack = await asyncio.wait_for(acked, timeout=self._timeout_s + 1)
        except (TimeoutError, BrokerUnavailable) as exc:
            PRODUCE_FAILURES.labels(topic).inc()
            self._discard(client)
            if isinstance(exc, BrokerUnavailable):
                raise
            raise BrokerUnavailable("no acknowledgement within the delivery timeout") from None
        PRODUCE_LATENCY.labels(topic).observe(time.perf_counter() - started)
        return ack

    def close(self, timeout_s: float = 10.0) -> None:
        """Flush what is buffered and disconnect."""
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=timeout_s)
                self._producer = None


def _close_quietly(producer: KafkaProducer) -> None:
    """Close a discarded client without waiting: its pending records fail to their senders."""
    try:
        producer.close(timeout=0)
    except KafkaError as exc:
        log.debug("discarded producer closed with an error", extra={"error": str(exc)})


class _LogAssignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """Logs each rebalance's outcome: what operators (and tests) read to see a group settle."""

    def __init__(self, group_id: str) -> None:
        self._group_id = group_id

    def on_partitions_revoked(self, revoked: Any) -> None:
        log.info(
            "partitions revoked",
            extra={
                "group_id": self._group_id,
                "partitions": sorted(tp.partition for tp in revoked),
            },
        )

    def on_partitions_assigned(self, assigned: Any) -> None:
        log.info(
            "partitions assigned",
            extra={
                "group_id": self._group_id,
                "partitions": sorted(tp.partition for tp in assigned),
            },
        )


def make_consumer(
    bootstrap_servers: str, *, topics: Sequence[str], group_id: str, max_poll_records: int
) -> KafkaConsumer:
    """A consumer-group member that commits offsets only when told to, after the database has."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_list(bootstrap_servers),
        group_id=group_id,
        client_id=f"{group_id}-worker",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=max_poll_records,
        **CONSUMER_GROUP_TIMEOUTS,
    )
    consumer.subscribe(list(topics), listener=_LogAssignments(group_id))
    return consumer


# The ingest request id travels with each record as this header (not in the value's schema),
# so scoring and the dead-letter recorder can log the id a provider's request was given.
REQUEST_ID_HEADER = "voc-request-id"

# Records carrying this header are for the pipeline itself (such as the drain marker that
# `voc run` writes before shutting scoring down), not feedback.
CONTROL_HEADER = "voc-control"
