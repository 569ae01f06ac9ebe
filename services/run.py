"""`voc run`: the whole system in one command, and an orderly stop that loses nothing.

Services run as child processes in their own sessions, so Ctrl-C reaches only this
supervisor, which then stops them in order: ingest first (no new acknowledgements),
then scoring once it has stored everything already acknowledged (the embedded broker
keeps nothing on disk), then the API, the broker and the database.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from kafka import KafkaConsumer, TopicPartition

from shared.api_keys import create_api_key
from shared.db import make_engine, make_sessionmaker, transaction
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, die_with_parent, free_port
from shared.kafka import CONTROL_HEADER, EventProducer, bootstrap_list, ensure_topics
from shared.migrate import upgrade
from shared.settings import CommonSettings, load

SERVICES = ("scoring", "dead-letters", "ingest", "api")


def say(line: str) -> None:
    """Print a supervisor line, flushed so it shows up at once even through a pipe."""
    print(f"voc | {line}", flush=True)


def drain_marker_offsets(common: CommonSettings) -> dict[TopicPartition, int]:
    """Write a marker to every partition; the offsets acknowledged for them bound what is pending.

    Comparing committed offsets with offsets the broker acknowledged works on every broker,
    unlike the log-end offset, which Tansu under-reports.
    """
    topic = common.voc_feedback_topic
    probe = KafkaConsumer(bootstrap_servers=bootstrap_list(common.kafka_bootstrap_servers))
    try:
        partitions = sorted(probe.partitions_for_topic(topic) or ())
    finally:
        probe.close()
    producer = EventProducer(common.kafka_bootstrap_servers, client_id="voc-run-drain")
    try:
        marks = {}
        for p in partitions:
            ack = producer.send_sync(
                topic, key=b"", value=b"", headers={CONTROL_HEADER: b"drain"}, partition=p
            )
            marks[TopicPartition(topic, p)] = ack.offset
        return marks
    finally:
        producer.close()


def wait_until_consumed(
    common: CommonSettings, group_id: str, marks: dict[TopicPartition, int], timeout_s: float
) -> bool:
    """Whether the group committed past every marker before the timeout."""
    watcher = KafkaConsumer(
        bootstrap_servers=bootstrap_list(common.kafka_bootstrap_servers),
        group_id=group_id,
        enable_auto_commit=False,
    )
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            pending = [tp for tp, off in marks.items() if (watcher.committed(tp) or 0) <= off]
            if not pending:
                return True
            time.sleep(0.2)
        return False
    finally:
        watcher.close()


class Supervisor:
    """Starts the services as children and stops them in the order that loses nothing."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.children: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> None:
        """Start `voc NAME` with its output going to a log file."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = (self.log_dir / f"{name}.log").open("ab")
        self.children[name] = subprocess.Popen(
            [sys.executable, "-m", "services.cli", name],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )

    def died(self) -> str | None:
        """The name of a child that exited, if any did."""
        return next((n for n, p in self.children.items() if p.poll() is not None), None)

    def stop(self, name: str, timeout_s: float = 30.0) -> None:
        """SIGTERM a child and wait; kill it if it overstays."""
        proc = self.children.get(name)
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            say(f"{name} did not stop within {timeout_s:.0f} s; killing it")
            proc.kill()
            proc.wait()

    def stop_all(self) -> None:
        """Stop whatever is still running (after a failed start, say), ingest first."""
        for name in ("ingest", "scoring", "dead-letters", "api"):
            self.stop(name)


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(
                f"a service exited during start-up; see its log (status {proc.returncode})"
            )
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout_s:.0f} s")


def run_all(*, data_dir: str) -> None:
    """Bring everything up, print how to use it, and shut down in order on Ctrl-C or SIGTERM."""
    data = Path(data_dir).resolve()
    env = dict(os.environ)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with ExitStack() as cleanup:
        if not env.get("DATABASE_URL"):
            pg = EmbeddedPostgres(data / "pgdata")
            env["DATABASE_URL"] = pg.start()
            cleanup.callback(pg.stop)
            cleanup.callback(say, "stopping PostgreSQL")
            say(f"embedded PostgreSQL 18 up, data in {data / 'pgdata'}")
        if not env.get("KAFKA_BOOTSTRAP_SERVERS"):
            broker = EmbeddedBroker(
                port=int(env.get("VOC_EMBEDDED_KAFKA_PORT", "19092")),
                log_path=data / "logs" / "broker.log",
            )
            env["KAFKA_BOOTSTRAP_SERVERS"] = broker.start()
            cleanup.callback(broker.stop)
            cleanup.callback(say, "stopping the broker")
            say(f"embedded Tansu broker up on {broker.bootstrap_servers} (memory only)")
        os.environ.update(env)
        common = load(CommonSettings)
        upgrade(common.database_url)
        ensure_topics(
            common.kafka_bootstrap_servers,
            common.topics,
            partitions=common.voc_topic_partitions,
        )
        engine = make_engine(common.database_url, pool_size=1)
        with transaction(make_sessionmaker(engine)) as session:
            _, admin_key = create_api_key(
                session=session, name=f"voc run {time.strftime('%F %T')}", scopes=["admin"]
            )
        engine.dispose()

        api_url = f"http://{env.get('API_HOST', '127.0.0.1')}:{env.get('API_PORT', '8080')}"
        ingest_url = (
            f"http://{env.get('INGEST_HOST', '127.0.0.1')}:{env.get('INGEST_PORT', '8081')}"
        )
        # Webhook URLs the API hands out must point at the ingest this run started.
        env.setdefault("API_PUBLIC_INGEST_URL", ingest_url)
        # Dead-letter replays go from the API straight to this ingest, signed with a secret
        # made for this run (unless the operator set one).
        env.setdefault("API_INGEST_URL", ingest_url)
        env.setdefault("VOC_INTERNAL_SECRET", secrets.token_urlsafe(32))
        ops_urls = {
            name: _ops_url(env, prefix, default)
            for name, prefix, default in (
                ("scoring", "SCORING", 8082),
                ("dead-letters", "DEAD_LETTERS", 8083),
            )
        }
        supervisor = Supervisor(env, data / "logs")
        cleanup.callback(supervisor.stop_all)
        for name in SERVICES:
            supervisor.start(name)
        api_url = f"http://{env.get('API_HOST', '127.0.0.1')}:{env.get('API_PORT', '8080')}"
        ingest_url = (
            f"http://{env.get('INGEST_HOST', '127.0.0.1')}:{env.get('INGEST_PORT', '8081')}"
        )
        _wait_http(f"{ingest_url}/healthz", supervisor.children["ingest"])
        _wait_http(f"{api_url}/healthz", supervisor.children["api"])
        _print_welcome(api_url, ingest_url, admin_key, data / "logs")
        for name, url in ops_urls.items():
            say(f"{name} metrics at {url}/metrics, health at {url}/healthz and /readyz")
        say("ready")

        while not stop.wait(0.5):
            if (dead := supervisor.died()) is not None:
                say(f"{dead} exited unexpectedly; see {data / 'logs' / (dead + '.log')}; stopping")
                break
        _shutdown(supervisor, common)


def _ops_url(env: dict[str, str], prefix: str, preferred: int) -> str:
    """Give a consumer process a known metrics port: the set one, else `preferred` if free."""
    host = env.setdefault(f"{prefix}_HTTP_HOST", "127.0.0.1")
    port = env.get(f"{prefix}_HTTP_PORT", "")
    if not port or port == "0":
        port = str(preferred if _port_free(host, preferred) else free_port(host))
        env[f"{prefix}_HTTP_PORT"] = port
    return f"http://{host}:{port}"


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def _shutdown(supervisor: Supervisor, common: CommonSettings) -> None:
    say("stopping ingest (no new webhooks are acknowledged from here on)")
    supervisor.stop("ingest")
    scoring = supervisor.children["scoring"]
    if scoring.poll() is None:
        say("waiting for scoring to store everything already acknowledged")
        from services.scoring.config import ScoringSettings

        group = load(ScoringSettings).group_id
        marks = drain_marker_offsets(common)
        if not wait_until_consumed(common, group, marks, timeout_s=120):
            say("scoring did not catch up within 120 s; events still on the broker may be lost")
    supervisor.stop("scoring")
    supervisor.stop("dead-letters")
    say("stopping the API")
    supervisor.stop("api")


def _print_welcome(api_url: str, ingest_url: str, admin_key: str, logs: Path) -> None:
    say(f"API     {api_url}  (OpenAPI docs at {api_url}/docs)")
    say(f"ingest  {ingest_url}  (webhooks at {ingest_url}/v1/webhooks/<source id>)")
    say(f"logs    {logs}")
    say(f"admin API key (made for this run, shown once): {admin_key}")
    example = f"""
  # create a source, post a signed NPS response, read NPS back
  KEY={admin_key}
  SRC=$(curl -s -X POST {api_url}/v1/sources -H "Authorization: Bearer $KEY" \\
        -H 'Content-Type: application/json' \\
        -d '{{"name":"Checkout survey","channel":"web","provider":"generic"}}')
  URL=$(echo "$SRC" | python3 -c 'import json,sys; print(json.load(sys.stdin)["webhook_url"])')
  SECRET=$(echo "$SRC" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
  BODY='{{"response_id":"r-1","metric":"nps","score":9,"comment":"Fast checkout"}}'
  ID=msg_$(date +%s%N); TS=$(date +%s)
  HEXKEY=$(printf '%s' "${{SECRET#whsec_}}" | base64 -d | od -An -tx1 | tr -d ' \\n')
  SIG=$(printf '%s' "$ID.$TS.$BODY" \\
        | openssl dgst -sha256 -binary -mac HMAC -macopt hexkey:$HEXKEY | base64)
  curl -s -X POST "$URL" -H 'Content-Type: application/json' -H "webhook-id: $ID" \\
       -H "webhook-timestamp: $TS" -H "webhook-signature: v1,$SIG" -d "$BODY"; echo
  sleep 1; curl -s "{api_url}/v1/metrics/nps?window=24h" -H "Authorization: Bearer $KEY"; echo
"""
    print(example, flush=True)
