"""The ingest service: provider webhooks in, normalised events onto Kafka."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from services.ingest.config import IngestSettings
from services.ingest.providers import build_registry
from services.ingest.routes.webhooks import router as webhook_router
from services.ingest.sources import SourceDirectory
from shared.db import database_reachable, make_engine, make_sessionmaker
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

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="The database answers")
    async def readyz() -> JSONResponse:
        ok = database_reachable(app.state.engine)
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "database": ok},
            status_code=200 if ok else 503,
        )

    return app
