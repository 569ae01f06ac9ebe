"""`voc seed`: fill a database with a year of realistic feedback, for demos and the API benchmark.

Ten million responses cannot go through webhooks and Kafka in a reasonable time, so the
seed writes `feedback` rows with one server-side INSERT per million (generate_series and
random(), seeded so two runs give the same data) and then builds the buckets with the same
`rebuild_aggregates` the operators use. Secondary indexes are dropped for the load and
recreated from their own definitions afterwards, which is several times faster than
maintaining a trigram index row by row.

The data has the shape dashboards see: sources on every channel with their own metric,
score distributions that are not uniform, comments on about a third of the responses in
English and Arabic whose tone follows the score, touchpoints, tags, and traffic in the
daytime.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.rebuild import rebuild_aggregates
from shared.db import make_engine, make_sessionmaker, transaction
from shared.metric_math import SCALES, Metric, band
from shared.providers import mint_standard_webhooks_secret
from shared.text import analyse

log = logging.getLogger(__name__)

CHUNK = 1_000_000


@dataclass(frozen=True)
class SeedSource:
    """A source the seed invents, with the share of traffic it gets and its customers' languages."""

    id: str
    name: str
    channel: str
    provider: str
    metric: Metric
    weight: float
    arabic_share: float


SOURCES = (
    SeedSource("src_seed_web", "Website survey", "web", "generic", "nps", 0.22, 0.3),
    SeedSource("src_seed_typeform", "Post-purchase survey", "web", "typeform", "nps", 0.18, 0.2),
    SeedSource("src_seed_app", "In-app survey", "web", "formbricks", "ces", 0.12, 0.4),
    SeedSource("src_seed_sms", "SMS after delivery", "sms", "twilio", "nps", 0.16, 0.6),
    SeedSource("src_seed_email", "Support email replies", "email", "mailgun", "csat", 0.08, 0.2),
    SeedSource("src_seed_chat", "Chat rating", "chat", "intercom", "csat", 0.14, 0.4),
    SeedSource("src_seed_helpdesk", "Help desk rating", "chat", "zendesk", "csat", 0.10, 0.1),
)

TOUCHPOINTS = ("checkout", "delivery", "support", "onboarding", "billing", "returns")
PLANS = ("basic", "pro", "enterprise")
REGIONS = ("gulf", "levant", "egypt", "maghreb", "europe", "north-america")

# Percent weights per score: NPS near +30, CSAT near 75 %, CES near 5, as real programmes see.
SCORE_WEIGHTS: dict[Metric, tuple[int, ...]] = {
    "nps": (3, 1, 1, 2, 2, 4, 6, 9, 16, 26, 30),
    "csat": (6, 7, 12, 35, 40),
    "ces": (4, 6, 10, 18, 25, 22, 15),
}

COMMENTS: dict[str, tuple[str, ...]] = {
    "low": (
        "waited 40 minutes on the phone and nobody helped",
        "the app keeps crashing when I try to pay",
        "delivery was late again, third time this month",
        "too expensive for what you get",
        "staff were rude at the counter",
        "the website is confusing, could not find my order",
        "product broke after two days",
        "still no refund after 3 weeks!!",
        "out of stock every time I want to order",
        "support closed my ticket without fixing anything",
        "التوصيل متأخر جدا وما حد رد علي",
        "التطبيق بطيء ويعلق كثير",
        "الاسعار غالية مقارنة بالجودة",
        "خدمة العملاء سيئة جدا",
        "الموظف ما كان محترم ابدا",
        "المنتج وصل مكسور",
        "انتظرت ساعة كاملة بدون فايدة",
        "مش راضي عن الخدمة خالص",
        "el delivery et2a5ar kteer w ma7ada rad",
    ),
    "mid": (
        "ok overall",
        "delivery was fine, packaging could be better",
        "decent product but the price went up",
        "the app works but it's a bit slow",
        "average experience",
        "كويس بس التوصيل تاخر شوي",
        "الخدمة عادية",
        "المنتج جيد لكن السعر مرتفع",
    ),
    "high": (
        "great service, thank you!",
        "fast delivery and friendly driver",
        "the app is so easy to use",
        "support solved my issue in minutes",
        "love the quality, will buy again",
        "good value for money",
        "staff were very helpful and kind",
        "smooth checkout, no problems",
        "خدمة ممتازة شكرا لكم",
        "التوصيل سريع جدا",
        "الموظفين محترمين ومتعاونين",
        "التطبيق سهل الاستخدام",
        "جودة المنتج رائعة",
        "تجربة حلوة كثير 👍",
        "7elw kteer, shokran",
    ),
}


