"""The ingest service: provider webhooks in, normalised events onto Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.ingest.config import IngestSettings
from services.ingest.providers import build_registry
from services.ingest.replay import NonceStore
from services.ingest.routes.redrive import router as redrive_router
from services.ingest.routes.webhooks import router as webhook_router
from services.ingest.sources import SourceDirectory
from shared.db import make_engine, make_sessionmaker
from shared.health import Readiness
from shared.kafka import EventProducer
from shared.operations import install_operations
from shared.problems import install_problem_handlers
from shared.redrive import InternalSettings
from shared.settings import CommonSettings


def create_app(
    common: CommonSettings, settings: IngestSettings, internal: InternalSettings | None = None
) -> FastAPI:
    """Build the app; connections open in the lifespan, not at import. Without `internal`
    (the API's shared secret) dead letters cannot be replayed."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(common.database_url)
        app.state.engine = engine
        app.state.readiness = Readiness.of(
            engine=engine, bootstrap_servers=common.kafka_bootstrap_servers
        )
        app.state.sources = SourceDirectory(
            make_sessionmaker(engine), ttl_seconds=settings.source_cache_seconds
        )
        app.state.nonces = NonceStore(
            make_sessionmaker(engine), keep_seconds=2 * settings.signature_tolerance_seconds
        )
        app.state.producer = EventProducer(
            common.kafka_bootstrap_servers,
            delivery_timeout_ms=settings.delivery_timeout_ms,
            client_id="voc-ingest",
        )
        try:
            yield
        finally:
            # Everything answered 202 was already acknowledged; close only flushes stragglers.
            app.state.producer.close()
            engine.dispose()

    app = FastAPI(
        title="VoC ingest",
        version="1",
        summary="Receives provider webhooks and puts each response on Kafka.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.internal_secret = internal.internal_secret if internal else None
    app.state.providers = build_registry(settings)
    app.state.feedback_topic = common.voc_feedback_topic
    app.state.dlq_topic = common.voc_dlq_topic
    install_problem_handlers(app)
    app.include_router(webhook_router, tags=["webhooks"])
    app.include_router(redrive_router)

    install_operations(
        app,
        service="ingest",
        readiness_summary="Ready when both the broker (a webhook is answered only once it "
        "holds the event) and the database (sources, replay tokens) answer",
        retry_after_seconds=settings.retry_after_seconds,
    )
    return app
