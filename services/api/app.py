"""The API service: CX scores and feedback over REST, for dashboards and tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from services.api.config import ApiSettings
from services.api.limits import BodySizeLimit, TokenBuckets
from services.api.routes import (
    alert_rules,
    alerts,
    api_keys,
    dead_letters,
    destinations,
    feedback,
    metrics,
    series,
    sources,
    taxonomy,
    themes,
)
from shared.api_keys import TouchMemo
from shared.db import make_engine, make_sessionmaker
from shared.health import Readiness
from shared.operations import install_operations
from shared.problems import Problem, install_problem_handlers, problem_response
from shared.redrive import InternalSettings
from shared.settings import CommonSettings

# What a 503 tells a client while the database is down: long enough not to hammer it on the
# way back up, short enough that dashboards recover quickly.
API_RETRY_AFTER_SECONDS = 5


async def _on_data_error(_: Request, exc: Exception) -> JSONResponse:
    # A value the database refuses (a NUL character, a number out of range) is the client's
    # doing; the driver's message may quote the value, so it is not passed on.
    return problem_response(
        Problem(
            title="Invalid request",
            status=422,
            detail="a value in the request cannot be stored or compared, "
            "such as text with a NUL character or a number out of range",
        )
    )


def create_app(
    common: CommonSettings, settings: ApiSettings, internal: InternalSettings | None = None
) -> FastAPI:
    """Build the app; the engine is created in the lifespan, one per process. Without
    `internal` (the secret shared with ingest) dead letters cannot be replayed."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(common.database_url, pool_size=10)
        app.state.engine = engine
        app.state.readiness = Readiness.of(engine=engine)
        app.state.sessions = make_sessionmaker(engine)
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="VoC API",
        version="1",
        summary="CX scores (NPS, CSAT, CES), feedback, sources, API keys and dead letters. "
        "Every /v1 route needs an API key.",
        description="Errors are RFC 9457 problem documents (`application/problem+json`). "
        "Timestamps are RFC 3339 with an offset. Each key is rate-limited per API process "
        "(`429` with `Retry-After`); request bodies are limited in size (`413`).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.internal_secret = internal.internal_secret if internal else None
    app.state.rate_limits = TokenBuckets(
        rate=settings.rate_limit_per_second, burst=settings.rate_limit_burst
    )
    app.state.key_touches = TouchMemo()
    install_problem_handlers(app)
    app.add_exception_handler(DataError, _on_data_error)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"],
            expose_headers=["ETag", "Retry-After"],
        )
    for module in (sources, metrics, series, feedback, api_keys, dead_letters):
        app.include_router(module.router)
    for module in (alert_rules, destinations, alerts):
        app.include_router(module.router)
    for module in (themes, taxonomy):
        app.include_router(module.router)

    install_operations(
        app,
        service="api",
        readiness_summary="Ready when the database answers (the API uses only the database, "
        "not Kafka)",
        retry_after_seconds=API_RETRY_AFTER_SECONDS,
    )
    return app