def _score_table() -> list[tuple[str, int, int, int, str]]:
    """(metric, percent from, percent to, score, band) rows: a random percent picks a score."""
    rows: list[tuple[str, int, int, int, str]] = []
    for metric, weights in SCORE_WEIGHTS.items():
        lo, _ = SCALES[metric]
        upper = 0
        for offset, weight in enumerate(weights):
            lower, upper = upper, upper + weight
            rows.append((metric, lower, upper, lo + offset, band(metric, lo + offset)))
    return rows


def _comment_table() -> list[tuple[str, int, str, str, float, str, list[str]]]:
    """(band, index in band, text, language, sentiment score and label, themes): each comment
    analysed once by the analyser scoring uses, so its rows carry what scoring would store."""
    rows: list[tuple[str, int, str, str, float, str, list[str]]] = []
    for tone, comments in COMMENTS.items():
        for i, comment in enumerate(comments):
            a = analyse(comment)
            assert a is not None, "every seed comment has words to analyse"
            rows.append(
                (tone, i, comment, a.language, a.sentiment_score, a.sentiment_label, [*a.themes])
            )
    return rows


def _source_table() -> list[tuple[str, str, str, str, float, float, float]]:
    total = sum(s.weight for s in SOURCES)
    upper = 0.0
    rows: list[tuple[str, str, str, str, float, float, float]] = []
    for s in SOURCES:
        lower, upper = upper, upper + s.weight / total
        rows.append((s.id, s.channel, s.provider, s.metric, lower, upper, s.arabic_share))
    return rows


_INSERT = """
WITH pick AS (
    SELECT g, random() AS r_source, random() AS r_day, random() AS r_hour, random() AS r_score,
           random() AS r_comment, random() AS r_lang, random() AS r_touch, random() AS r_tag
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
), placed AS (
    SELECT p.*, s.id AS source_id, s.channel, s.provider, s.metric, s.arabic_share,
           -- days before today, at a daytime hour between 06:00 and 22:00 UTC (sqrt of a
           -- uniform number leans towards the evening, when people answer surveys)
           %(today)s::timestamptz - make_interval(days => 1 + floor(p.r_day * %(days)s)::int)
               + make_interval(secs => 3600 * (6 + 16 * sqrt(p.r_hour))) AS at
    FROM pick p JOIN seed_source s ON p.r_source >= s.lower_bound AND p.r_source < s.upper_bound
), scored AS (
    SELECT pl.*, sc.score, sc.band
    FROM placed pl JOIN seed_score sc
      ON sc.metric = pl.metric
     AND floor(pl.r_score * 100) >= sc.lower_pct AND floor(pl.r_score * 100) < sc.upper_pct
)
INSERT INTO feedback (event_id, source_id, channel, provider, provider_message_id, metric, score,
                      text, language, sentiment_score, sentiment_label, themes, touchpoint, tags,
                      occurred_at, received_at, kafka_partition, kafka_offset)
SELECT gen_random_uuid(), s.source_id, s.channel, s.provider, 'seed-' || s.g, s.metric, s.score,
       c.text,
       coalesce(c.language, CASE WHEN s.r_lang < s.arabic_share THEN 'ar' ELSE 'en' END),
       c.sentiment_score, c.sentiment_label, c.themes,
       (%(touchpoints)s::text[])[1 + floor(s.r_touch * %(n_touchpoints)s)::int],
       jsonb_build_object('plan', (%(plans)s::text[])[1 + floor(s.r_tag * %(n_plans)s)::int],
                          'region', (%(regions)s::text[])[1 + floor(s.r_lang * %(n_regions)s)::int]),
       s.at, s.at + interval '20 seconds', -1, s.g
FROM scored s
JOIN seed_band b ON b.band = s.band
LEFT JOIN seed_comment c
  ON s.r_comment < 0.35 AND c.band = s.band AND c.idx = floor(s.r_comment / 0.35 * b.comments)
"""


