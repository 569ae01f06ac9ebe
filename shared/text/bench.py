"""Micro-benchmark of comment analysis, for `make bench` and the per-event cost budget."""

from __future__ import annotations

import time

from shared.text import analyse_many

SAMPLE = (
    "delivery was 3 days late and no one answered the phone 😡",
    "Great app, super easy to use!! thanks",
    "التوصيل تأخر ساعتين والمندوب ما يرد على الجوال",
    "الموظفين محترمين والخدمة حلوة كتير 👍",
    "el app 7elw kteer bas el delivery bate2",
    "how do I change my delivery address?",
    "الاسعار غالية شوي بس الجودة ممتازة",
    "Staff were not helpful at all, waited 40 mins in the queue",
)


def benchmark(n: int = 20_000) -> float:
    """Comments analysed per second over `n` realistic mixed-language comments (warm caches)."""
    texts = [f"{SAMPLE[i % len(SAMPLE)]} #{i % 97}" for i in range(n)]
    analyse_many(texts[: min(n, 1000)])  # warm the bounded token caches as a running worker would
    started = time.perf_counter()
    analyse_many(texts)
    return n / (time.perf_counter() - started)


if __name__ == "__main__":  # pragma: no cover
    rate = benchmark()
    print(f"text analysis: {rate:,.0f} comments/s, {1e6 / rate:.1f} µs/comment")
