"""Dependencies failing for real: the broker or the database process is stopped mid-run.

Each test starts its own broker or database, so stopping it cannot disturb the session-wide
servers other tests use. The property checked every time is the one providers rely on:
whatever was acknowledged is stored in the end, and nothing unstored is acknowledged.
"""

from __future__ import annotations

import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Engine, func, select

from shared.api_keys import create_api_key
from shared.db import make_engine, make_sessionmaker, transaction
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from shared.events import FeedbackEvent, event_id_for
from shared.kafka import Acknowledged, EventProducer, bootstrap_list, ensure_topics
from shared.migrate import upgrade
from shared.models import Feedback, Source
from shared.problems import PROBLEM_MEDIA_TYPE
from shared.settings import CommonSettings
from tests.support.metrics import scrape, value
from tests.support.stack import Service, http_service, service_env, wait_for
from tests.support.topics import read_all, read_records
from tests.support.webhooks import post_signed

T = TypeVar("T")

# An orderly exit: 0, or uvicorn re-raising SIGTERM after its graceful shutdown so the
# status says what stopped it. Service.stop() answers -9 when it had to kill the process.
STOPPED_BY_SIGTERM = {0, -signal.SIGTERM}


def deliver(ingest: Service, source: Source, response_id: str) -> httpx.Response:
    return post_signed(
        f"{ingest.url}/v1/webhooks/{source.id}",
        source.secret,
        {"response_id": response_id, "metric": "nps", "score": 9},
    )


def event(source_id: str, n: int) -> FeedbackEvent:
    now = datetime.now(UTC)
    return FeedbackEvent(
        event_id=event_id_for(source_id=source_id, provider_message_id=f"m{n}"),
        source_id=source_id,
        channel="web",
        provider="generic",
        provider_message_id=f"m{n}",
        occurred_at=now,
        received_at=now,
        metric="csat",
        score=1 + n % 5,
    )


def produce(common: CommonSettings, events: list[FeedbackEvent]) -> list[Acknowledged]:
    """Put events on the feedback topic as ingest does, returning the broker's acknowledgements."""
    producer = EventProducer(common.kafka_bootstrap_servers, client_id="test-producer")
    try:
        return [
            producer.send_sync(common.voc_feedback_topic, key=e.event_id.bytes, value=e.to_bytes())
            for e in events
        ]
    finally:
        producer.close()


def stored_ids(engine: Engine) -> set[uuid.UUID]:
    with make_sessionmaker(engine)() as session:
        return set(session.scalars(select(Feedback.event_id)))


def stored_count(engine: Engine) -> int:
    with make_sessionmaker(engine)() as session:
        return int(session.scalar(select(func.count()).select_from(Feedback)) or 0)


def committed(common: CommonSettings, group: str) -> dict[int, int]:
    """The group's committed offset of each partition (0 where none is committed)."""
    watcher = KafkaConsumer(
        bootstrap_servers=bootstrap_list(common.kafka_bootstrap_servers),
        group_id=group,
        enable_auto_commit=False,
    )
    try:
        topic = common.voc_feedback_topic
        partitions = sorted(watcher.partitions_for_topic(topic) or ())
        return {p: watcher.committed(TopicPartition(topic, p)) or 0 for p in partitions}
    finally:
        watcher.close()