def seed(database_url: str, *, events: int, days: int = 365, seed_value: float = 0.42) -> None:
    """Add `events` responses spread over the `days` before now, then rebuild every bucket."""
    engine = make_engine(database_url, pool_size=1)
    sessions = make_sessionmaker(engine)
    _ensure_sources(sessions)
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    with psycopg.connect(url, autocommit=True) as conn:
        _load_lookup_tables(conn)
        indexes = _drop_indexes(conn)
        try:
            conn.execute("SELECT setseed(%s)", (seed_value,))
            started = time.monotonic()
            for first in range(1, events + 1, CHUNK):
                last = min(first + CHUNK - 1, events)
                conn.execute(
                    _INSERT,
                    {
                        "first": first,
                        "last": last,
                        "today": today,
                        "days": days,
                        "touchpoints": list(TOUCHPOINTS),
                        "n_touchpoints": len(TOUCHPOINTS),
                        "plans": list(PLANS),
                        "n_plans": len(PLANS),
                        "regions": list(REGIONS),
                        "n_regions": len(REGIONS),
                    },
                )
                rate = last / (time.monotonic() - started)
                log.info("seeded", extra={"rows": last, "of": events, "rows_per_s": round(rate)})
        finally:
            _recreate_indexes(conn, indexes)
    with transaction(sessions) as session:
        result = rebuild_aggregates(session=session)
    log.info(
        "buckets rebuilt", extra={"buckets": result.buckets, "tag_buckets": result.tag_buckets}
    )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    engine.dispose()


def _ensure_sources(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        for s in SOURCES:
            session.execute(
                text(
                    "INSERT INTO source (id, name, channel, provider, secret, config) "
                    "VALUES (:id, :name, :channel, :provider, :secret, CAST(:config AS jsonb)) "
                    "ON CONFLICT (id) DO NOTHING"
                ),
                {
                    "id": s.id,
                    "name": s.name,
                    "channel": s.channel,
                    "provider": s.provider,
                    "secret": mint_standard_webhooks_secret(),
                    "config": "{}",
                },
            )


def _load_lookup_tables(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    conn.execute(
        "CREATE TEMP TABLE seed_source (id text, channel text, provider text, metric text,"
        " lower_bound float8, upper_bound float8, arabic_share float8)"
    )
    conn.execute(
        "CREATE TEMP TABLE seed_score (metric text, lower_pct int, upper_pct int, score int,"
        " band text)"
    )
    conn.execute(
        "CREATE TEMP TABLE seed_comment (band text, idx int, text text, language text,"
        " sentiment_score float8, sentiment_label text, themes text[])"
    )
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO seed_source VALUES (%s, %s, %s, %s, %s, %s, %s)", _source_table()
        )
        cur.executemany("INSERT INTO seed_score VALUES (%s, %s, %s, %s, %s)", _score_table())
        cur.executemany(
            "INSERT INTO seed_comment VALUES (%s, %s, %s, %s, %s, %s, %s)", _comment_table()
        )
    conn.execute(
        "CREATE TEMP TABLE seed_band AS SELECT band, count(*) AS comments FROM seed_comment"
        " GROUP BY band"
    )


def _drop_indexes(conn: psycopg.Connection[tuple[object, ...]]) -> list[str]:
    """Drop feedback's key and indexes, returning the statements that put them back.

    The event-id key is a random UUID: maintained row by row, its inserts land all over an
    index bigger than the buffer cache, and the load slows to a crawl after the first million.
    """
    constraints = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'feedback'::regclass AND contype IN ('p', 'u')"
    ).fetchall()
    indexes = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'feedback'"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint"
        "                       WHERE conrelid = 'feedback'::regclass)"
    ).fetchall()
    for name, _ in constraints:
        conn.execute(f'ALTER TABLE feedback DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    return [f'ALTER TABLE feedback ADD CONSTRAINT "{name}" {d}' for name, d in constraints] + [
        str(d) for _, d in indexes
    ]


def _recreate_indexes(conn: psycopg.Connection[tuple[object, ...]], definitions: list[str]) -> None:
    conn.execute("SET maintenance_work_mem = '512MB'")
    for definition in definitions:
        conn.execute(definition)
