"""`voc rebuild-aggregates`: buckets recomputed from feedback equal what the stream produced,
even while scoring keeps storing batches."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.rebuild import rebuild_aggregates
from services.scoring.store import Positioned, store_batch
from shared.db import transaction
from shared.settings import CommonSettings
from tests.support.stream import expected_buckets, generate, rollup_mismatches, stored_buckets


def store_in_batches(sessions: sessionmaker[Session], stream: list, size: int = 500) -> None:
    for start in range(0, len(stream), size):
        batch = [Positioned(e, 0, start + i) for i, e in enumerate(stream[start : start + size])]
        with transaction(sessions) as s:
            store_batch(session=s, batch=batch, future_tolerance=timedelta(hours=24))


def test_rebuild_restores_damaged_buckets_while_scoring_runs(
    sessions: sessionmaker[Session], common: CommonSettings
) -> None:
    stream = generate(6000, seed=21)
    before, during = stream[:3000], stream[3000:]
    store_in_batches(sessions, before)
    with transaction(sessions) as s:  # a restore from an older backup, say
        s.execute(text("UPDATE metric_bucket SET count = count + 7"))
        s.execute(text("DELETE FROM metric_tag_bucket WHERE tag_value = 'pro'"))

    scoring = threading.Thread(target=store_in_batches, args=(sessions, during, 100))
    scoring.start()
    result = subprocess.run(
        [sys.executable, "-m", "services.cli", "rebuild-aggregates"],
        env={
            **os.environ,
            "DATABASE_URL": common.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": common.kafka_bootstrap_servers,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    scoring.join()
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("rebuilt ")
    assert stored_buckets(sessions) == expected_buckets(stream)
    assert rollup_mismatches(sessions) == []


def test_rebuild_of_an_undamaged_database_changes_nothing(sessions: sessionmaker[Session]) -> None:
    store_in_batches(sessions, generate(2000, seed=22))
    streamed = stored_buckets(sessions)
    with transaction(sessions) as s:
        rebuild_aggregates(session=s)
    assert stored_buckets(sessions) == streamed
    assert rollup_mismatches(sessions) == []
