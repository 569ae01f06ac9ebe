"""`voc simulate`: every provider's simulated delivery is accepted by the real ingest, and a run
against real ingest and scoring processes loses nothing it was told was acknowledged."""

from __future__ import annotations

import random
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from services.ingest.app import create_app
from services.ingest.config import IngestSettings
from services.simulate.cli import Progress
from services.simulate.feedback import simulated_response
from services.simulate.formats import BUILDERS, prepare
from services.simulate.runner import Stats, simulate
from services.simulate.sources import load_sources
from shared.events import FeedbackEvent
from shared.models import Feedback, Source
from shared.provider_signing import twilio_signature
from shared.providers import mint_standard_webhooks_secret
from shared.settings import CommonSettings
from tests.support.stack import Service, http_service, service_env, wait_for
from tests.support.topics import read_all

SURVEY = {"questions": {"q_nps": "nps", "q_why": "comment"}}
# One source per provider, configured as an operator would (secrets of the right form).
SOURCES: dict[str, tuple[str, str | None, dict[str, object]]] = {
    "generic": ("web", None, {}),
    "typeform": ("web", "typeform-secret-0123456789", SURVEY),
    "formbricks": ("web", None, SURVEY),
    "delighted": ("web", "delighted-api-key-0123456789", {}),
    "intercom": ("chat", "intercom-client-secret-0123", {}),
    "zendesk": ("chat", "zendesk-signing-secret-0123", {}),
    "chatwoot": ("chat", "chatwoot-webhook-secret-0123", {}),
    "twilio": ("sms", "twilio-auth-token-0123456789", {"metric": "nps"}),
    "mailgun": ("email", "mailgun-signing-key-0123456", {"metric": "csat"}),
    "sendgrid": ("email", "sendgrid-token-0123456789ab", {"metric": "ces", "username": "parse"}),
}


@pytest.fixture
def every_provider(make_source: Callable[..., Source]) -> list[Source]:
    """One enabled source of each provider simulate can speak."""
    assert set(SOURCES) == set(BUILDERS)
    return [
        make_source(provider=name, channel=channel, secret=secret, config=config)
        for name, (channel, secret, config) in SOURCES.items()
    ]


def test_each_providers_simulated_delivery_is_accepted_as_that_provider_sends_it(
    common: CommonSettings, every_provider: list[Source]
) -> None:
    rng = random.Random(3)
    sources = load_sources(common.database_url)
    assert {s.provider for s in sources} == set(BUILDERS)
    expected: dict[uuid.UUID, tuple[str, int | None]] = {}
    with TestClient(create_app(common, IngestSettings(source_cache_seconds=0))) as ingest:
        for source in sources:
            for language in ("en", "ar"):
                response = simulated_response(
                    rng,
                    metric=source.metric(rng),
                    now=datetime.now(UTC),
                    arabic_share=1.0 if language == "ar" else 0.0,
                    late_share=0.5,
                )
                url = f"http://testserver/v1/webhooks/{source.id}"
                request = prepare(source, response, url)
                answer = ingest.post(url, content=request.body, headers=request.headers)
                assert answer.status_code in (200, 202), (source.provider, answer.text)
                ids = answer.json()["event_ids"] if source.provider != "twilio" else None
                for event_id in ids or request.event_ids:
                    expected[uuid.UUID(str(event_id))] = (source.provider, response.score)
    events = {
        e.event_id: e
        for e in map(
            FeedbackEvent.from_bytes,
            read_all(common.kafka_bootstrap_servers, common.voc_feedback_topic),
        )
    }
    assert set(events) == set(expected) and len(expected) == 2 * len(SOURCES)
    for event_id, (provider, score) in expected.items():
        assert (events[event_id].provider, events[event_id].score) == (provider, score)


def test_twilio_signature_is_the_one_twilios_own_library_computes() -> None:
    from twilio.request_validator import RequestValidator

    params = {"Body": "٩ ممتاز", "From": "+966500000001", "MessageSid": "SM1", "To": "+1500"}
    url = "https://voc.example.com/v1/webhooks/src_1?x=1"
    expected = RequestValidator("token-1").compute_signature(url, params)
    assert twilio_signature("token-1", url, params) == expected


def test_progress_is_one_rewritten_line_on_a_terminal_and_plain_lines_otherwise() -> None:
    stats = Stats(sent=3, ok=2, server_errors=1, latencies_ms=[10.0, 20.0, 30.0, 400.0])
    assert (stats.percentile_ms(50), stats.percentile_ms(95)) == (20.0, 400.0)
    plain = StringIO()
    Progress(plain)(stats)
    assert (
        plain.getvalue().startswith("sent 3  2xx 2  4xx 0  5xx 1") and "\r" not in plain.getvalue()
    )

    class Terminal(StringIO):
        def isatty(self) -> bool:
            return True

    tty = Terminal()
    show = Progress(tty)
    show(stats)
    show(stats)
    show.done()
    assert tty.getvalue().count("\r") == 2 and tty.getvalue().count("\n") == 1


@pytest.fixture
def pipeline(common_env: dict[str, str], log_dir: Path) -> Iterator[Service]:
    """Real ingest and scoring processes, both answering /healthz; yields ingest."""
    env = service_env(common_env)
    ingest = http_service("ingest", env, log_dir)
    scoring = http_service("scoring", env, log_dir)
    scoring.start(wait=False)
    ingest.start()
    scoring.start_wait()
    yield ingest
    ingest.stop()
    scoring.stop()


def test_every_acknowledged_simulated_delivery_is_stored(
    pipeline: Service,
    common: CommonSettings,
    common_env: dict[str, str],
    make_source: Callable[..., Source],
    sessions: sessionmaker[Session],
) -> None:
    make_source(provider="generic", secret=mint_standard_webhooks_secret())
    make_source(provider="twilio", channel="sms", secret="twilio-token-1", config={"metric": "nps"})
    result = simulate(
        load_sources(common.database_url),
        ingest_url=pipeline.url,
        rate=100,
        count=200,
        redelivery_share=0.1,
        seed=11,
    )
    stats = result.stats
    assert (stats.sent, stats.ok, stats.server_errors, stats.transport_errors) == (200, 200, 0, 0)
    assert stats.redeliveries > 0
    # A redelivery carries its original's id, so each new response is one distinct event.
    assert len(result.accepted_event_ids) == 200 - stats.redeliveries

    def stored() -> int:
        with sessions() as s:
            ids = s.scalars(
                select(Feedback.event_id).where(Feedback.event_id.in_(result.accepted_event_ids))
            )
            return len(ids.all())

    wait_for(
        lambda: stored() == len(result.accepted_event_ids),
        timeout_s=90,
        what="scoring to store every acknowledged event",
    )

    # The command line: same run, progress as plain lines, exit status 0.
    command = ["simulate", "--ingest-url", pipeline.url, "--count", "20", "--rate", "50"]
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", *command, "--seed", "5"],
        env=service_env(common_env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "sent 20  2xx 20  4xx 0  5xx 0" in done.stdout
