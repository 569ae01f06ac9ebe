"""What the simulated customers say: scores shaped like real survey results, comments in
English and Arabic that fit the score, now and then an answer that arrives late."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.metric_math import Metric

# Score weights per metric, lowest score first: NPS leans to promoters with a long detractor
# tail, CSAT to 4 and 5, CES (1-7, higher is easier) to 5 and 6.
_WEIGHTS: dict[Metric, tuple[int, ...]] = {
    "nps": (3, 2, 2, 3, 3, 5, 6, 11, 14, 22, 29),
    "csat": (6, 7, 12, 35, 40),
    "ces": (3, 4, 7, 12, 25, 30, 19),
}
_COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "good": (
            "Fast delivery and friendly support, thank you!",
            "Checkout was quick and easy.",
            "Great service, I will recommend you to my friends.",
            "The agent solved my problem in minutes.",
        ),
        "mixed": (
            "Good product but delivery took a while.",
            "It was okay, the app is a bit slow.",
            "Fine overall, prices could be lower.",
        ),
        "bad": (
            "My order arrived late and nobody answered my emails.",
            "The app keeps crashing at payment.",
            "Too expensive and the refund took weeks.",
        ),
    },
    "ar": {
        "good": (
            "خدمة ممتازة وتوصيل سريع، شكراً لكم",
            "الموظف كان متعاوناً جداً وحل مشكلتي بسرعة",
            "تجربة رائعة، سأنصح أصدقائي بكم",
            "الدفع كان سهلاً وسريعاً",
        ),
        "mixed": (
            "المنتج جيد لكن التوصيل تأخر قليلاً",
            "التطبيق بطيء أحياناً ولكن لا بأس",
            "الأسعار مرتفعة بعض الشيء",
        ),
        "bad": (
            "وصل الطلب متأخراً ولم يرد أحد على رسائلي",
            "التطبيق يتوقف عند الدفع",
            "استرجاع المبلغ استغرق أسابيع",
        ),
    },
}


@dataclass(frozen=True)
class SimulatedResponse:
    """One customer's answer: the provider-side id, the score on its metric, and a comment."""

    key: str
    metric: Metric | None
    score: int | None
    comment: str | None
    language: str
    occurred_at: datetime
    respondent: str


def simulated_response(
    rng: random.Random,
    *,
    metric: Metric | None,
    now: datetime,
    arabic_share: float,
    late_share: float,
) -> SimulatedResponse:
    """A fresh response on `metric` (None: a comment only), late with probability `late_share`."""
    score = None
    if metric is not None:
        weights = _WEIGHTS[metric]
        low = 0 if metric == "nps" else 1
        score = rng.choices(range(low, low + len(weights)), weights=weights)[0]
    language = "ar" if rng.random() < arabic_share else "en"
    mood = _mood(metric, score)
    comment = None
    if metric is None or rng.random() < 0.7:
        comment = rng.choice(_COMMENTS[language][mood])
    late = rng.random() < late_share
    occurred = now - (timedelta(hours=rng.uniform(1, 72)) if late else timedelta(0))
    return SimulatedResponse(
        key=uuid.UUID(int=rng.getrandbits(128)).hex,
        metric=metric,
        score=score,
        comment=comment,
        language=language,
        occurred_at=occurred,
        respondent=f"cust-{rng.randrange(1, 50_000)}",
    )


def _mood(metric: Metric | None, score: int | None) -> str:
    if metric is None or score is None:
        return "mixed"
    high = {"nps": 9, "csat": 4, "ces": 5}[metric]
    low = {"nps": 6, "csat": 2, "ces": 3}[metric]
    return "good" if score >= high else "bad" if score <= low else "mixed"


def score_text(score: int, language: str) -> str:
    """A score as a customer texts it: Arabic-Indic digits when writing Arabic."""
    digits = str(score)
    return (
        digits.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) if language == "ar" else digits
    )
