"""Metrics, request ids and health, scraped from the real `voc` processes.

The dashboard and alert rules in docs/ are checked against what the services actually
serve, so a renamed metric breaks this test rather than a dashboard nobody looks at.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from shared.kafka import REQUEST_ID_HEADER
from shared.models import Source
from shared.observability import UNMATCHED_ROUTE, route_template
from shared.request_ids import sane_request_id
from shared.settings import CommonSettings
from tests.support.metrics import metric_families, scrape, value
from tests.support.stack import Service, http_service, service_env, wait_for
from tests.support.topics import read_records
from tests.support.webhooks import post_signed, signed

DOCS = Path(__file__).resolve().parent.parent / "docs"
WEBHOOK_ROUTE = "/v1/webhooks/{source_id}"
# Series Prometheus makes itself for every scrape target, not served by any process.
SYNTHESISED = {"up"}


@pytest.fixture
def stack(common_env: dict[str, str], log_dir: Path) -> Iterator[dict[str, Service]]:
    """All four processes; scoring logs at DEBUG, where it names each stored event's request."""
    env = service_env(common_env)
    services = {
        "ingest": http_service("ingest", env, log_dir),
        "api": http_service("api", env, log_dir),
        "scoring": http_service("scoring", {**env, "VOC_LOG_LEVEL": "DEBUG"}, log_dir),
        "dead-letters": http_service("dead-letters", env, log_dir),
    }
    for s in services.values():
        s.start(wait=False)
    for s in services.values():
        s.start_wait()  # each answers /healthz, the consumer processes on their ops server
    yield services
    for s in services.values():
        s.stop()


def exposed_names(service: Service) -> set[str]:
    """Names a query may use, including families that have no labelled series yet."""
    names: set[str] = set()
    for family in metric_families(service):
        suffixes = {
            "counter": ("_total", "_created"),
            "histogram": ("_bucket", "_sum", "_count", "_created"),
            "summary": ("_sum", "_count", "_created"),
        }.get(family.type, ("",))
        names |= {family.name + s for s in suffixes}
        names |= {s.name for s in family.samples}
    return names


def log_lines(service: Service) -> list[dict[str, Any]]:
    """The service's JSON log lines (anything else in the file is skipped)."""
    lines = []
    for raw in service.log_path.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def record_headers(common: CommonSettings, key: bytes) -> dict[str, bytes]:
    """The headers of the one record with `key` on the feedback topic."""
    records = read_records(common.kafka_bootstrap_servers, common.voc_feedback_topic)
    [headers] = [r.headers for r in records if r.key == key]
    return headers


def test_running_services_trace_count_and_report_readiness(
    stack: dict[str, Service],
    make_source: Callable[..., Source],
    make_key: Callable[..., str],
    common: CommonSettings,
) -> None:
    """One stack for all checks, since starting four processes is most of the cost."""
    check_request_id_tracing(stack, make_source(), common)
    assert_every_service_ready(stack)
    check_metrics(stack, make_source(), make_key("read"))
    assert_docs_use_served_metrics(stack)


