"""The grid of event time that tallies are kept on: quarter hours counted from one origin.

Scoring writes buckets on it and the API reads them; both must agree to the second, so the
grid is defined once here (SQL uses the same origin in `date_bin`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.models import BUCKET_MINUTES

BUCKET = timedelta(minutes=BUCKET_MINUTES)
ORIGIN = datetime(2000, 1, 1, tzinfo=UTC)
"""A UTC midnight: every UTC hour and day on the grid is a multiple of BUCKET from it."""


def bucket_floor(at: datetime) -> datetime:
    """The start of the bucket holding `at` (what scoring's `date_bin` computes in SQL)."""
    return at - (at - ORIGIN) % BUCKET
