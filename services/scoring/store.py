"""Storing a batch of events exactly once and updating their buckets, in one transaction.

The batch is copied into a temporary table and a single statement then inserts what is
new, replaces what a higher revision supersedes, and adds the difference to the buckets.
The feedback primary key is the event id, so a redelivered record changes nothing: this
is what makes re-processing after a crash or a rebalance harmless. PostgreSQL 18's
`RETURNING old.*` gives the replaced values in the same statement, so a revision can be
taken out of the buckets exactly even when two workers race on it.

Comments are analysed in Python before the copy (language, sentiment, themes travel as
extra staging columns); the same statement then stores them and moves the sentiment and
theme tallies by the same old-minus, new-plus difference as the scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from services.scoring.aggregation import TARGETS, counted_rows_sql, upsert_buckets_sql
from services.scoring.analysis import BatchAnalyser, staging_fields
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
    "sentiment_score",
    "sentiment_label",
    "themes",
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
    "sentiment_score",
    "sentiment_label",
    "themes",
)

# Events arrive as their JSON documents; PostgreSQL takes the fields apart (jsonb_populate_record
# against the feedback row type), which costs far less than building rows in Python.
_STAGING = """
    CREATE TEMP TABLE IF NOT EXISTS feedback_incoming
    (doc jsonb NOT NULL, kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL,
     a_language text, a_sentiment_score float8, a_sentiment_label text, a_themes text[])
    ON COMMIT DELETE ROWS"""
# CSV framing with control characters that JSON never carries raw, so no byte needs escaping.
_COPY = (
    "COPY feedback_incoming (doc, kafka_partition, kafka_offset, a_language, a_sentiment_score, "
    "a_sentiment_label, a_themes) FROM STDIN "
    "(FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"
)
_INCOMING = """
    SELECT DISTINCT ON (e.event_id) e.*, i.kafka_partition AS partition_, i.kafka_offset AS offset_,
           i.a_language, i.a_sentiment_score, i.a_sentiment_label, i.a_themes
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
        # The provider's language when it gave one, else the one detected in the comment.
        "language": "coalesce(language, a_language)",
        "sentiment_score": "a_sentiment_score",
        "sentiment_label": "a_sentiment_label",
        "themes": "a_themes",
    }.get(c, c)
    for c in COLUMNS
)

_DELTA_ROWS = f"""({counted_rows_sql("up", prefix="n_")}
    UNION ALL {counted_rows_sql("up", prefix="o_", sign=-1, where="NOT inserted")})"""

_FROM_DELTA = "SELECT * FROM delta"

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
    delta AS MATERIALIZED {_DELTA_ROWS},
    {",".join(f"{t}_buckets AS ({upsert_buckets_sql(_FROM_DELTA, target=t)})" for t in TARGETS)}
    SELECT count(*) FILTER (WHERE inserted),
           count(*) FILTER (WHERE NOT inserted),
           count(*) FILTER (WHERE n_excluded_reason IS NOT NULL)
    FROM up"""  # noqa: S608 (built from constants, never from input)


@dataclass(frozen=True)
class StagedBatch:
    """A batch turned into COPY rows: the Python half of storing it, done before the transaction.

    The worker stages the next batch while PostgreSQL is still storing the previous one,
    so this half holds everything that needs the interpreter (analysis, serialising) and
    `store_staged` only waits on the database.
    """

    rows: bytes
    size: int


def stage_batch(batch: Sequence[Positioned], analyser: BatchAnalyser | None = None) -> StagedBatch:
    """Serialise the batch, with its comments analysed when there is an analyser."""
    if analyser is not None:
        tails = [staging_fields(analyser.analyse(item.event)) for item in batch]
    else:
        tails = [staging_fields(None)] * len(batch)
    rows = b"".join(
        b"%s\x02%d\x02%d\x02%s\n" % (item.event.to_bytes(), item.partition, item.offset, tail)
        for item, tail in zip(batch, tails, strict=True)
    )
    return StagedBatch(rows=rows, size=len(batch))


def store_staged(
    *, session: Session, staged: StagedBatch, future_tolerance: timedelta
) -> StoreResult:
    """Store what is new or revised in a staged batch and move the buckets by exactly that."""
    if not staged.size:
        return StoreResult(stored=0, revised=0, duplicates=0, excluded=0)
    session.execute(text(_STAGING))
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(_COPY) as copy:
        copy.write(staged.rows)
    stored, revised, excluded = session.execute(text(_STORE), {"tolerance": future_tolerance}).one()
    return StoreResult(
        stored=stored,
        revised=revised,
        duplicates=staged.size - stored - revised,
        excluded=excluded,
    )


def store_batch(
    *,
    session: Session,
    batch: Sequence[Positioned],
    future_tolerance: timedelta,
    analyser: BatchAnalyser | None = None,
) -> StoreResult:
    """Stage and store a batch in one go, the taxonomy refreshed in the same session.

    Without an analyser comments are stored unanalysed (no sentiment, themes or detected
    language), which is what `SCORING_TEXT_ANALYSIS=false` asks for.
    """
    if analyser is not None:
        analyser.refresh(session)
    staged = stage_batch(batch, analyser)
    return store_staged(session=session, staged=staged, future_tolerance=future_tolerance)