# --- broker down ---------------------------------------------------------------------------


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A broker this test may stop and restart."""
    broker = EmbeddedBroker(port=free_port(), log_path=tmp_path / "broker.log")
    broker.start()
    yield broker
    broker.stop()


def test_broker_down_ingest_answers_503_never_202_and_recovers_by_itself(
    own_broker: EmbeddedBroker,
    common: CommonSettings,
    common_env: dict[str, str],
    make_source: Callable[..., Source],
    log_dir: Path,
) -> None:
    topics = [common.voc_feedback_topic, common.voc_dlq_topic]
    bootstrap = own_broker.bootstrap_servers
    ensure_topics(bootstrap, topics, partitions=common.voc_topic_partitions)
    env = service_env(
        common_env,
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        INGEST_DELIVERY_TIMEOUT_MS="1500",
        INGEST_RETRY_AFTER_SECONDS="2",
    )
    ingest = http_service("ingest", env, log_dir).start()
    source = make_source()
    try:
        assert deliver(ingest, source, "before").status_code == 202
        assert httpx.get(f"{ingest.url}/readyz", timeout=10).status_code == 200

        own_broker.stop()
        refused = 0
        for n in range(3):
            answer = deliver(ingest, source, f"during-{n}")
            assert answer.status_code == 503, answer.text
            assert answer.headers["retry-after"] == "2"
            assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
            refused += 1
        ready = httpx.get(f"{ingest.url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["broker"] is False
        assert ready.json()["database"] is True
        assert httpx.get(f"{ingest.url}/healthz").status_code == 200

        # Tansu keeps topics in memory: a restarted broker is empty, so the topics are
        # created again, as `voc migrate` does on a fresh cluster.
        own_broker.start()
        ensure_topics(bootstrap, topics, partitions=common.voc_topic_partitions)
        accepted: list[str] = []
        attempts = iter(range(1000))

        def accepted_again() -> bool:
            answer = deliver(ingest, source, f"after-{next(attempts)}")
            assert answer.status_code in (202, 503), answer.text  # never a 500
            if answer.status_code == 202:
                accepted.append(answer.json()["event_id"])
            refused_now = answer.status_code == 503
            nonlocal refused
            refused += refused_now
            return not refused_now

        wait_for(accepted_again, timeout_s=60, what="ingest to accept webhooks again", every_s=0.5)
        for n in range(5):
            answer = deliver(ingest, source, f"steady-{n}")
            assert answer.status_code == 202, answer.text
            accepted.append(answer.json()["event_id"])

        on_topic = {
            str(FeedbackEvent.from_bytes(v).event_id)
            for v in read_all(bootstrap, common.voc_feedback_topic)
        }
        assert set(accepted) <= on_topic, "a webhook answered 202 is not on the broker"
        metric = value(
            scrape(ingest),
            "voc_webhook_deliveries_total",
            source=source.id,
            outcome="broker_unavailable",
        )
        assert metric == refused
        assert httpx.get(f"{ingest.url}/readyz", timeout=10).status_code == 200
    finally:
        ingest.stop()


# --- database down -------------------------------------------------------------------------


@pytest.fixture
def own_postgres(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmbeddedPostgres, str]]:
    """A migrated database on a server this test may stop and restart."""
    server = EmbeddedPostgres(tmp_path_factory.mktemp("own-pg") / "data")
    url = CommonSettings(database_url=server.start(), kafka_bootstrap_servers="x:1").database_url
    upgrade(url)
    yield server, url
    server.stop()


def test_database_down_scoring_holds_offsets_and_resumes_and_api_answers_503(
    own_postgres: tuple[EmbeddedPostgres, str],
    kafka_bootstrap: str,
    log_dir: Path,
) -> None:
    server, url = own_postgres
    suffix = uuid.uuid4().hex[:8]
    common = CommonSettings(
        database_url=url,
        kafka_bootstrap_servers=kafka_bootstrap,
        voc_feedback_topic=f"voc.feedback.v1.t{suffix}",
        voc_dlq_topic=f"voc.feedback.dlq.v1.t{suffix}",
        voc_topic_partitions=3,
    )
    ensure_topics(kafka_bootstrap, [common.voc_feedback_topic, common.voc_dlq_topic], partitions=3)
    group = f"voc-scoring-{suffix}"
    env = service_env(
        {
            "DATABASE_URL": url,
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "VOC_FEEDBACK_TOPIC": common.voc_feedback_topic,
            "VOC_DLQ_TOPIC": common.voc_dlq_topic,
            "SCORING_GROUP_ID": group,
            "SCORING_RETRY_MAX_SECONDS": "1",
        }
    )
    engine = make_engine(url, pool_size=1)
    with transaction(make_sessionmaker(engine)) as session:
        _, key = create_api_key(session=session, name="test", scopes=["read"])
    auth = {"Authorization": f"Bearer {key}"}
    scoring = http_service("scoring", env, log_dir).start()
    api = http_service("api", env, log_dir).start()
    try:
        before = produce(common, [event("src_a", n) for n in range(20)])
        wait_for(lambda: stored_count(engine) == 20, timeout_s=60, what="20 events stored")
        engine.dispose()

        server.stop()
        during_events = [event("src_a", n) for n in range(20, 40)]
        during = produce(common, during_events)

        feedback = httpx.get(f"{api.url}/v1/feedback", headers=auth, timeout=30)
        assert feedback.status_code == 503, feedback.text
        assert feedback.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert int(feedback.headers["retry-after"]) > 0
        assert feedback.json()["status"] == 503
        assert httpx.get(f"{api.url}/healthz").status_code == 200
        for service in (api, scoring):
            ready = httpx.get(f"{service.url}/readyz", timeout=30)
            assert ready.status_code == 503
            assert ready.json()["database"] is False

        # Scoring tries, fails and backs off more than once, and commits nothing it could not store.
        wait_for(
            lambda: (
                value(scrape(scoring), "voc_consumer_batch_failures_total", reason="database") >= 2
            ),
            timeout_s=60,
            what="scoring to retry the batch",
        )
        first_unstored = {}
        for ack in during:
            first_unstored[ack.partition] = min(
                first_unstored.get(ack.partition, ack.offset), ack.offset
            )
        held = committed(common, group)
        for partition, offset in first_unstored.items():
            assert held[partition] <= offset, "an offset was committed for an unstored event"

        restarted = server.start()
        assert (
            CommonSettings(database_url=restarted, kafka_bootstrap_servers="x:1").database_url
            == url
        )
        wait_for(lambda: stored_count(engine) == 40, timeout_s=60, what="all 40 events stored")
        assert stored_ids(engine) == {e.event_id for e in during_events} | {
            event("src_a", n).event_id for n in range(20)
        }
        last = {}
        for ack in before + during:
            last[ack.partition] = max(last.get(ack.partition, -1), ack.offset)
        wait_for(
            lambda: all(committed(common, group)[p] > o for p, o in last.items()),
            timeout_s=30,
            what="scoring to commit past every stored event",
        )
        assert httpx.get(f"{api.url}/v1/feedback", headers=auth, timeout=30).status_code == 200
        assert httpx.get(f"{api.url}/readyz", timeout=30).status_code == 200
    finally:
        api.stop()
        scoring.stop()
        engine.dispose()


# --- SIGTERM -------------------------------------------------------------------------------


class Load(Generic[T]):
    """Clients sending requests (or records) in threads until stopped; they keep every answer."""

    def __init__(self, send: Callable[[int], T], threads: int = 4) -> None:
        self._send = send
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.answers: list[T] = []
        self.errors: list[str] = []
        self._threads = [threading.Thread(target=self._run, args=(i,)) for i in range(threads)]
        self._counter = iter(range(10**9))

    def _run(self, worker: int) -> None:
        while not self._stop.is_set():
            with self._lock:
                n = next(self._counter)
            try:
                answer = self._send(n)
            except httpx.HTTPError as exc:  # refused once the server stopped listening
                with self._lock:
                    self.errors.append(type(exc).__name__)
                continue
            with self._lock:
                self.answers.append(answer)

    def __enter__(self) -> Load[T]:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()


def test_sigterm_finishes_in_flight_work_and_loses_nothing_acknowledged(
    common: CommonSettings,
    common_env: dict[str, str],
    make_source: Callable[..., Source],
    make_key: Callable[..., str],
    engine: Engine,
    log_dir: Path,
) -> None:
    env = service_env(common_env, SCORING_MAX_BATCH="50")
    group = env["SCORING_GROUP_ID"]
    ingest = http_service("ingest", env, log_dir)
    api = http_service("api", env, log_dir)
    scoring = http_service("scoring", env, log_dir)
    for service in (ingest, api, scoring):
        service.start(wait=False)
    for service in (ingest, api, scoring):
        service.start_wait()
    source = make_source()
    try:
        # Ingest: stop it while webhooks are arriving; every one answered 202 was acknowledged.
        with Load(lambda n: deliver(ingest, source, f"r{n}")) as load:
            wait_for(lambda: len(load.answers) >= 40, timeout_s=60, what="40 answered webhooks")
            assert ingest.stop(timeout_s=20) in STOPPED_BY_SIGTERM, ingest.log_tail()
        statuses = {a.status_code for a in load.answers}
        assert statuses <= {202}, statuses
        accepted = {uuid.UUID(a.json()["event_id"]) for a in load.answers}

        # Scoring: stop it while events stream in; what it committed, it had stored.
        producer = EventProducer(common.kafka_bootstrap_servers, client_id="test-stream")

        def produce_one(n: int) -> uuid.UUID:
            e = event(source.id, n)
            producer.send_sync(common.voc_feedback_topic, key=e.event_id.bytes, value=e.to_bytes())
            return e.event_id

        try:
            with Load(produce_one, threads=2) as stream:
                wait_for(
                    lambda: stored_count(engine) > len(accepted) + 50,
                    timeout_s=60,
                    what="streamed events being stored",
                )
                assert scoring.stop(timeout_s=20) in STOPPED_BY_SIGTERM, scoring.log_tail()
                at_stop = len(stream.answers)
                wait_for(
                    lambda: len(stream.answers) > at_stop + 100,
                    timeout_s=60,
                    what="more events after the stop",
                )
        finally:
            producer.close()
        marks = committed(common, group)
        stored = stored_ids(engine)
        on_topic = read_records(
            common.kafka_bootstrap_servers, common.voc_feedback_topic, timeout_s=30
        )
        for r in on_topic:
            if r.offset < marks[r.partition]:
                assert FeedbackEvent.from_bytes(r.value).event_id in stored, (r.partition, r.offset)

        # A new worker takes over where the stopped one committed: nothing lost, nothing twice.
        successor = http_service("scoring", env, log_dir, log_name="scoring-2").start()
        try:
            expected = accepted | set(stream.answers)
            wait_for(
                lambda: stored_count(engine) == len(expected),
                timeout_s=60,
                what="every acknowledged event stored",
            )
            assert stored_ids(engine) == expected
        finally:
            assert successor.stop(timeout_s=20) in STOPPED_BY_SIGTERM

        # API: stop it while requests are being served; every answer it gave is complete.
        key = make_key("read")
        auth = {"Authorization": f"Bearer {key}"}
        with Load(lambda _: httpx.get(f"{api.url}/v1/feedback", headers=auth, timeout=30)) as reads:
            wait_for(lambda: len(reads.answers) >= 20, timeout_s=60, what="20 API answers")
            assert api.stop(timeout_s=20) in STOPPED_BY_SIGTERM, api.log_tail()
        assert {a.status_code for a in reads.answers} == {200}
    finally:
        for service in (ingest, scoring, api):
            service.stop()
