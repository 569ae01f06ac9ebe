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

# Events arrive as their JSON documents; PostgreSQL takes the fields apart (jsonb_populate_record
# against the feedback row type), which costs far less than building rows in Python.
_STAGING = """
    CREATE TEMP TABLE IF NOT EXISTS feedback_incoming
    (doc jsonb NOT NULL, kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL)
    ON COMMIT DELETE ROWS"""
# CSV framing with control characters that JSON never carries raw, so no byte needs escaping.
_COPY = (
    "COPY feedback_incoming (doc, kafka_partition, kafka_offset) FROM STDIN "
    "(FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"
)
_INCOMING = """
    SELECT DISTINCT ON (e.event_id) e.*, i.kafka_partition AS partition_, i.kafka_offset AS offset_
    FROM feedback_incoming AS i, jsonb_populate_record(NULL::feedback, i.doc) AS e
    ORDER BY e.event_id, e.revision DESC, i.kafka_offset"""
_SELECT_NEW = ", ".join(
    {
        "excluded_reason": """CASE WHEN occurred_at - received_at > :tolerance
            THEN format('occurred_at is %s h after received_at (limit %s h)',
                        round(extract(epoch FROM occurred_at - received_at) / 3600, 1),
                        round(extract(epoch FROM :tolerance) / 3600, 1)) END""",
        "kafka_partition": "partition_",
        "kafka_offset": "offset_",
    }.get(c, c)
    for c in COLUMNS
)

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
        SELECT {_SELECT_NEW} FROM ({_INCOMING}) AS incoming
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


def store_batch(
    *, session: Session, batch: Sequence[Positioned], future_tolerance: timedelta
) -> StoreResult:
    """Store what is new or revised in the batch and move the buckets by exactly that."""
    if not batch:
        return StoreResult(stored=0, revised=0, duplicates=0, excluded=0)
    session.execute(text(_STAGING))
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(_COPY) as copy:
        copy.write(
            b"".join(
                b"%s\x02%d\x02%d\n" % (item.event.to_bytes(), item.partition, item.offset)
                for item in batch
            )
        )
    stored, revised, excluded = session.execute(text(_STORE), {"tolerance": future_tolerance}).one()
    return StoreResult(
        stored=stored, revised=revised, duplicates=len(batch) - stored - revised, excluded=excluded
    )
