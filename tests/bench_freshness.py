"""End-to-end freshness for `make bench`: from a webhook's 202 to the response being readable in the API.

Under a steady background load, probe deliveries are sent a few per second. For each
probe the clock starts when ingest answers 202 (the provider's view: the event is safe)
and stops when `GET /v1/feedback/{event_id}` first finds it. The store writes the
feedback row and its buckets in one transaction, so the moment the row is readable is the
moment every metric counts it.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from tests.support.webhooks import signed

PROBES_PER_SECOND = 10
POLL_EVERY_S = 0.01


@dataclass
class Freshness:
    """Seconds from 202 to visible, one per probe that became visible, and the probes that did not."""

    seconds: list[float] = field(default_factory=list)
    lost: int = 0


def probe_once(
    client: httpx.Client, *, ingest_url: str, api_url: str, secret: str, key: str, timeout_s: float
) -> float | None:
    """Send one signed delivery and return how long after its 202 the API could show it."""
    body, headers = signed(
        secret,
        {"response_id": f"probe-{uuid.uuid4().hex}", "metric": "nps", "score": 10},
    )
    answer = client.post(f"{ingest_url}/v1/webhooks/src_bench", content=body, headers=headers)
    answered = time.perf_counter()
    if answer.status_code != 202:
        return None
    event_id = answer.json()["event_id"]
    auth = {"Authorization": f"Bearer {key}"}
    while time.perf_counter() - answered < timeout_s:
        if client.get(f"{api_url}/v1/feedback/{event_id}", headers=auth).status_code == 200:
            return time.perf_counter() - answered
        time.sleep(POLL_EVERY_S)
    return None


def measure_freshness(
    *, ingest_url: str, api_url: str, secret: str, key: str, seconds: float, timeout_s: float = 30
) -> Freshness:
    """Start a probe every 1/PROBES_PER_SECOND s for `seconds`, each in its own thread."""
    result = Freshness()
    lock = threading.Lock()

    def one() -> None:
        with httpx.Client(timeout=timeout_s) as client:
            took = probe_once(
                client,
                ingest_url=ingest_url,
                api_url=api_url,
                secret=secret,
                key=key,
                timeout_s=timeout_s,
            )
        with lock:
            if took is None:
                result.lost += 1
            else:
                result.seconds.append(took)

    threads = []
    started = time.perf_counter()
    for i in range(int(seconds * PROBES_PER_SECOND)):
        time.sleep(max(0.0, started + i / PROBES_PER_SECOND - time.perf_counter()))
        thread = threading.Thread(target=one)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return result
