"""The API app over this test's database, and a way to put feedback in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from services.api.app import create_app
from services.api.config import ApiSettings
from services.scoring.store import Positioned, store_batch
from shared.db import transaction
from shared.events import FeedbackEvent
from shared.settings import CommonSettings


@pytest.fixture
def api(common: CommonSettings) -> Iterator[TestClient]:
    """The API with its lifespan running."""
    settings = ApiSettings(public_ingest_url="https://voc.example.com/ingest")
    with TestClient(create_app(common, settings)) as client:
        yield client


@pytest.fixture
def stored(sessions: sessionmaker[Session]) -> Callable[[list[FeedbackEvent]], None]:
    """Store events exactly as the scoring worker does."""
    from datetime import timedelta

    def store(events: list[FeedbackEvent]) -> None:
        batch = [Positioned(event=e, partition=0, offset=i) for i, e in enumerate(events)]
        with transaction(sessions) as session:
            store_batch(session=session, batch=batch, future_tolerance=timedelta(hours=24))

    return store


@pytest.fixture
def auth(make_key: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """Authorization headers for a new key with the given scopes."""
    return lambda *scopes: {"Authorization": f"Bearer {make_key(*scopes)}"}
