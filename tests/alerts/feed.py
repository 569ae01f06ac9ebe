"""Feedback with a known shape in time, for alert tests: so many scores, spread over a window."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from shared.events import FeedbackEvent
from tests.support.events import make_event


def nps_mix(promoters: int, passives: int, detractors: int) -> list[int]:
    """Scores with exactly these counts, interleaved so any prefix is a fair sample."""
    scores = [10] * promoters + [8] * passives + [3] * detractors
    return scores[::2] + scores[1::2]


def spread(
    scores: list[int],
    *,
    start: datetime,
    end: datetime,
    channel: str = "web",
    source_id: str = "src_alerts",
    metric: str = "nps",
    **extra: Any,
) -> list[FeedbackEvent]:
    """One event per score, evenly spread over [start, end)."""
    step = (end - start) / max(1, len(scores))
    return [
        make_event(
            response_id=f"r-{uuid.uuid4().hex}",
            source_id=source_id,
            channel=channel,
            metric=metric,
            score=score,
            occurred_at=start + step * i,
            **extra,
        )
        for i, score in enumerate(scores)
    ]


def days(n: float) -> timedelta:
    """n days."""
    return timedelta(days=n)
