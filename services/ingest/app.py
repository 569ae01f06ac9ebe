"""The ingest service: provider webhooks in, normalised events onto Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.ingest.config import IngestSettings
from services.ingest.providers import build_registry
from services.ingest.replay import NonceStore
from services.ingest.routes.webhooks import router as webhook_router
from services.ingest.sources import SourceDirectory
from shared.db import make_engine, make_sessionmaker
from shared.health import install_health_routes
from shared.kafka import EventProducer
from shared.problems import install_problem_handlers
from shared.settings import CommonSettings


def create_app(common: CommonSettings, settings: IngestSettings) -> FastAPI:
    """Build the app; connections open in the lifespan, not at import."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(common.database_url)
        app.state.engine = engine
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
    app.state.providers = build_registry(settings)
    app.state.feedback_topic = common.voc_feedback_topic
    app.state.dlq_topic = common.voc_dlq_topic
    install_problem_handlers(app)
    app.include_router(webhook_router, tags=["webhooks"])

    install_health_routes(app)
    return app
