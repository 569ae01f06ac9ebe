"""Reading what a running service serves at /metrics, as Prometheus would scrape it."""

from __future__ import annotations

import httpx
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.support.stack import Service

Samples = dict[str, list[Sample]]


def metric_families(service: Service) -> list[Metric]:
    """Every metric family the service serves now; the endpoint must answer as Prometheus expects."""
    answer = httpx.get(f"{service.url}/metrics", timeout=5)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return list(text_string_to_metric_families(answer.text))


def scrape(service: Service) -> Samples:
    """Every sample the service serves now, by sample name."""
    samples: Samples = {}
    for family in metric_families(service):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels` (0 if there are none)."""
    return sum(
        s.value
        for s in samples.get(name, [])
        if all(s.labels.get(k) == v for k, v in labels.items())
    )
