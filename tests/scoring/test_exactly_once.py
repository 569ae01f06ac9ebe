"""Exactly-once effect under crashes, duplicates and late events, and across several workers.

Each test streams events through the real broker to real `voc scoring` processes and then
compares every bucket with the ground truth computed from the sent data.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from services.run import wait_until_consumed
from shared.settings import CommonSettings
from tests.support.stack import Service, service_env, wait_for
from tests.support.stream import (
    expected_buckets,
    generate,
    produce,
    rollup_mismatches,
    stored_buckets,
)


def worker(name: str, env: dict[str, str], log_dir: Path) -> Service:
    return Service("scoring", env, log_dir / f"{name}.log")


@pytest.mark.slow
def test_sigkilled_worker_counts_every_event_exactly_once(
    common: CommonSettings,
    common_env: dict[str, str],
    sessions: sessionmaker[Session],
    log_dir: Path,
) -> None:
    stream = generate(50_000, seed=11)
    env = service_env(common_env, SCORING_MAX_BATCH="2000", VOC_LOG_LEVEL="WARNING")
    scoring = worker("scoring", env, log_dir).start()
    marks: dict = {}
    producer = threading.Thread(
        target=lambda: marks.update(
            produce(common.kafka_bootstrap_servers, common.voc_feedback_topic, stream)
        )
    )
    producer.start()
    rng = random.Random(5)
    kills = 0
    deadline = time.monotonic() + 120
    while kills < 4 and time.monotonic() < deadline:
        time.sleep(rng.uniform(1.0, 4.0))  # a random moment: mid-batch, mid-commit, mid-join
        scoring.kill()
        kills += 1
        scoring.start(wait=False)
    producer.join()
    caught_up = wait_until_consumed(common, env["SCORING_GROUP_ID"], marks, timeout_s=240)
    scoring.stop()
    assert caught_up, "scoring did not consume the stream:\n" + scoring.log_tail()
    assert kills == 4

    plain, tagged = stored_buckets(sessions)
    want_plain, want_tagged = expected_buckets(stream)
    assert plain == want_plain
    assert tagged == want_tagged
    assert rollup_mismatches(sessions) == []
    assert sum(t.count for t in plain.values()) == 50_000


def assignments(service: Service) -> list[list[int]]:
    """The partition sets a worker has logged as assigned to it, oldest first."""
    if not service.log_path.exists():
        return []
    lines = service.log_path.read_text(errors="replace").splitlines()
    return [json.loads(line)["partitions"] for line in lines if '"partitions assigned"' in line]


@pytest.mark.slow
def test_workers_joining_and_leaving_give_the_numbers_one_worker_gives(
    common: CommonSettings,
    common_env: dict[str, str],
    sessions: sessionmaker[Session],
    log_dir: Path,
) -> None:
    stream = generate(30_000, seed=12)
    chunks = [stream[i::4] for i in range(4)]
    env = service_env(common_env, SCORING_MAX_BATCH="500", VOC_LOG_LEVEL="INFO")
    group = env["SCORING_GROUP_ID"]
    marks: dict = {}
    first = worker("first", env, log_dir)
    second = worker("second", env, log_dir)
    third = worker("third", env, log_dir)

    def change_while_streaming(
        change: Callable[[], object], settled: Callable[[], bool], chunk: list, step: str
    ) -> None:
        """Change the group's membership while a chunk is produced; wait until it settles.

        Changes are spaced by a settled rebalance because Tansu (the embedded broker) wedges a
        group whose membership changes during a rebalance, which Apache Kafka handles; see the
        README's note on Tansu.
        """
        producer = threading.Thread(
            target=lambda: marks.update(
                produce(common.kafka_bootstrap_servers, common.voc_feedback_topic, chunk)
            )
        )
        producer.start()
        change()
        wait_for(settled, timeout_s=60, what=f"the group to settle after {step}")
        producer.join()
        assert wait_until_consumed(common, group, marks, timeout_s=120), f"no drain after {step}"

    def owns_all(*members: Service) -> Callable[[], bool]:
        def check() -> bool:
            latest = [assignments(m)[-1] if assignments(m) else [] for m in members]
            return sorted(p for parts in latest for p in parts) == [0, 1, 2] and all(latest)

        return check

    change_while_streaming(first.start, owns_all(first), chunks[0], "first started")
    change_while_streaming(second.start, owns_all(first, second), chunks[1], "second joined")
    change_while_streaming(
        lambda: first.stop() == 0 or pytest.fail("unclean stop"),
        lambda: len(assignments(second)) >= 2 and owns_all(second)(),
        chunks[2],
        "first left",
    )
    change_while_streaming(third.start, owns_all(second, third), chunks[3], "third joined")
    for w in (second, third):
        assert w.stop() == 0

    plain, tagged = stored_buckets(sessions)
    want_plain, want_tagged = expected_buckets(stream)
    assert plain == want_plain
    assert tagged == want_tagged
