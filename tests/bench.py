"""`make bench`: the hot paths measured in one run on the embedded stack, printed as rates and ratios.

The machine is shared and noisy, so every figure that matters is a ratio against a
baseline measured in the same run (ingest against a no-op FastAPI endpoint) or a rate.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from services.run import wait_until_consumed
from services.scoring.config import ScoringSettings
from services.scoring.rebuild import rebuild_aggregates
from services.scoring.worker import ScoringWorker
from services.seed import COMMENTS
from shared.api_keys import create_api_key
from shared.db import make_engine, make_sessionmaker, transaction
from shared.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from shared.kafka import EventProducer, ensure_topics
from shared.migrate import upgrade
from shared.models import Source
from shared.providers import mint_standard_webhooks_secret
from shared.settings import CommonSettings
from tests import bench_api, bench_producer
from tests.bench_freshness import PROBE_SOURCE, Freshness, measure_freshness
from tests.bench_load import CLIENTS, hammer, load_in_background, pct
from tests.support.stack import Service, http_service, service_env
from tests.support.stream import generate, produce

NOOP_APP = "tests.bench_noop:app"
PRODUCER_TOPIC = "voc.bench.producer"
SECONDS = 8.0
FRESHNESS_RATES = (200, 500)  # webhooks a second of background load while freshness is probed
REPORT_PATH = Path("docs/BENCHMARKS.md")
SECTIONS = ("ingest", "scoring", "freshness", "api")
# `VOC_BENCH_ONLY=ingest,freshness make bench` runs those sections alone (the whole suite takes
# about 25 minutes); such a partial run prints its figures but leaves docs/BENCHMARKS.md alone.
ONLY = tuple(
    part.strip() for part in os.environ.get("VOC_BENCH_ONLY", ",".join(SECTIONS)).split(",")
)


@dataclass
class Report:
    """Everything one run measured, printed and written to docs/BENCHMARKS.md."""

    http: list[tuple[str, str, float, float, float, int]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    api: list[tuple[str, float, float, float, float]] = field(default_factory=list)
    scaling: list[tuple[str, float, float]] = field(default_factory=list)
    memory: dict[str, float] = field(default_factory=dict)

    def markdown(self) -> str:
        """The results as Markdown tables, with the machine they were measured on."""
        out = [
            "# Benchmarks",
            "",
            f"Measured by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. {machine()}.",
            f"HTTP figures: {CLIENTS} client processes on the same machine, one keep-alive "
            f"`http.client` connection each, requests prepared (and signed) before the clock "
            f"starts, {SECONDS:.0f} s each; the machine is shared, so compare figures of one run.",
            "",
            "| measurement | rate | p50 ms | p95 ms | p99 ms | non-2xx |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, rate, p50, p95, p99, failed in self.http:
            out.append(f"| {name} | {rate} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {failed} |")
        out += ["", *[f"- {line}" for line in self.lines], ""]
        if self.api:
            out += [
                f"API over {bench_api.EVENTS:,} stored responses spread over a year, one client, "
                f"{bench_api.REQUESTS} requests each:",
                "",
                "| request | p50 ms | p95 ms | p99 ms | p99 target ms |",
                "|---|---:|---:|---:|---:|",
            ]
            for label, p50, p95, p99, target in self.api:
                out.append(f"| {label} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {target:.0f} |")
            out.append("")
        if self.scaling:
            small, large = bench_api.SMALL_EVENTS, bench_api.EVENTS
            out += [
                f"Cost against stored events: the same metric queries over {small:,} and "
                f"{large:,} responses (same seed, same year), p50 of {bench_api.REQUESTS} "
                "requests each, measured back to back:",
                "",
                f"| request | p50 ms at {small:,} | p50 ms at {large:,} | ratio |",
                "|---|---:|---:|---:|",
            ]
            for label, p_small, p_large in self.scaling:
                out.append(f"| {label} | {p_small:.1f} | {p_large:.1f} | {p_large / p_small:.2f} |")
            out.append("")
        out += ["Peak resident memory (VmHWM) of each service process over the run:", ""]
        out += [f"- {name}: {mib:,.0f} MiB" for name, mib in self.memory.items()]
        return "\n".join(out) + "\n"


def machine() -> str:
    """CPU model, cores, memory and Python: what the figures depend on."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return (
        f"{model}, {os.cpu_count()} cores, {mem_kib / 1024**2:.0f} GiB RAM, "
        f"Python {sys.version.split()[0]}, embedded PostgreSQL 18 and Tansu"
    )


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set so far, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    """Start the embedded stack, run every measurement, print the table and write the report."""
    unknown = set(ONLY) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"VOC_BENCH_ONLY: unknown {sorted(unknown)}; the sections are {SECTIONS}")
    work = Path(tempfile.mkdtemp(prefix="voc-bench-"))
    pg = EmbeddedPostgres(work / "pg")
    url = pg.start()
    broker = EmbeddedBroker(port=free_port(), log_path=work / "broker.log")
    bootstrap = broker.start()
    services: list[Service] = []
    report = Report()
    try:
        upgrade(url)
        ensure_topics(bootstrap, ["voc.feedback.v1", "voc.feedback.dlq.v1"], partitions=6)
        common = CommonSettings(database_url=url, kafka_bootstrap_servers=bootstrap)
        engine = make_engine(common.database_url, pool_size=2)
        sessions = make_sessionmaker(engine)
        secret = mint_standard_webhooks_secret()
        with transaction(sessions) as s:
            for source_id in ("src_bench", PROBE_SOURCE):
                s.add(
                    Source(
                        id=source_id,
                        name=source_id,
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

        if "ingest" in ONLY:
            noop_rate, noop_cpu = _webhook_run(
                report, "no-op FastAPI POST, same requests", noop, secret
            )
            ingest_rate, ingest_cpu = _webhook_run(
                report, "signed webhook, 202 after acks=all", ingest, secret
            )
            report.lines.append(
                f"ingest / no-op ratio: **{ingest_rate / noop_rate:.2f}** (target at least 0.5)"
            )
            report.lines.append(
                f"server CPU per request: ingest {ingest_cpu * 1000:.2f} ms, no-op "
                f"{noop_cpu * 1000:.2f} ms ({ingest_cpu / noop_cpu:.1f} times)"
            )
            ensure_topics(bootstrap, [PRODUCER_TOPIC], partitions=6)
            sends = bench_producer.measure(
                bootstrap, PRODUCER_TOPIC, seconds=SECONDS, in_flight=CLIENTS
            )
            report.http.append(
                (
                    f"kafka-python producer alone, {CLIENTS} sends in flight, acks=all",
                    f"{sends.rate:,.0f} sends/s",
                    *_pcts(sends.latencies),
                    0,
                )
            )
            # A webhook waits for its send, so with as many in flight ingest can go no faster
            # than the producer alone; and as both servers are CPU-bound, rates go as the
            # inverse of CPU per request, so no faster than the no-op's CPU plus one send's.
            by_rate = sends.rate / noop_rate
            by_cpu = noop_cpu / (noop_cpu + sends.cpu_per_send)
            report.lines.append(
                f"producer CPU per acknowledged send: {sends.cpu_per_send * 1000:.2f} ms, in a "
                f"process doing nothing else. With {CLIENTS} webhooks in flight, ingest could "
                f"reach a ratio of at most **{min(by_rate, by_cpu):.2f}** even if its own work "
                f"cost nothing ({by_rate:.2f} by the producer's rate alone, {by_cpu:.2f} by the "
                "no-op's CPU plus one send's)"
            )

        if "scoring" in ONLY:
            # Alternating runs on events of their own (the same ids twice would make the second
            # run all duplicates); the best of two each, since one run on a shared machine is noisy.
            runs: dict[bool, list[tuple[float, int]]] = {False: [], True: []}
            for seed, analysis in enumerate((False, True, False, True), start=1):
                topic = f"voc.bench.scoring{seed}"
                runs[analysis].append(
                    _scoring_rate(common, topic, text_analysis=analysis, seed=seed)
                )
            plain, analysed = max(runs[False]), max(runs[True])
            report.lines.append(
                f"scoring worker: {analysed[0]:,.0f} events/s with comment analysis, "
                f"{plain[0]:,.0f} events/s without ({analysed[1]:,} records a run, 2% duplicates, "
                "a third with comments; first record fetched to last offset committed; best of "
                "two alternating runs each)"
            )
            report.lines.append(
                f"comment analysis adds **{(plain[0] / analysed[0] - 1) * 100:.0f}%** to the "
                "scoring worker's per-event cost (target at most 25%)"
            )

        scoring = Service("scoring", env, work / "scoring.log")
        services.append(scoring)
        scoring.start()
        if "freshness" in ONLY:
            # Let scoring join its group and work off the backlog the ingest measurement left,
            # so the probes measure the steady state, not the start-up.
            measure_freshness(
                ingest_url=ingest.url, api_url=api.url, secret=secret, key=key, seconds=1
            )
            for rate in FRESHNESS_RATES:
                pids = {s.name: s.proc.pid for s in (ingest, scoring, api) if s.proc is not None}
                assert broker.process is not None
                pids["broker"] = broker.process.pid
                fresh, reached, cores = _freshness_under_load(
                    ingest.url, api.url, secret, key, rate, pids
                )
                report.lines.append(
                    f"freshness (202 answered to visible in the API) with {rate} webhooks/s asked "
                    f"({reached:,.0f}/s reached): p50 {pct(fresh.seconds, 50):.0f} ms, "
                    f"p95 **{pct(fresh.seconds, 95):.0f} ms**, p99 {pct(fresh.seconds, 99):.0f} ms "
                    f"over {len(fresh.seconds)} probes, {fresh.lost} never visible "
                    "(target p95 under 1000 ms at 500/s); cores used: "
                    + ", ".join(f"{name} {used:.2f}" for name, used in cores.items())
                )

        if "api" in ONLY:
            stored, in_window = _seed_history(url, sessions, days=90, per_hour=40)
            n, lat, fail = hammer("metric", {"url": api.url, "key": key}, SECONDS / 2)
            report.http.append(
                (
                    f"GET /v1/metrics/nps?window=30d, {CLIENTS} clients ({stored:,} responses "
                    f"stored, {in_window:,} in the window)",
                    f"{n / (SECONDS / 2):,.0f} req/s",
                    *_pcts(lat),
                    fail,
                )
            )
        engine.dispose()
        for service in (ingest, scoring, api, noop):
            assert service.proc is not None
            report.memory[service.name] = peak_rss_mib(service.proc.pid)

        if "api" in ONLY:
            report.api = bench_api.latency_rows(env, work)
            report.scaling = bench_api.scaling_rows(env, work)
    finally:
        for s in services:
            s.stop()
        broker.stop()
        pg.stop()
    text = report.markdown()
    print("\n" + text)
    if set(SECTIONS) <= set(ONLY):
        REPORT_PATH.write_text(text)
        print(f"written to {REPORT_PATH}")


def _webhook_run(report: Report, name: str, server: Service, secret: str) -> tuple[float, float]:
    """Hammer `server` with signed webhooks; add its row and return its rate and the CPU
    seconds its process spent per answered request."""
    assert server.proc is not None
    before = cpu_seconds(server.proc.pid)
    n, lat, fail = hammer("webhook", {"url": server.url, "secret": secret}, SECONDS)
    spent = cpu_seconds(server.proc.pid) - before
    report.http.append((name, f"{n / SECONDS:,.0f} req/s", *_pcts(lat), fail))
    return n / SECONDS, spent / max(n, 1)


def cpu_seconds(pid: int) -> float:
    """User and system CPU the process has used so far, all its threads together (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pcts(latencies: list[float]) -> tuple[float, float, float]:
    return pct(latencies, 50), pct(latencies, 95), pct(latencies, 99)


def _freshness_under_load(
    ingest_url: str, api_url: str, secret: str, key: str, rate: int, pids: dict[str, int]
) -> tuple[Freshness, float, dict[str, float]]:
    """Probe freshness while CLIENTS processes try to keep `rate` webhooks a second coming;
    return the probes, the rate the load actually reached and the cores each of `pids` used
    while the probes ran."""
    seconds = 20.0
    target = {"url": ingest_url, "secret": secret}
    with load_in_background("webhook", target, seconds, rate=rate) as load:
        time.sleep(2)  # probe once the load is steady
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        started = time.monotonic()
        fresh = measure_freshness(
            ingest_url=ingest_url, api_url=api_url, secret=secret, key=key, seconds=seconds - 4
        )
        elapsed = time.monotonic() - started
        cores = {name: (cpu_seconds(pid) - before[name]) / elapsed for name, pid in pids.items()}
    return fresh, load.results[0] / seconds, cores


def _start_noop(port: int, env: dict[str, str], work: Path):  # type: ignore[no-untyped-def]
    import subprocess

    from shared.embedded import die_with_parent

    with (work / "noop.log").open("ab") as out:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", NOOP_APP, "--port", str(port)),
                *("--no-access-log", "--loop", "uvloop", "--http", "httptools"),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )


def _scoring_rate(
    common: CommonSettings, topic: str, *, text_analysis: bool, seed: int, events: int = 60_000
) -> tuple[float, int]:
    """One worker's rate on its own topic: events produced up front, then consumed and stored."""
    ensure_topics(common.kafka_bootstrap_servers, [topic], partitions=6)
    common = common.model_copy(update={"voc_feedback_topic": topic})
    rng = random.Random(7)
    comments = [c for tone in COMMENTS.values() for c in tone]
    stream = [
        e.model_copy(update={"text": rng.choice(comments) if rng.random() < 0.35 else None})
        for e in generate(events, seed=seed, duplicate_share=0.02)
    ]
    marks = produce(common.kafka_bootstrap_servers, topic, stream)
    settings = ScoringSettings(
        group_id=f"bench-{topic}", max_batch=10_000, text_analysis=text_analysis
    )
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


def _seed_history(url: str, sessions: Any, *, days: int, per_hour: int) -> tuple[int, int]:
    """Seed past responses with SQL (fast), then build their buckets with the real rebuild.

    Returns the responses stored and those in the last 30 days, the earlier sections' among
    them: the metric read sums their buckets too, so it is slower here than over the seeded
    history alone, and its row has to say so.
    """
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
        row = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE occurred_at > now() - interval '30 days') "
            "FROM feedback"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


if __name__ == "__main__":
    main()
