"""Load-generating client processes for `make bench`, in a module light enough to start quickly.

Processes, not asyncio tasks: a single Python client process saturates long before the
servers do, and would measure itself. They are spawned, so each imports this module; it
imports nothing heavy, and the pool confirms every process is up before the clock starts.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from shared.provider_signing import standard_webhooks as signed

CLIENTS = 8
Results = tuple[int, list[float], int]
"""(2xx answers, their latencies in seconds, other answers)."""


def pct(values: list[float], q: float) -> float:
    """The q-th percentile in milliseconds."""
    return (
        statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else float("nan")
    )


def _ready(_: int) -> float:
    return time.time()


def _client_loop(args: tuple[str, dict[str, str], float, float, float]) -> tuple[list[float], int]:
    """One process: a keep-alive client sending requests of `kind` in [start, deadline),
    as fast as it can, or `rate` a second when rate is above zero."""
    kind, target, start, deadline, rate = args
    latencies: list[float] = []
    failures = 0
    sent = 0
    with httpx.Client(timeout=30) as client:
        time.sleep(max(0.0, start - time.time()))  # all processes begin together
        while time.time() < deadline:
            if rate > 0:
                time.sleep(max(0.0, start + sent / rate - time.time()))
                sent += 1
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


def _summed(results: list[tuple[list[float], int]]) -> Results:
    latencies = [x for lat, _ in results for x in lat]
    return len(latencies), latencies, sum(f for _, f in results)


@contextmanager
def _pool(processes: int = CLIENTS) -> Iterator[Any]:
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(_ready, range(processes), chunksize=1)  # every process has started and imported
        yield pool


def hammer(kind: str, target: dict[str, str], seconds: float) -> Results:
    """Drive the server from CLIENTS processes as fast as they can for `seconds`."""
    with _pool() as pool:
        start = time.time() + 0.5
        args = [(kind, target, start, start + seconds, 0.0)] * CLIENTS
        return _summed(pool.map(_client_loop, args, chunksize=1))


@dataclass
class Background:
    """What a background load achieved, filled in when it ends."""

    results: Results = (0, [], 0)


@contextmanager
def load_in_background(
    kind: str, target: dict[str, str], seconds: float, *, rate: float
) -> Iterator[Background]:
    """Keep `rate` requests a second coming from CLIENTS processes while the body runs."""
    done = Background()
    # Paced clients wait for each answer, so twice as many keep the rate when answers slow.
    with _pool(2 * CLIENTS) as pool:
        start = time.time() + 0.5
        args = [(kind, target, start, start + seconds, rate / (2 * CLIENTS))] * (2 * CLIENTS)
        pending = pool.map_async(_client_loop, args, chunksize=1)
        time.sleep(0.5)
        yield done
        done.results = _summed(pending.get())
