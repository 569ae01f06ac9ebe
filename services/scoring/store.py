"""Storing a batch of events exactly once and updating their buckets, in one transaction.

The batch is copied into a temporary table and a single statement then inserts what is
new, replaces what a higher revision supersedes, and adds the difference to the buckets.
The feedback primary key is the event id, so a redelivered record changes nothing: this
is what makes re-processing after a crash or a rebalance harmless. PostgreSQL 18's
`RETURNING old.*` gives the replaced values in the same statement, so a revision can be
taken out of the buckets exactly even when two workers race on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import text
from sqlalchemy.orm import Session

from services.scoring.aggregation import upsert_buckets_sql
from shared.events import FeedbackEvent


@dataclass(frozen=True)
class Positioned:
    """An event with the broker position it was read from, kept for tracing it back."""

    event: FeedbackEvent
    partition: int
    offset: int


@dataclass(frozen=True)
class StoreResult:
    """What a batch did: new events stored, revisions applied, redeliveries ignored, exclusions."""

    stored: int
    revised: int
    duplicates: int
    excluded: int


COLUMNS = (
    "event_id",
    "source_id",
    "channel",
    "provider",
    "provider_message_id",
    "metric",
    "score",
    "text",
    "language",
    "respondent_id",
    "touchpoint",
    "tags",
    "occurred_at",
    "received_at",
    "excluded_reason",
    "request_id",
    "kafka_partition",
    "kafka_offset",
    "revision",
)
_REPLACEABLE = [
    c
    for c in COLUMNS
    if c not in ("event_id", "source_id", "channel", "provider", "provider_message_id")
]
_CHANGED = (
    "metric",
    "score",
    "occurred_at",
    "channel",
    "source_id",
    "touchpoint",
    "language",
    "tags",
    "excluded_reason",
)

_STAGING = """
    CREATE TEMP TABLE IF NOT EXISTS feedback_staging
    (LIKE feedback INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"""

_COUNTED = "{p}metric IS NOT NULL AND {p}score IS NOT NULL AND {p}excluded_reason IS NULL"
_DELTA_ROWS = f"""
    (SELECT n_metric AS metric, n_score AS score, n_occurred_at AS at, n_channel AS channel,
            n_source_id AS source_id, coalesce(n_touchpoint, '') AS touchpoint,
            coalesce(n_language, '') AS language, n_tags AS tags, 1 AS sign
     FROM up WHERE {_COUNTED.format(p="n_")}
     UNION ALL
     SELECT o_metric, o_score, o_occurred_at, o_channel, o_source_id, coalesce(o_touchpoint, ''),
            coalesce(o_language, ''), o_tags, -1
     FROM up WHERE NOT inserted AND {_COUNTED.format(p="o_")})"""  # noqa: S608 (built from constants, never from input)

_STORE = f"""
    WITH up AS (
        INSERT INTO feedback AS f ({", ".join(COLUMNS)})
        SELECT {", ".join(COLUMNS)} FROM feedback_staging
        ON CONFLICT (event_id) DO UPDATE SET
            {", ".join(f"{c} = excluded.{c}" for c in _REPLACEABLE)}
        WHERE f.revision < excluded.revision
        RETURNING old.event_id IS NULL AS inserted,
                  {", ".join(f"new.{c} AS n_{c}" for c in _CHANGED)},
                  {", ".join(f"old.{c} AS o_{c}" for c in _CHANGED)}
    ),
    buckets AS ({upsert_buckets_sql(_DELTA_ROWS, tag_buckets=False)}),
    tag_buckets AS ({upsert_buckets_sql(_DELTA_ROWS, tag_buckets=True)})
    SELECT count(*) FILTER (WHERE inserted),
           count(*) FILTER (WHERE NOT inserted),
           count(*) FILTER (WHERE n_excluded_reason IS NOT NULL)
    FROM up"""  # noqa: S608 (built from constants, never from input)


def exclusion_reason(event: FeedbackEvent, *, future_tolerance: timedelta) -> str | None:
    """Why an event must not count in the scores, or None if it should."""
    ahead = event.occurred_at - event.received_at
    if ahead > future_tolerance:
        hours = ahead.total_seconds() / 3600
        return f"occurred_at is {hours:.1f} h after received_at (limit {future_tolerance})"
    return None


def _row(item: Positioned, future_tolerance: timedelta) -> tuple[Any, ...]:
    e = item.event
    return (
        e.event_id,
        e.source_id,
        e.channel,
        e.provider,
        e.provider_message_id,
        e.metric,
        e.score,
        e.text,
        e.language,
        e.respondent_id,
        e.touchpoint,
        Jsonb(e.tags),
        e.occurred_at,
        e.received_at,
        exclusion_reason(e, future_tolerance=future_tolerance),
        e.request_id,
        item.partition,
        item.offset,
        e.revision,
    )


def store_batch(
    *, session: Session, batch: Sequence[Positioned], future_tolerance: timedelta
) -> StoreResult:
    """Store what is new or revised in the batch and move the buckets by exactly that."""
    latest: dict[object, Positioned] = {}
    for item in batch:
        seen = latest.get(item.event.event_id)
        if seen is None or item.event.revision > seen.event.revision:
            latest[item.event.event_id] = item
    if not latest:
        return StoreResult(stored=0, revised=0, duplicates=0, excluded=0)
    session.execute(text(_STAGING))
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY feedback_staging ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for item in latest.values():
            copy.write_row(_row(item, future_tolerance))
    stored, revised, excluded = session.execute(text(_STORE)).one()
    return StoreResult(
        stored=stored, revised=revised, duplicates=len(batch) - stored - revised, excluded=excluded
    )
