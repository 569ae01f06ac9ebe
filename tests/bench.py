"""`make bench`: the hot paths measured in one run on the embedded stack, printed as rates and ratios.

The machine is shared and noisy, so every figure that matters is a ratio against a
baseline measured in the same run (ingest against a no-op FastAPI endpoint) or a rate.
"""

from __future__ import annotations

import multiprocessing
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from services.run import wait_until_consumed
from services.scoring.config import ScoringSettings
from services.scoring.rebuild import rebuild_aggregates
from services.scoring.worker import ScoringWorker
from shared.api_keys import create_api_key
from shared.db import make_engine, make_sessionmaker, transaction
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from shared.kafka import EventProducer, ensure_topics
from shared.migrate import upgrade
from shared.models import Source
from shared.providers import mint_standard_webhooks_secret
from shared.settings import CommonSettings
from tests.support.stack import Service, http_service, service_env
from tests.support.stream import generate, produce
from tests.support.webhooks import signed

NOOP_APP = "tests.bench_noop:app"
CLIENTS = 8
WARMUP_SECONDS = 6.0  # spawned client processes import before the clock starts
SECONDS = 8.0


def _client_loop(args: tuple[str, dict[str, str], float, float]) -> tuple[list[float], int]:
    """One load-generating process: a keep-alive client sending requests of `kind` in [start, end)."""
    kind, target, start, deadline = args
    latencies: list[float] = []
    failures = 0
    with httpx.Client(timeout=30) as client:
        time.sleep(max(0.0, start - time.time()))  # all processes begin together, after start-up
        while time.time() < deadline:
            method, url, kw = _request(kind, target)
            started = time.perf_counter()
            answer = client.request(method, url, **kw)
            if answer.status_code < 300:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1
    return latencies, failures


