"""Exactly-once effect under crashes, duplicates and late events, and across several workers.

Each test streams events through the real broker to real `voc scoring` processes and then
compares every bucket with the ground truth computed from the sent data.
"""

from __future__ import annotations

import random
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from services.run import wait_until_consumed
from shared.settings import CommonSettings
from tests.support.stack import Service, service_env
from tests.support.stream import expected_buckets, generate, produce, stored_buckets


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
    assert sum(t.count for t in plain.values()) == 50_000


@pytest.mark.slow
def test_workers_joining_and_leaving_give_the_numbers_one_worker_gives(
    common: CommonSettings,
    common_env: dict[str, str],
    sessions: sessionmaker[Session],
    log_dir: Path,
) -> None:
    stream = generate(30_000, seed=12)
    thirds = [stream[i::3] for i in range(3)]
    env = service_env(common_env, SCORING_MAX_BATCH="500", VOC_LOG_LEVEL="WARNING")
    first = worker("first", env, log_dir).start()
    marks = produce(common.kafka_bootstrap_servers, common.voc_feedback_topic, thirds[0])
    second = worker("second", env, log_dir).start()  # joins mid-stream: a rebalance
    time.sleep(2)
    marks.update(produce(common.kafka_bootstrap_servers, common.voc_feedback_topic, thirds[1]))
    assert first.stop() == 0  # leaves mid-stream, cleanly: another rebalance
    third = worker("third", env, log_dir).start()
    marks.update(produce(common.kafka_bootstrap_servers, common.voc_feedback_topic, thirds[2]))
    caught_up = wait_until_consumed(common, env["SCORING_GROUP_ID"], marks, timeout_s=240)
    for w in (second, third):
        w.stop()
    assert caught_up, second.log_tail() + third.log_tail()

    plain, tagged = stored_buckets(sessions)
    want_plain, want_tagged = expected_buckets(stream)
    assert plain == want_plain
    assert tagged == want_tagged
