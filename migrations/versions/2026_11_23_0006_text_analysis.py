"""text analysis: sentiment and themes on feedback, the theme taxonomy, and theme buckets

Sentiment is aggregated as bucket rows with metric 'sentiment' in the existing bucket
tables (count, score_sum, score_sq_sum; low/mid/high = negative/neutral/positive), so the
metric column widens to hold the name. Themes get their own bucket table keyed by theme,
holding the same tallies for 'sentiment' and for the response's own metric, which is what
theme counts, theme trends and key drivers sum over.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 06:25:00
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DIMENSIONS = ("channel", 16), ("source_id", 64), ("touchpoint", 128), ("language", 16)

# Arabic display names of the shipped themes; the English ones are the taxonomy's labels.
_NAMES_AR = {
    "ease_of_use": "سهولة الاستخدام",
    "product_quality": "جودة المنتج",
    "customer_service": "خدمة العملاء",
    "staff_friendliness": "لطف الموظفين",
    "speed_waiting": "السرعة ووقت الانتظار",
    "price_value": "السعر والقيمة",
    "availability": "التوفر",
    "delivery": "التوصيل",
    "website_app": "الموقع والتطبيق",
}
_ARABIC = re.compile("[\u0600-\u06ff]")


def _tallies() -> list[sa.Column]:
    return [
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("score_sum", sa.Float(), nullable=False),
        sa.Column("score_sq_sum", sa.Float(), nullable=False),
        sa.Column("low", sa.BigInteger(), nullable=False),
        sa.Column("mid", sa.BigInteger(), nullable=False),
        sa.Column("high", sa.BigInteger(), nullable=False),
    ]


def _seed_rows() -> list[dict[str, object]]:
    """The shipped taxonomy as theme rows, keywords split by script (Arabizi counts as 'en').

    Read from the code rather than frozen here: it is only the starting content of a table
    that is edited over the API from then on, and one copy of the keywords is easier to keep.
    """
    from shared.text.taxonomy_default import DEFAULT_TAXONOMY

    rows: list[dict[str, object]] = []
    for theme in DEFAULT_TAXONOMY.themes:
        keywords: dict[str, list[str]] = {"en": [], "ar": []}
        for keyword in theme.keywords:
            keywords["ar" if _ARABIC.search(keyword) else "en"].append(keyword)
        rows.append(
            {
                "key": theme.key,
                "name_en": theme.label,
                "name_ar": _NAMES_AR.get(theme.key),
                "keywords": keywords,
            }
        )
    return rows


def upgrade() -> None:
    op.add_column("feedback", sa.Column("sentiment_score", sa.Float(), nullable=True))
    op.add_column("feedback", sa.Column("sentiment_label", sa.String(length=8), nullable=True))
    op.add_column(
        "feedback", sa.Column("themes", postgresql.ARRAY(sa.String(length=64)), nullable=True)
    )
    op.create_index(op.f("ix_feedback_themes"), "feedback", ["themes"], postgresql_using="gin")
    for table in ("metric_bucket", "metric_tag_bucket"):
        op.alter_column(
            table, "metric", type_=sa.String(length=16), existing_type=sa.String(length=8)
        )

    theme = op.create_table(
        "theme",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("name_ar", sa.String(length=200), nullable=True),
        sa.Column(
            "keywords",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_theme")),
    )
    op.bulk_insert(theme, _seed_rows())

    op.create_table(
        "theme_bucket",
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("theme", sa.String(length=64), nullable=False),
        *(sa.Column(name, sa.String(length=size), nullable=False) for name, size in DIMENSIONS),
        *_tallies(),
        sa.PrimaryKeyConstraint(
            "metric",
            "bucket_start",
            "theme",
            *(n for n, _ in DIMENSIONS),
            name=op.f("pk_theme_bucket"),
        ),
    )


def downgrade() -> None:
    op.drop_table("theme_bucket")
    op.drop_table("theme")
    op.execute("DELETE FROM metric_bucket WHERE length(metric) > 8")
    op.execute("DELETE FROM metric_tag_bucket WHERE length(metric) > 8")
    for table in ("metric_bucket", "metric_tag_bucket"):
        op.alter_column(
            table, "metric", type_=sa.String(length=8), existing_type=sa.String(length=16)
        )
    op.drop_index(op.f("ix_feedback_themes"), table_name="feedback")
    op.drop_column("feedback", "themes")
    op.drop_column("feedback", "sentiment_label")
    op.drop_column("feedback", "sentiment_score")
