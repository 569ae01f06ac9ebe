"""The `voc` command: one entry point for every service and operator task."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from types import FrameType

from fastapi import FastAPI
from kafka.errors import KafkaError
from sqlalchemy import Engine

from shared.api_keys import SCOPES, create_api_key
from shared.db import make_engine, make_sessionmaker, transaction
from shared.health import Readiness
from shared.kafka import EventProducer, ensure_topics
from shared.logs import configure_logging
from shared.ops_server import OpsServer
from shared.settings import CommonSettings, S, load, load_pair

log = logging.getLogger("voc")


def _settings(service: str, cls: type[S]) -> tuple[CommonSettings, S]:
    """Load the shared and the service's settings, reporting every problem of both at once."""
    common, own = load_pair(CommonSettings, cls)
    configure_logging(service, common.voc_log_level)
    log.info("settings", extra={"settings": common.masked(), service: own.model_dump()})
    return common, own


def _wait_for_topics(common: CommonSettings, timeout_s: float = 60.0) -> None:
    """Create the topics, waiting for a broker that is still starting; give up with one line."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            ensure_topics(
                common.kafka_bootstrap_servers,
                common.topics,
                partitions=common.voc_topic_partitions,
            )
            return
        except KafkaError as exc:
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"cannot reach the Kafka broker at {common.kafka_bootstrap_servers}: {exc}"
                ) from None
            time.sleep(1)


def cmd_ingest(_: argparse.Namespace) -> None:
    """Serve the webhook receiver."""
    from services.ingest.app import create_app
    from services.ingest.config import IngestSettings
    from shared.redrive import InternalSettings

    common, settings = _settings("ingest", IngestSettings)
    internal = load(InternalSettings)
    _wait_for_topics(common)
    _serve(create_app(common, settings, internal), settings.host, settings.port)


def cmd_api(_: argparse.Namespace) -> None:
    """Serve the REST API."""
    from services.api.app import create_app
    from services.api.config import ApiSettings
    from shared.redrive import InternalSettings

    common, settings = _settings("api", ApiSettings)
    _serve(create_app(common, settings, load(InternalSettings)), settings.host, settings.port)


def _serve(app: FastAPI, host: str, port: int) -> None:
    """Run an app under uvicorn with our JSON logging; SIGTERM lets in-flight requests finish.

    uvloop and httptools, not the pure-Python asyncio loop and h11: they halve the CPU the
    server itself spends on a request (README, Benchmarks).
    """
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=15,
    )


def _ops_server(host: str, port: int, readiness: Readiness) -> OpsServer:
    """Start /metrics, /healthz and /readyz for a process with no web app; one line if it cannot."""
    try:
        return OpsServer(host=host, port=port, readiness=readiness).start()
    except OSError as exc:
        raise SystemExit(f"cannot serve metrics and health on {host}:{port}: {exc}") from None


@contextmanager
def _consumer_running(
    *, host: str, port: int, common: CommonSettings, engine: Engine, stop: Callable[[], None]
) -> Iterator[None]:
    """Serve ops endpoints and turn SIGTERM or SIGINT into `stop` while a consumer process runs.

    The engine is the process's only one, so it is disposed last, after the ops server closes.
    """
    # Ready when it can do its work: read its topic and store into the database.
    readiness = Readiness.of(engine=engine, bootstrap_servers=common.kafka_bootstrap_servers)
    ops = _ops_server(host, port, readiness)

    def on_signal(signum: int, _: FrameType | None) -> None:
        log.info("stopping on signal", extra={"signal": signal.Signals(signum).name})
        stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        yield
    finally:
        ops.close()
        engine.dispose()


def cmd_scoring(_: argparse.Namespace) -> None:
    """Run a scoring worker, its alert threads and its ops server until SIGTERM or SIGINT.

    Beside the worker run the alert evaluator and the notification dispatcher (unless
    SCORING_ALERTS_ENABLED is false) and an HTTP server for /metrics, /healthz and /readyz.
    """
    from services.scoring.alerts.runner import AlertEngine
    from services.scoring.config import ScoringSettings
    from services.scoring.worker import ScoringWorker

    common, settings = _settings("scoring", ScoringSettings)
    _wait_for_topics(common)
    engine = make_engine(common.database_url, pool_size=2)
    producer = EventProducer(common.kafka_bootstrap_servers, client_id="voc-scoring")
    sessions = make_sessionmaker(engine)
    alert_engine = (
        AlertEngine(common=common, settings=settings, sessions=sessions, producer=producer)
        if settings.alerts_enabled
        else None
    )
    worker = ScoringWorker(
        common=common,
        settings=settings,
        sessions=sessions,
        dead_letters=producer,
        on_committed=alert_engine.batch_committed if alert_engine else None,
    )
    with _consumer_running(
        host=settings.http_host,
        port=settings.http_port,
        common=common,
        engine=engine,
        stop=worker.stop,
    ):
        try:
            if alert_engine is not None:
                alert_engine.start()
            worker.run()
        finally:
            if alert_engine is not None:
                alert_engine.stop()
            producer.close()


def cmd_dead_letters(_: argparse.Namespace) -> None:
    """Record the dead-letter topic into the database, so the API can list and show it."""
    from shared.dead_letters import DeadLetterRecorder, DeadLetterSettings

    common, settings = _settings("dead-letters", DeadLetterSettings)
    _wait_for_topics(common)
    engine = make_engine(common.database_url, pool_size=1)
    recorder = DeadLetterRecorder(
        bootstrap_servers=common.kafka_bootstrap_servers,
        topic=common.voc_dlq_topic,
        group_id="voc-dead-letters",
        sessions=make_sessionmaker(engine),
    )
    stop = threading.Event()
    with _consumer_running(
        host=settings.http_host,
        port=settings.http_port,
        common=common,
        engine=engine,
        stop=stop.set,
    ):
        recorder.run(stop)


def cmd_migrate(_: argparse.Namespace) -> None:
    """Apply database migrations and create the Kafka topics."""
    from shared.migrate import upgrade

    common = load(CommonSettings)
    configure_logging("migrate", common.voc_log_level)
    upgrade(common.database_url)
    _wait_for_topics(common)
    log.info("migrated")


def cmd_rebuild_aggregates(_: argparse.Namespace) -> None:
    """Recompute every metric bucket from stored feedback; scoring may keep running meanwhile."""
    from services.scoring.rebuild import rebuild_aggregates

    common = load(CommonSettings)
    configure_logging("rebuild", common.voc_log_level)
    engine = make_engine(common.database_url, pool_size=1)
    started = time.monotonic()
    try:
        with transaction(make_sessionmaker(engine)) as session:
            result = rebuild_aggregates(session=session)
    finally:
        engine.dispose()
    print(
        f"rebuilt {result.buckets} buckets, {result.tag_buckets} tag buckets and "
        f"{result.theme_buckets} theme buckets in {time.monotonic() - started:.1f} s"
    )


def cmd_seed(args: argparse.Namespace) -> None:
    """Add a year of realistic feedback to the database (for demos and `make bench`)."""
    from services.seed import seed

    common = load(CommonSettings)
    configure_logging("seed", common.voc_log_level)
    started = time.monotonic()
    seed(common.database_url, events=args.events, days=args.days)
    print(f"seeded {args.events:,} responses in {time.monotonic() - started:.0f} s")


def cmd_keys_create(args: argparse.Namespace) -> None:
    """Mint an API key and print it once; only its hash is stored."""
    common = load(CommonSettings)
    configure_logging("keys", "WARNING")
    engine = make_engine(common.database_url, pool_size=1)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            key, plaintext = create_api_key(
                session=session, name=args.name, scopes=args.scope or ["read"]
            )
    finally:
        engine.dispose()
    print(f"key id: {key.id}  scopes: {','.join(key.scopes)}  (shown once; store it now)")
    print(plaintext)


def cmd_run(args: argparse.Namespace) -> None:
    """Start the embedded stack (or the configured servers) and all three services."""
    from services.run import run_all

    run_all(data_dir=args.data_dir)


def build_parser() -> argparse.ArgumentParser:
    """The command tree; also read by the tests that check docker-compose's commands."""
    parser = argparse.ArgumentParser(prog="voc", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, func, text in (
        ("ingest", cmd_ingest, "serve provider webhooks"),
        ("scoring", cmd_scoring, "run a scoring worker"),
        ("dead-letters", cmd_dead_letters, "record dead-lettered deliveries for the API"),
        ("api", cmd_api, "serve the REST API"),
        ("migrate", cmd_migrate, "migrate the database and create the Kafka topics"),
        ("rebuild-aggregates", cmd_rebuild_aggregates, "recompute all buckets from feedback"),
    ):
        sub.add_parser(name, help=text, description=func.__doc__).set_defaults(func=func)
    run = sub.add_parser(
        "run",
        help="start everything (embedded PostgreSQL and Kafka by default)",
        description=cmd_run.__doc__,
    )
    run.add_argument("--data-dir", default=".voc", help="where embedded data lives (default .voc)")
    run.set_defaults(func=cmd_run)
    seed = sub.add_parser("seed", help="add realistic feedback", description=cmd_seed.__doc__)
    seed.add_argument("--events", type=int, default=100_000, help="how many (default 100,000)")
    seed.add_argument("--days", type=int, default=365, help="spread over the last N days")
    seed.set_defaults(func=cmd_seed)
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION"
    )
    create = keys.add_parser("create", help="mint an API key", description=cmd_keys_create.__doc__)
    create.add_argument("--name", required=True, help="who or what the key is for")
    create.add_argument(
        "--scope",
        action="append",
        choices=SCOPES,
        help="a scope to grant; repeat for several (default read)",
    )
    create.set_defaults(func=cmd_keys_create)
    from services.simulate.cli import add_parser as add_simulate

    add_simulate(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main(sys.argv[1:])
