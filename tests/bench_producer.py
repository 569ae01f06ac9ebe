"""The producer by itself, for `make bench`: acknowledged sends a second and CPU per send.

Ingest answers a webhook only once its record is acknowledged, so whatever one send costs in
kafka-python is a floor under every webhook's cost, however cheap the HTTP side gets. This
runs ingest's own `EventProducer` on uvloop, as ingest does, with as many sends in flight as
the webhook measurement has connections, in a process of its own so its CPU is its own.
`python -m tests.bench_producer BOOTSTRAP TOPIC SECONDS IN_FLIGHT` prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass

import uvloop

from services.ingest.publish import traced
from shared.kafka import EventProducer
from tests.support.stream import generate


@dataclass(frozen=True)
class ProducerRun:
    """What one run measured."""

    sends: int
    seconds: float
    cpu_seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.sends / self.seconds

    @property
    def cpu_per_send(self) -> float:
        return self.cpu_seconds / max(self.sends, 1)


def measure(bootstrap: str, topic: str, *, seconds: float, in_flight: int) -> ProducerRun:
    """Run the measurement in a child process and read its result."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.bench_producer",
            bootstrap,
            topic,
            str(seconds),
            str(in_flight),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return ProducerRun(**json.loads(out.stdout.strip().splitlines()[-1]))


async def _drive(
    producer: EventProducer, topic: str, seconds: float, in_flight: int
) -> ProducerRun:
    # A real event's bytes, as ingest sends them; keys differ so records spread over partitions.
    value = generate(1, seed=1)[0].to_bytes()
    headers = traced(uuid.uuid4().hex)
    await producer.send(topic, key=uuid.uuid4().bytes, value=value, headers=headers)  # connects
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def sender() -> None:
        while (began := time.monotonic()) < deadline:
            await producer.send(topic, key=uuid.uuid4().bytes, value=value, headers=headers)
            latencies.append(time.monotonic() - began)

    cpu, started = time.process_time(), time.monotonic()
    await asyncio.gather(*(sender() for _ in range(in_flight)))
    return ProducerRun(
        sends=len(latencies),
        seconds=time.monotonic() - started,
        cpu_seconds=time.process_time() - cpu,
        latencies=latencies,
    )


def main() -> None:
    bootstrap, topic, seconds, in_flight = sys.argv[1:5]
    producer = EventProducer(bootstrap, client_id="voc-bench-producer")
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            run = runner.run(_drive(producer, topic, float(seconds), int(in_flight)))
    finally:
        producer.close()
    print(json.dumps(asdict(run)))


if __name__ == "__main__":
    main()
