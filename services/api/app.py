"""The API service: CX scores and feedback over REST, for dashboards and tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from services.api.config import ApiSettings
from services.api.routes import feedback, metrics, series, sources
from shared.db import make_engine, make_sessionmaker
from shared.health import install_health_routes
from shared.problems import install_problem_handlers
from shared.settings import CommonSettings


def create_app(common: CommonSettings, settings: ApiSettings) -> FastAPI:
    """Build the app; the engine is created in the lifespan, one per process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(common.database_url, pool_size=10)
        app.state.engine = engine
        app.state.sessions = make_sessionmaker(engine)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="VoC API",
        version="1",
        summary="CX scores (NPS, CSAT, CES), feedback and sources. Every route needs an API key.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_problem_handlers(app)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    for module in (sources, metrics, series, feedback):
        app.include_router(module.router)

    install_health_routes(app)
    return app