def check_request_id_tracing(
    stack: dict[str, Service], source: Source, common: CommonSettings
) -> None:
    """The id reaches the response, the ingest log, the Kafka record and the scoring log."""
    ingest, scoring = stack["ingest"], stack["scoring"]
    url = f"{ingest.url}/v1/webhooks/{source.id}"

    answer = post_signed(
        url,
        source.secret,
        {"response_id": "r-1", "metric": "nps", "score": 9},
        headers={"X-Request-Id": "trace-abc.123"},
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["x-request-id"] == "trace-abc.123"
    event_id = answer.json()["event_id"]

    headers = record_headers(common, uuid.UUID(event_id).bytes)
    assert headers.get(REQUEST_ID_HEADER) == b"trace-abc.123"

    def scoring_logged() -> bool:
        return any(
            line.get("msg") == "event stored"
            and line.get("event_id") == event_id
            and line.get("request_id") == "trace-abc.123"
            for line in log_lines(scoring)
        )

    wait_for(scoring_logged, timeout_s=30, what="scoring to log the stored event's request id")

    # A forged delivery is refused; the line ingest logs about it carries the request's id.
    forged = httpx.post(
        url,
        content=b"{}",
        headers={"X-Request-Id": "forged-1", "webhook-id": "m", "webhook-timestamp": "1"},
    )
    assert forged.status_code == 401
    assert forged.headers["x-request-id"] == "forged-1"
    assert any(
        line.get("request_id") == "forged-1" and line.get("msg") == "webhook refused"
        for line in log_lines(ingest)
    )

    # An id that could smuggle text into logs is replaced with one of ours.
    replaced = post_signed(
        url,
        source.secret,
        {"response_id": "r-2", "metric": "nps", "score": 3},
        headers={"X-Request-Id": "x" * 65},
    )
    assert replaced.status_code == 202
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
    # Settle before the next check counts: scoring has stored this one too.
    wait_for(
        lambda: any(
            line.get("event_id") == replaced.json()["event_id"] for line in log_lines(scoring)
        ),
        timeout_s=30,
        what="scoring to store the second event",
    )


def check_metrics(stack: dict[str, Service], source: Source, key: str) -> None:
    """Counters move by exactly what this traffic did (other checks ran on the same processes)."""
    ingest, api, scoring = stack["ingest"], stack["api"], stack["scoring"]
    before = {name: scrape(service) for name, service in stack.items()}
    url = f"{ingest.url}/v1/webhooks/{source.id}"
    for i in range(3):
        payload = {"response_id": f"m{i}", "metric": "csat", "score": 5}
        assert post_signed(url, source.secret, payload).status_code == 202
    # The same delivery again, as a provider retrying after a timeout: accepted again,
    # and scoring stores it once.
    body, headers = signed(source.secret, {"response_id": "dup", "metric": "csat", "score": 4})
    assert httpx.post(url, content=body, headers=headers).status_code == 202
    assert httpx.post(url, content=body, headers=headers).status_code == 202
    assert httpx.post(url, content=b"{}", headers={"webhook-id": "x"}).status_code == 401
    assert httpx.post(f"{ingest.url}/v1/webhooks/src_nope", content=b"{}").status_code == 404
    assert httpx.get(f"{ingest.url}/no/such/page").status_code == 404

    metrics = scrape(ingest)

    def moved(name: str, process: str = "ingest", **labels: str) -> float:
        now = metrics if process == "ingest" else scrape(stack[process])
        return value(now, name, **labels) - value(before[process], name, **labels)

    deliveries = "voc_webhook_deliveries_total"
    assert value(metrics, deliveries, source=source.id, outcome="accepted") == 5
    assert value(metrics, deliveries, source=source.id, outcome="unauthorized") == 1
    assert moved(deliveries, source="unknown", outcome="unknown_source") == 1
    requests = "voc_http_requests_total"
    assert moved(requests, service="ingest", route=WEBHOOK_ROUTE, status="202") == 5
    assert moved(requests, route=UNMATCHED_ROUTE, status="404") == 1
    routes = {s.labels["route"] for s in metrics[requests]}
    assert not any("src_" in r or "no/such" in r for r in routes), routes
    assert moved("voc_kafka_produce_duration_seconds_count") == 5
    latency = "voc_http_request_duration_seconds_count"
    assert moved(latency, service="ingest", route=WEBHOOK_ROUTE) == 7

    def stored_all() -> bool:
        return (
            moved("voc_events_stored_total", "scoring")
            + moved("voc_events_deduplicated_total", "scoring")
            == 5
        )

    wait_for(stored_all, timeout_s=30, what="scoring to count all 5 records")
    assert moved("voc_events_stored_total", "scoring") == 4
    assert moved("voc_events_deduplicated_total", "scoring") == 1
    assert moved("voc_consumer_batch_records_sum", "scoring") == 5
    lag = scrape(scoring)["voc_consumer_lag"]
    assert {s.labels["partition"] for s in lag} <= {"0", "1", "2"}
    assert sum(s.value for s in lag) == 0  # caught up

    # The API's own endpoint needs no key and is not part of the documented API.
    assert (
        httpx.get(f"{api.url}/v1/feedback", headers={"Authorization": f"Bearer {key}"}).status_code
        == 200
    )
    assert moved(requests, "api", service="api", route="/v1/feedback", status="200") == 1
    assert "/metrics" not in httpx.get(f"{api.url}/openapi.json").json()["paths"]


def promql_metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (label matchers, ranges, groupings removed)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    keywords = {"and", "or", "unless", "bool", "offset"}
    names = set()
    for match in re.finditer(r"(?<![\w.:])[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\(?))", expr):
        if match.group(1) == "(" or match.group(0) in keywords:
            continue  # a function call or an operator
        names.add(match.group(0))
    return names


def dashboard_queries() -> list[str]:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            match = re.match(r"label_values\((.*),\s*\w+\)$", query["query"])
            assert match, query
            exprs.append(match.group(1))
    return exprs


def alert_queries() -> list[str]:
    rules = yaml.safe_load((DOCS / "prometheus-alerts.yml").read_text())
    exprs = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert {"alert", "expr", "annotations"} <= set(rule), rule
            exprs.append(str(rule["expr"]))
    return exprs


def assert_every_service_ready(stack: dict[str, Service]) -> None:
    """Each process is ready, and its answer names exactly the dependencies it needs."""
    for name, service in stack.items():
        answer = httpx.get(f"{service.url}/readyz", timeout=10)
        assert answer.status_code == 200, (name, answer.text)
        expected = {"status": "ok", "database": True}
        if name != "api":  # the API does not use Kafka, so the broker is not its concern
            expected["broker"] = True
        assert answer.json() == expected, name


def assert_docs_use_served_metrics(stack: dict[str, Service]) -> None:
    """The dashboard and alert rules query only served names, and every family has a panel."""
    served = set().union(*(exposed_names(s) for s in stack.values()))
    dashboard = set().union(*(promql_metric_names(e) for e in dashboard_queries()))
    alerts = set().union(*(promql_metric_names(e) for e in alert_queries()))
    assert dashboard and alerts
    assert not (dashboard - served - SYNTHESISED), sorted(dashboard - served - SYNTHESISED)
    assert not (alerts - served - SYNTHESISED), sorted(alerts - served - SYNTHESISED)
    ours = {n for n in served if n.startswith("voc_") and not n.endswith(("_created", "_sum"))}
    families = {re.sub(r"_(total|bucket|count)$", "", n) for n in ours}
    shown = {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in dashboard}
    assert families <= shown, sorted(families - shown)


def test_promql_name_extraction() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, route) (rate(voc_x_bucket{service="api",'
        'route=~"/v1/{id}"}[5m]))) / on (job) up and foo_total offset 5m'
    )
    assert promql_metric_names(expr) == {"voc_x_bucket", "up", "foo_total"}


@pytest.mark.parametrize(
    ("incoming", "kept"),
    [
        ("abc-123", True),
        ("0f3c9c1e-5a6b-4c1d-9e2f-0a1b2c3d4e5f", True),
        ("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8", False),
        ("x" * 64, True),
        ("x" * 65, False),
        ("has space", False),
        ("new\nline", False),
        ("", False),
        (None, False),
    ],
)
def test_request_ids_are_kept_only_when_sane(incoming: str | None, kept: bool) -> None:
    assert sane_request_id(incoming) == (incoming if kept else None)


def test_route_label_is_the_template_or_unmatched() -> None:
    class Route:
        path = "/v1/webhooks/{source_id}"

    assert route_template({"route": Route()}) == "/v1/webhooks/{source_id}"
    assert route_template({"path": "/v1/webhooks/src_1"}) == UNMATCHED_ROUTE


@pytest.mark.parametrize(
    ("command", "variable", "setting"),
    [
        ("scoring", "SCORING_HTTP_PORT", "70000"),
        ("dead-letters", "DEAD_LETTERS_HTTP_PORT", "eighty"),
    ],
)
def test_a_bad_ops_port_stops_the_process_with_one_line(
    command: str, variable: str, setting: str
) -> None:
    env = service_env(
        {"DATABASE_URL": "postgresql://u@h/db", "KAFKA_BOOTSTRAP_SERVERS": "h:1", variable: setting}
    )
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", command],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines  # one problem, one line, no traceback
    assert lines[0].startswith(f"configuration error: {variable} ")