def _request(kind: str, t: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    if kind == "noop":
        return "POST", f"{t['url']}/noop", {"content": b'{"ok":true}'}
    if kind == "webhook":
        payload = {
            "response_id": uuid.uuid4().hex,
            "metric": "nps",
            "score": 9,
            "comment": "Fast and friendly",
        }
        body, headers = signed(t["secret"], payload)
        return "POST", f"{t['url']}/v1/webhooks/src_bench", {"content": body, "headers": headers}
    return (
        "GET",
        f"{t['url']}/v1/metrics/nps",
        {"params": {"window": "30d"}, "headers": {"Authorization": f"Bearer {t['key']}"}},
    )


def hammer(kind: str, target: dict[str, str], seconds: float) -> tuple[int, list[float], int]:
    """Drive the server from CLIENTS processes for `seconds`; return (ok count, latencies, failures).

    Processes, not asyncio tasks: a single Python client process saturates long before
    the servers do, and would measure itself.
    """
    start = time.time() + WARMUP_SECONDS
    with multiprocessing.get_context("spawn").Pool(CLIENTS) as pool:
        results = pool.map(_client_loop, [(kind, target, start, start + seconds)] * CLIENTS)
    latencies = [x for lat, _ in results for x in lat]
    return len(latencies), latencies, sum(f for _, f in results)


def pct(values: list[float], q: float) -> float:
    """The q-th percentile in milliseconds."""
    return (
        statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else float("nan")
    )


def main() -> None:
    """Start the embedded stack, run every measurement, print the table."""
    work = Path(tempfile.mkdtemp(prefix="voc-bench-"))
    pg = EmbeddedPostgres(work / "pg")
    url = pg.start()
    broker = EmbeddedBroker(port=free_port(), log_path=work / "broker.log")
    bootstrap = broker.start()
    services: list[Service] = []
    try:
        upgrade(url)
        ensure_topics(bootstrap, ["voc.feedback.v1", "voc.feedback.dlq.v1"], partitions=6)
        common = CommonSettings(database_url=url, kafka_bootstrap_servers=bootstrap)
        engine = make_engine(common.database_url, pool_size=2)
        sessions = make_sessionmaker(engine)
        secret = mint_standard_webhooks_secret()
        with transaction(sessions) as s:
            s.add(
                Source(
                    id="src_bench",
                    name="bench",
                    channel="web",
                    provider="generic",
                    secret=secret,
                    config={},
                )
            )
            _, key = create_api_key(session=s, name="bench", scopes=["read"])
        env = service_env(
            {
                "DATABASE_URL": url,
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "VOC_LOG_LEVEL": "WARNING",
                "API_RATE_LIMIT_PER_SECOND": "0",
            }  # the bench is one key hammering on purpose
        )
        ingest = http_service("ingest", env, work)
        api = http_service("api", env, work)
        noop_port = free_port()
        noop = Service("noop", env, work / "noop.log", port=noop_port)
        services += [ingest, api]
        for s in (ingest, api):
            s.start()
        noop.proc = _start_noop(noop_port, env, work)
        services.append(noop)
        noop.start_wait()

        rows = []
        n, lat, fail = hammer("noop", {"url": noop.url}, SECONDS)
        noop_rate = n / SECONDS
        rows.append(
            (
                "no-op FastAPI POST",
                f"{noop_rate:,.0f} req/s",
                pct(lat, 50),
                pct(lat, 95),
                pct(lat, 99),
                fail,
            )
        )

        n, lat, fail = hammer("webhook", {"url": ingest.url, "secret": secret}, SECONDS)
        ingest_rate = n / SECONDS
        rows.append(
            (
                "signed webhook, 202 after acks=all",
                f"{ingest_rate:,.0f} req/s",
                pct(lat, 50),
                pct(lat, 95),
                pct(lat, 99),
                fail,
            )
        )

        scoring_rate, scored = _scoring_rate(common)
        _seed_history(url, sessions, days=90, per_hour=40)
        n, lat, fail = hammer("metric", {"url": api.url, "key": key}, SECONDS / 2)
        rows.append(
            (
                "GET /v1/metrics/nps?window=30d (86k responses in 90 d)",
                f"{n / (SECONDS / 2):,.0f} req/s",
                pct(lat, 50),
                pct(lat, 95),
                pct(lat, 99),
                fail,
            )
        )
        engine.dispose()

        print(
            f"\nVoC benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, python {sys.version.split()[0]},"
            f" {CLIENTS} client processes, {SECONDS:.0f} s per HTTP measurement\n"
        )
        print(f"| {'measurement':<58} | {'rate':>14} | p50 ms | p95 ms | p99 ms | non-2xx |")
        print(f"|{'-' * 60}|{'-' * 16}|--------|--------|--------|---------|")
        for name, rate, p50, p95, p99, failed in rows:
            print(
                f"| {name:<58} | {rate:>14} | {p50:6.1f} | {p95:6.1f} | {p99:6.1f} | {failed:7d} |"
            )
        print(f"\ningest / no-op ratio: {ingest_rate / noop_rate:.2f}")
        print(
            f"scoring worker: {scoring_rate:,.0f} events/s ({scored:,} records produced up front, "
            "2% duplicates; first record fetched to last offset committed, batches of 10,000)"
        )
    finally:
        for s in services:
            s.stop()
        broker.stop()
        pg.stop()


def _start_noop(port: int, env: dict[str, str], work: Path):  # type: ignore[no-untyped-def]
    import subprocess

    from shared.embedded import die_with_parent

    with (work / "noop.log").open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", NOOP_APP, "--port", str(port), "--no-access-log"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )


def _scoring_rate(common: CommonSettings, events: int = 100_000) -> tuple[float, int]:
    """One worker's rate: events produced up front, first record fetched to last offset committed."""
    stream = generate(events, seed=1, duplicate_share=0.02)
    marks = produce(common.kafka_bootstrap_servers, common.voc_feedback_topic, stream)
    settings = ScoringSettings(group_id="bench-scoring", max_batch=10_000)
    engine = make_engine(common.database_url, pool_size=2)
    dlq = EventProducer(common.kafka_bootstrap_servers)
    worker = ScoringWorker(
        common=common, settings=settings, sessions=make_sessionmaker(engine), dead_letters=dlq
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert wait_until_consumed(common, settings.group_id, marks, timeout_s=600)
    finally:
        worker.stop()
        thread.join()
        dlq.close()
        engine.dispose()
    stats = worker.stats
    assert stats.first_record_at is not None and stats.last_commit_at is not None
    return stats.records / (stats.last_commit_at - stats.first_record_at), stats.records


def _seed_history(url: str, sessions: Any, *, days: int, per_hour: int) -> None:
    """Seed past responses with SQL (fast), then build their buckets with the real rebuild."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO feedback (event_id, source_id, channel, provider, provider_message_id,
                                  metric, score, occurred_at, received_at, kafka_partition,
                                  kafka_offset)
            SELECT gen_random_uuid(), 'src_seed', 'web', 'generic', 'seed-' || g, 'nps', g %% 11,
                   now() - make_interval(secs => g * 3600.0 / %(per_hour)s), now(), 0, g
            FROM generate_series(1, %(n)s) AS g""",
            {"n": days * 24 * per_hour, "per_hour": per_hour},
        )
    with transaction(sessions) as session:
        rebuild_aggregates(session=session)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


if __name__ == "__main__":
    main()
