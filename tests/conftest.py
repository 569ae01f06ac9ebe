"""Session-wide real servers (embedded PostgreSQL and Tansu unless the environment names others)
and per-test isolation: a fresh database cloned from a migrated template, fresh topics and groups."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from shared.api_keys import Scope, create_api_key
from shared.db import make_engine, make_sessionmaker, transaction
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from shared.kafka import ensure_topics
from shared.migrate import upgrade
from shared.models import Source
from shared.providers import mint_standard_webhooks_secret
from shared.settings import CommonSettings

TEMPLATE_DB = "voc_test_template"


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server to create test databases on, with a migrated template to clone them from."""
    configured = os.environ.get("DATABASE_URL")
    server = None
    if configured:
        admin = _libpq(
            CommonSettings(database_url=configured, kafka_bootstrap_servers="x:1").database_url
        )
    else:
        server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data")
        admin = server.start(database="postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
        conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    upgrade(str(make_url(admin).set(database=TEMPLATE_DB)))
    yield admin
    if server is not None:
        server.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Kafka-protocol broker for the whole session."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield configured
        return
    broker = EmbeddedBroker(
        port=free_port(), log_path=tmp_path_factory.mktemp("tansu") / "broker.log"
    )
    yield broker.start()
    broker.stop()


@pytest.fixture
def database_url(postgres_admin_url: str) -> Iterator[str]:
    """A database of this test's own, already migrated, dropped afterwards."""
    name = f"voc_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
    url = str(make_url(postgres_admin_url).set(database=name))
    yield url
    with psycopg.connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def common(database_url: str, kafka_bootstrap: str) -> CommonSettings:
    """Settings naming this test's database and topics of its own."""
    suffix = uuid.uuid4().hex[:8]
    settings = CommonSettings(
        database_url=database_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        voc_feedback_topic=f"voc.feedback.v1.t{suffix}",
        voc_dlq_topic=f"voc.feedback.dlq.v1.t{suffix}",
        voc_alerts_topic=f"voc.alerts.v1.t{suffix}",
        voc_topic_partitions=3,
    )
    ensure_topics(
        kafka_bootstrap,
        settings.topics,
        partitions=settings.voc_topic_partitions,
    )
    return settings


@pytest.fixture
def common_env(common: CommonSettings) -> dict[str, str]:
    """The same settings as environment variables, for service child processes."""
    return {
        "DATABASE_URL": common.database_url,
        "KAFKA_BOOTSTRAP_SERVERS": common.kafka_bootstrap_servers,
        "VOC_FEEDBACK_TOPIC": common.voc_feedback_topic,
        "VOC_DLQ_TOPIC": common.voc_dlq_topic,
        "VOC_ALERTS_TOPIC": common.voc_alerts_topic,
        "VOC_TOPIC_PARTITIONS": str(common.voc_topic_partitions),
        "SCORING_GROUP_ID": f"voc-scoring-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture
def engine(common: CommonSettings) -> Iterator[Engine]:
    """An engine on the test's database."""
    eng = make_engine(common.database_url, pool_size=2)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions on the test's database."""
    return make_sessionmaker(engine)


@pytest.fixture
def make_source(sessions: sessionmaker[Session]) -> Callable[..., Source]:
    """Create a source row directly, as the API would, returning it with its secret."""

    def make(
        *,
        channel: str = "web",
        provider: str = "generic",
        secret: str | None = None,
        previous_secret: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> Source:
        with transaction(sessions) as session:
            row = Source(
                id=f"src_{uuid.uuid4().hex[:16]}",
                name="test source",
                channel=channel,
                provider=provider,
                secret=secret or mint_standard_webhooks_secret(),
                previous_secret=previous_secret,
                config=config or {},
            )
            session.add(row)
        return row

    return make


@pytest.fixture
def make_key(sessions: sessionmaker[Session]) -> Callable[..., str]:
    """Mint an API key with the given scopes and return its plaintext."""

    def make(*scopes: Scope) -> str:
        with transaction(sessions) as session:
            _, plaintext = create_api_key(session=session, name="test", scopes=scopes or ("read",))
        return plaintext

    return make


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    """Where service child processes of this test write their logs."""
    path = tmp_path / "logs"
    path.mkdir()
    return path
