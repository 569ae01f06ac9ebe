"""The ingest app against the real broker and database, for every provider's tests."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.ingest.app import create_app
from services.ingest.config import IngestSettings
from shared.events import FeedbackEvent
from shared.settings import CommonSettings
from tests.support.topics import read_all


@pytest.fixture
def ingest(common: CommonSettings) -> Iterator[TestClient]:
    """The ingest app with its lifespan running, producing to this test's topics."""
    settings = IngestSettings(source_cache_seconds=0)
    with TestClient(create_app(common, settings)) as c:
        yield c


@pytest.fixture
def events(common: CommonSettings) -> Callable[[], list[FeedbackEvent]]:
    """Every feedback event on this test's topic so far."""
    return lambda: [
        FeedbackEvent.from_bytes(v)
        for v in read_all(common.kafka_bootstrap_servers, common.voc_feedback_topic)
    ]


@pytest.fixture
def dead_letters(common: CommonSettings) -> Callable[[], list[dict[str, Any]]]:
    """Every dead letter on this test's DLQ topic so far."""
    return lambda: [
        json.loads(v) for v in read_all(common.kafka_bootstrap_servers, common.voc_dlq_topic)
    ]
