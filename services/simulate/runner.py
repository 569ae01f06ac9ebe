"""The load loop: paced sends with bounded concurrency, redeliveries among them, and the
statistics a benchmark or an operator reads (answers by class, achieved rate, latency)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from services.simulate.feedback import SimulatedResponse, simulated_response
from services.simulate.formats import BUILDERS, Prepared, SimSource, prepare


@dataclass
class Stats:
    """Running totals of a simulation."""

    sent: int = 0
    ok: int = 0
    client_errors: int = 0
    server_errors: int = 0
    transport_errors: int = 0
    redeliveries: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def elapsed_s(self) -> float:
        """Seconds since the first send (until the last answer, once finished)."""
        return (self.finished or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """Answered deliveries per second so far."""
        answered = self.ok + self.client_errors + self.server_errors + self.transport_errors
        return answered / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def percentile_ms(self, p: float) -> float | None:
        """A latency percentile (nearest rank) in milliseconds, None before the first answer."""
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]

    def line(self) -> str:
        """One line of progress."""
        p50, p95 = self.percentile_ms(50), self.percentile_ms(95)
        latency = (
            f"p50 {p50:.0f} ms p95 {p95:.0f} ms" if p50 is not None and p95 is not None else ""
        )
        return (
            f"sent {self.sent}  2xx {self.ok}  4xx {self.client_errors}  "
            f"5xx {self.server_errors}  errors {self.transport_errors}  "
            f"{self.rate:.1f}/s  {latency}"
        )


@dataclass(frozen=True)
class SimulationResult:
    """The final statistics and every event id an acknowledged delivery carried, once each."""

    stats: Stats
    accepted_event_ids: list[uuid.UUID]


def simulate(
    sources: Sequence[SimSource],
    *,
    ingest_url: str,
    rate: float,
    count: int | None = None,
    duration_s: float | None = None,
    redelivery_share: float = 0.05,
    late_share: float = 0.1,
    arabic_share: float = 0.4,
    concurrency: int = 64,
    seed: int | None = None,
    progress: Callable[[Stats], None] | None = None,
    progress_every_s: float = 1.0,
) -> SimulationResult:
    """Post feedback to `sources` at `rate` per second until `count` sends or `duration_s` pass."""
    if count is None and duration_s is None:
        raise ValueError("give a count, a duration or both")
    if rate <= 0:
        raise ValueError("rate must be positive")
    unknown = sorted({s.provider for s in sources} - set(BUILDERS))
    if not sources or unknown:
        raise ValueError(f"no sources to simulate, or unknown providers: {unknown}")
    return asyncio.run(
        _simulate(
            list(sources),
            ingest_url=ingest_url.rstrip("/"),
            rate=rate,
            count=count,
            duration_s=duration_s,
            shares=(redelivery_share, late_share, arabic_share),
            concurrency=concurrency,
            rng=random.Random(seed),
            progress=progress,
            progress_every_s=progress_every_s,
        )
    )


async def _simulate(
    sources: list[SimSource],
    *,
    ingest_url: str,
    rate: float,
    count: int | None,
    duration_s: float | None,
    shares: tuple[float, float, float],
    concurrency: int,
    rng: random.Random,
    progress: Callable[[Stats], None] | None,
    progress_every_s: float,
) -> SimulationResult:
    redelivery_share, late_share, arabic_share = shares
    stats = Stats()
    accepted: dict[uuid.UUID, None] = {}
    sent_before: list[tuple[SimSource, SimulatedResponse]] = []
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    reporter = asyncio.create_task(_report(stats, progress, progress_every_s))
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        tasks: set[asyncio.Task[None]] = set()
        i = 0
        while (count is None or i < count) and (duration_s is None or stats.elapsed_s < duration_s):
            await asyncio.sleep(max(0.0, stats.started + i / rate - time.monotonic()))
            if sent_before and rng.random() < redelivery_share:
                source, response = rng.choice(sent_before)
                stats.redeliveries += 1
            else:
                source = sources[i % len(sources)]
                response = simulated_response(
                    rng,
                    metric=source.metric(rng),
                    now=datetime.now(UTC),
                    arabic_share=arabic_share,
                    late_share=late_share,
                )
                sent_before.append((source, response))
            url = f"{ingest_url}/v1/webhooks/{source.id}"
            await gate.acquire()
            task = asyncio.create_task(
                _send(client, url, prepare(source, response, url), stats, accepted, gate)
            )
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        await asyncio.gather(*tasks)
    stats.finished = time.monotonic()
    reporter.cancel()
    if progress is not None:
        progress(stats)
    return SimulationResult(stats=stats, accepted_event_ids=list(accepted))


async def _send(
    client: httpx.AsyncClient,
    url: str,
    request: Prepared,
    stats: Stats,
    accepted: dict[uuid.UUID, None],
    gate: asyncio.Semaphore,
) -> None:
    """Post one delivery and count its answer; keep the event ids of an acknowledged one."""
    stats.sent += 1
    began = time.monotonic()
    try:
        answer = await client.post(url, content=request.body, headers=request.headers)
    except httpx.HTTPError:
        stats.transport_errors += 1
        return
    finally:
        gate.release()
    stats.latencies_ms.append((time.monotonic() - began) * 1000)
    status = answer.status_code
    if status >= 500:
        stats.server_errors += 1
    elif status >= 400:
        stats.client_errors += 1
    else:
        stats.ok += 1
        for event_id in _event_ids(answer, request):
            accepted.setdefault(event_id)


def _event_ids(answer: httpx.Response, request: Prepared) -> list[uuid.UUID]:
    """The ids a 2xx answer lists, or those the request implies (a TwiML answer lists none)."""
    if answer.headers.get("content-type", "").startswith("application/json"):
        return [uuid.UUID(i) for i in answer.json().get("event_ids", [])]
    return list(request.event_ids)


async def _report(stats: Stats, progress: Callable[[Stats], None] | None, every_s: float) -> None:
    while progress is not None:
        await asyncio.sleep(every_s)
        progress(stats)
