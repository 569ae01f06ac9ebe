"""End-to-end freshness for `make bench`: from a webhook's 202 to the response being readable in the API.

Under a steady background load, probe deliveries go to a source of their own, a few a
second. For each probe the clock starts when ingest answers 202 (the provider's view:
the event is safe) and stops when the API first lists it. The store writes the feedback
row and its buckets in one transaction, so the moment the row is readable is the moment
every metric counts it.

One poller lists the probe source's newest feedback every POLL_EVERY_S and marks every
probe it sees, so watching costs the API a fixed 20 requests a second however slow the
pipeline gets; polling once per outstanding probe would load the API more the slower it
is, and measure itself. A probe is marked when first seen, so its figure can read up to
POLL_EVERY_S high, never low. Polling every 20 ms instead cost the API about a quarter of a
core under load, taken from the pipeline being measured.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx

from shared.provider_signing import standard_webhooks as signed

PROBE_SOURCE = "src_probe"
PROBES_PER_SECOND = 10
POLL_EVERY_S = 0.05


@dataclass
class Freshness:
    """Seconds from 202 to visible, one per probe that became visible, and the probes that did not."""

    seconds: list[float] = field(default_factory=list)
    lost: int = 0


def measure_freshness(
    *, ingest_url: str, api_url: str, secret: str, key: str, seconds: float, timeout_s: float = 30
) -> Freshness:
    """Send PROBES_PER_SECOND probes for `seconds` and time each until the API lists it."""
    answered: dict[str, float] = {}
    lock = threading.Lock()

    def send() -> None:
        with httpx.Client(timeout=timeout_s) as client:
            started = time.perf_counter()
            for i in range(int(seconds * PROBES_PER_SECOND)):
                time.sleep(max(0.0, started + i / PROBES_PER_SECOND - time.perf_counter()))
                body, headers = signed(
                    secret,
                    {"response_id": f"probe-{uuid.uuid4().hex}", "metric": "nps", "score": 10},
                )
                answer = client.post(
                    f"{ingest_url}/v1/webhooks/{PROBE_SOURCE}", content=body, headers=headers
                )
                if answer.status_code == 202:
                    with lock:
                        answered[answer.json()["event_id"]] = time.perf_counter()

    sender = threading.Thread(target=send)
    sender.start()
    visible: dict[str, float] = {}
    with httpx.Client(
        base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout_s
    ) as api:
        deadline = None
        while True:
            page = api.get("/v1/feedback", params={"source_id": PROBE_SOURCE, "limit": 100})
            now = time.perf_counter()
            with lock:
                for item in page.json()["items"]:
                    if item["event_id"] in answered and item["event_id"] not in visible:
                        visible[item["event_id"]] = now - answered[item["event_id"]]
                waiting = len(answered) - len(visible)
            if not sender.is_alive():
                deadline = deadline or now + timeout_s
                if waiting == 0 or now > deadline:
                    break
            time.sleep(POLL_EVERY_S)
    sender.join()
    return Freshness(seconds=list(visible.values()), lost=len(answered) - len(visible))
