"""Survey tools send answers keyed by their own question ids; the source maps them to roles.

One response gives one event per metric answered (usually one), each with the comment. The
provider's response id is the idempotency key; when a source maps more than one metric, the
metric is appended so each has its own stable id. A follow-up (the comment arriving after
the score) keeps the id and carries a higher revision, so it replaces what was stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.ingest.providers.base import ParsedFeedback, Unparseable
from services.ingest.providers.common import epoch_ms
from shared.events import metric_score_problem
from shared.metric_math import Metric
from shared.providers import SurveyFormConfig


def mapped_feedback(
    *,
    response_id: str,
    answers: Mapping[str, object],
    config: SurveyFormConfig,
    occurred_at: datetime,
    updated_at: datetime,
    respondent_id: str | None = None,
    language: str | None = None,
) -> list[ParsedFeedback]:
    """The events of one response, from its answers under the source's question mapping."""
    scores: dict[Metric, int] = {}
    comments: list[str] = []
    for question, role in config.questions.items():
        if question not in answers or answers[question] in (None, ""):
            continue
        value = answers[question]
        if role == "comment":
            comments.append(str(value).strip())
            continue
        score = _integer(value)
        if score is None or (problem := metric_score_problem(role, score)):
            raise Unparseable(
                f"answer to question {question!r} is not a {role} score: "
                f"{problem if score is not None else 'not a whole number'}"
            )
        scores.setdefault(role, score)
    comment = "\n\n".join(c for c in comments if c)[:20_000] or None
    if not scores and not comment:
        raise Unparseable("no answer to any question the source maps")
    several = sum(1 for r in set(config.questions.values()) if r != "comment") > 1
    base = dict(
        occurred_at=occurred_at,
        text=comment,
        respondent_id=respondent_id,
        language=language,
        touchpoint=config.touchpoint,
        revision=epoch_ms(updated_at),
    )
    if not scores:
        key = f"{response_id}/comment" if several else response_id
        return [ParsedFeedback(provider_message_id=key[:256], **base)]  # type: ignore[arg-type]
    return [
        ParsedFeedback(
            provider_message_id=(f"{response_id}/{metric}" if several else response_id)[:256],
            metric=metric,
            score=score,
            **base,  # type: ignore[arg-type]
        )
        for metric, score in scores.items()
    ]


def _integer(value: object) -> int | None:
    """A whole-number answer, however the tool encodes it (9, 9.0, "9")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 3:
        return int(value.strip())
    return None
