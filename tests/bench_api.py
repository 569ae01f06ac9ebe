"""API latencies over a year of stored feedback (ten million responses by default), for `make bench`.

The data set is seeded once by `voc seed` (services/seed.py) into `.voc/bench/` and reused
by later runs as long as the seed, the migrations and the size are unchanged, because seeding ten
million rows takes minutes. Latency is measured with one client sending one request at a
time, which is what a dashboard user waits for; throughput under concurrent clients is a
separate figure, since on two cores it mostly measures queueing.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
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


def _dataset_stamp() -> str:
    """Changes whenever the seed, a migration or the size changes: then the data is re-seeded."""
    digest = hashlib.sha256(str(EVENTS).encode())
    for path in [Path(seed.__code__.co_filename), *sorted(MIGRATIONS_DIR.glob("versions/*.py"))]:
        digest.update(path.read_bytes())
    return digest.hexdigest()


@contextmanager
def seeded_database() -> Iterator[str]:
    """The bench database with EVENTS seeded responses: reused when still valid, else re-seeded."""
    pg = EmbeddedPostgres(DATA_DIR / "pg")
    url = pg.start(database="postgres")
    try:
        stamp = _dataset_stamp()
        marker = DATA_DIR / "seeded"
        bench_url = str(make_url(url).set(database="voc_bench"))
        if not marker.exists() or marker.read_text() != stamp:
            marker.unlink(missing_ok=True)
            with psycopg.connect(_libpq(url), autocommit=True) as conn:
                conn.execute('DROP DATABASE IF EXISTS "voc_bench" WITH (FORCE)')
                conn.execute('CREATE DATABASE "voc_bench"')
            upgrade(bench_url)
            started = time.monotonic()
            print(f"seeding {EVENTS:,} responses into {DATA_DIR} (once; later runs reuse it)")
            seed(bench_url, events=EVENTS)
            print(f"seeded in {time.monotonic() - started:,.0f} s")
            marker.write_text(stamp)
        yield bench_url
    finally:
        pg.stop()


def latency_rows(env: dict[str, str], work: Path) -> list[tuple[str, float, float, float, float]]:
    """(label, p50, p95, p99, p99 target) in ms for each target, against a fresh API process."""
    with seeded_database() as url:
        engine = make_engine(url, pool_size=1)
        with transaction(make_sessionmaker(engine)) as session:
            _, key = create_api_key(session=session, name="bench", scopes=["read"])
        engine.dispose()
        api = http_service("api", {**env, "DATABASE_URL": url}, work)
        api.log_path = work / "api-10m.log"
        api.start()
        rows = []
        try:
            with httpx.Client(
                base_url=api.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as client:
                for target in TARGETS:
                    for i in range(20):  # warm the caches and the connection pool
                        path, params = target.request(i)
                        client.get(path, params=params).raise_for_status()
                    took = []
                    for i in range(REQUESTS):
                        path, params = target.request(i)
                        started = time.perf_counter()
                        client.get(path, params=params).raise_for_status()
                        took.append(time.perf_counter() - started)
                    rows.append(
                        (
                            target.label,
                            pct(took, 50),
                            pct(took, 95),
                            pct(took, 99),
                            target.p99_target_ms,
                        )
                    )
        finally:
            api.stop()
        return rows
