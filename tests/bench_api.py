"""API latencies over a year of stored feedback (ten million responses by default), for `make bench`.

Each data set is seeded once by `voc seed` (services/seed.py) into `.voc/bench/<size>/` and
reused by later runs as long as the seed, the migrations and the size are unchanged, because
seeding ten million rows takes minutes. A second set a tenth the size, seeded the same way,
shows how a query's cost grows with the stored events: it should not, since reads sum
buckets and rollups, whose number depends on the window and the dimensions, not on rows.

Latency is measured with one client sending one request at a time, which is what a dashboard
user waits for; throughput under concurrent clients is a separate figure, since on two cores
it mostly measures queueing.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from services.seed import seed
from shared.api_keys import create_api_key
from shared.db import make_engine, make_sessionmaker, transaction
from shared.embedded import EmbeddedPostgres
from shared.migrate import MIGRATIONS_DIR, upgrade
from tests.bench_load import pct
from tests.support.stack import http_service

DATA_DIR = Path(".voc/bench")
EVENTS = int(os.environ.get("VOC_BENCH_EVENTS", "10000000"))
SMALL_EVENTS = EVENTS // 10
REQUESTS = 300
SEARCH_TERMS = ("delivery", "late", "refund", "app", "friendly", "التوصيل", "خدمة", "سعر", "كويس")


@dataclass(frozen=True)
class Target:
    """One request shape, the latency the API issue asks for at the 99th percentile, and a label."""

    label: str
    p99_target_ms: float
    request: Callable[[int], tuple[str, dict[str, str]]]


TARGETS = (
    Target("GET /v1/metrics/nps?window=30d", 50, lambda i: ("/v1/metrics/nps", {"window": "30d"})),
    Target(
        "GET /v1/metrics/nps/series?window=90d&interval=1d",
        100,
        lambda i: ("/v1/metrics/nps/series", {"window": "90d", "interval": "1d"}),
    ),
    Target(
        "the same series in America/New_York days (hour rollups)",
        100,
        lambda i: (
            "/v1/metrics/nps/series",
            {"window": "90d", "interval": "1d", "tz": "America/New_York"},
        ),
    ),
    Target(
        "GET /v1/feedback?q=<term> (a page of 50)",
        200,
        lambda i: ("/v1/feedback", {"q": SEARCH_TERMS[i % len(SEARCH_TERMS)], "limit": "50"}),
    ),
)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _dataset_stamp(events: int) -> str:
    """Changes whenever the seed, a migration or the size changes: then the data is re-seeded."""
    digest = hashlib.sha256(str(events).encode())
    for path in [Path(seed.__code__.co_filename), *sorted(MIGRATIONS_DIR.glob("versions/*.py"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


@contextmanager
def seeded_database(events: int) -> Iterator[str]:
    """A bench database with `events` seeded responses: reused when still valid, else re-seeded."""
    data_dir = DATA_DIR / str(events)
    pg = EmbeddedPostgres(data_dir / "pg")
    url = pg.start(database="postgres")
    try:
        stamp = _dataset_stamp(events)
        marker = data_dir / "seeded"
        bench_url = str(make_url(url).set(database="voc_bench"))
        if not marker.exists() or marker.read_text() != stamp:
            marker.unlink(missing_ok=True)
            with psycopg.connect(_libpq(url), autocommit=True) as conn:
                conn.execute('DROP DATABASE IF EXISTS "voc_bench" WITH (FORCE)')
                conn.execute('CREATE DATABASE "voc_bench"')
            upgrade(bench_url)
            started = time.monotonic()
            print(f"seeding {events:,} responses into {data_dir} (once; later runs reuse it)")
            seed(bench_url, events=events)
            print(f"seeded in {time.monotonic() - started:,.0f} s")
            marker.write_text(stamp)
        yield bench_url
    finally:
        pg.stop()


Timings = dict[str, list[float]]
"""Seconds each request took, by target label."""


def latency_rows(env: dict[str, str], work: Path) -> list[tuple[str, float, float, float, float]]:
    """(label, p50, p95, p99, p99 target) in ms for each target over EVENTS responses."""
    timings = _timings(env, work, EVENTS, TARGETS)
    return [
        (t.label, *(pct(timings[t.label], q) for q in (50, 95, 99)), t.p99_target_ms)
        for t in TARGETS
    ]


def scaling_rows(env: dict[str, str], work: Path) -> list[tuple[str, float, float]]:
    """(label, p50 over SMALL_EVENTS, p50 over EVENTS) in ms for each metric query.

    Measured back to back with fresh API processes, so the two sizes see the same machine.
    """
    metric_targets = [t for t in TARGETS if t.request(0)[0].startswith("/v1/metrics")]
    small = _timings(env, work, SMALL_EVENTS, metric_targets)
    large = _timings(env, work, EVENTS, metric_targets)
    return [(t.label, pct(small[t.label], 50), pct(large[t.label], 50)) for t in metric_targets]


def _timings(env: dict[str, str], work: Path, events: int, targets: Sequence[Target]) -> Timings:
    """One client, one request at a time, REQUESTS of each target after a warm-up."""
    with seeded_database(events) as url:
        engine = make_engine(url, pool_size=1)
        with transaction(make_sessionmaker(engine)) as session:
            _, key = create_api_key(session=session, name="bench", scopes=["read"])
        engine.dispose()
        api = http_service("api", {**env, "DATABASE_URL": url}, work)
        api.log_path = work / f"api-{events}.log"
        api.start()
        timings: Timings = {}
        try:
            with httpx.Client(
                base_url=api.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                for target in targets:
                    for i in range(20):  # warm the caches and the connection pool
                        path, params = target.request(i)
                        client.get(path, params=params).raise_for_status()
                    took = timings.setdefault(target.label, [])
                    for i in range(REQUESTS):
                        path, params = target.request(i)
                        started = time.perf_counter()
                        client.get(path, params=params).raise_for_status()
                        took.append(time.perf_counter() - started)
        finally:
            api.stop()
        return timings
