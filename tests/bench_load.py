"""Load-generating client processes for `make bench`, in a module light enough to start quickly.

Processes, not asyncio tasks: a single Python client process saturates long before the
servers do, and would measure itself. They are spawned, so each imports this module; it
imports nothing heavy, and the pool confirms every process is up before the clock starts.

The clients share the two cores with the servers they measure, so whatever a client does per
request is taken from the server. So each client signs its webhooks before the clock starts
(a provider signs when it sends, but its CPU is not ours), the no-op baseline is sent those
very same signed requests, and they go out through the standard library's `http.client`,
which costs about 0.3 ms of CPU a request here against httpx's 1.0 ms. With httpx the clients
took most of the machine, which made every server look alike: the no-op's rate was the
clients' rate, and ingest's ratio to it flattered ingest.
"""

from __future__ import annotations

import http.client
import multiprocessing
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from shared.provider_signing import standard_webhooks as signed

CLIENTS = 8
# Paced connections each client process keeps for a background load: a paced connection
# waits for each answer, so the load keeps its rate only with enough of them in flight.
PACED_CONNECTIONS = 4
# Requests an unpaced connection signs up front for each second of its run (about 45 us
# each): more than one connection sends to the no-op in a second here, so a run never reuses
# one (a reused response id would be a redelivery).
PREPARED_PER_SECOND = 1500
# Time the clients get to sign their requests before the clock starts.
LEAD_S = 5.0
Results = tuple[int, list[float], int]
"""(2xx answers, their latencies in seconds, other answers)."""
Request = tuple[str, str, bytes | None, dict[str, str]]
"""(method, path and query, body, headers) of one prepared request."""


def pct(values: list[float], q: float) -> float:
    """The q-th percentile in milliseconds."""
    return (
        statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else float("nan")
    )


def _ready(_: int) -> float:
    return time.time()


def _client_loop(
    args: tuple[str, dict[str, str], float, float, float, int],
) -> tuple[list[float], int]:
    """One process: `connections` keep-alive connections sending requests of `kind` in
    [start, deadline), each as fast as it can, or `rate` a second between them when above zero."""
    kind, target, start, deadline, rate, connections = args
    per_connection = rate / connections
    count = int((deadline - start) * (per_connection if rate > 0 else PREPARED_PER_SECOND)) + 1
    prepared = [[_request(kind, target) for _ in range(count)] for _ in range(connections)]
    results: list[tuple[list[float], int]] = []
    threads = [
        threading.Thread(
            target=lambda batch=batch: results.append(
                _connection(target["url"], batch, start, deadline, per_connection)
            )
        )
        for batch in prepared
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(results) != connections:
        raise RuntimeError("a client connection failed; see the traceback above")
    return [x for lat, _ in results for x in lat], sum(f for _, f in results)


def _connection(
    target: str, prepared: list[Request], start: float, deadline: float, rate: float
) -> tuple[list[float], int]:
    """One keep-alive connection to `target` sending `prepared` in order until the deadline."""
    latencies: list[float] = []
    failures = 0
    address = urlsplit(target)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    try:
        time.sleep(max(0.0, start - time.time()))  # all connections begin together
        for sent, (method, path, body, headers) in enumerate(prepared):
            if time.time() >= deadline:
                break
            if rate > 0:
                time.sleep(max(0.0, start + sent / rate - time.time()))
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            answer.read()
            if answer.status < 300:
                latencies.append(time.perf_counter() - started)
            else:
                failures += 1
        else:  # a paced connection sends exactly its share; one as fast as it can must not run dry
            if rate == 0 and time.time() < deadline:
                raise RuntimeError(
                    "a client ran out of prepared requests: raise PREPARED_PER_SECOND"
                )
    finally:
        connection.close()
    return latencies, failures


def _request(kind: str, t: dict[str, str]) -> Request:
    """One request of `kind`; a `webhook` goes to ingest or the no-op, whichever `t` names."""
    if kind == "webhook":
        payload = {
            "response_id": uuid.uuid4().hex,
            "metric": "nps",
            "score": 9,
            "comment": "Fast and friendly",
        }
        body, headers = signed(t["secret"], payload)
        return "POST", "/v1/webhooks/src_bench", body, headers
    query = urlencode({"window": "30d"})
    return "GET", f"/v1/metrics/nps?{query}", None, {"Authorization": f"Bearer {t['key']}"}


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
        start = time.time() + LEAD_S
        args = [(kind, target, start, start + seconds, 0.0, 1)] * CLIENTS
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
    with _pool() as pool:
        start = time.time() + LEAD_S
        args = [(kind, target, start, start + seconds, rate / CLIENTS, PACED_CONNECTIONS)] * CLIENTS
        pending = pool.map_async(_client_loop, args, chunksize=1)
        time.sleep(LEAD_S)
        yield done
        done.results = _summed(pending.get())
