"""What every FastAPI service gives operators: metrics, request ids, health, and 503 on outages."""

from __future__ import annotations

from fastapi import FastAPI, Response

from shared.health import install_health_routes
from shared.observability import HttpMetrics, exposition
from shared.request_ids import RequestIds
from shared.unavailable import install_unavailable_handlers


def install_operations(
    app: FastAPI, *, service: str, readiness_summary: str, retry_after_seconds: int
) -> None:
    """Install it all; call last, so the middleware wraps every other one and times it too.

    The lifespan must put a `shared.health.Readiness` in `app.state.readiness`.
    """
    app.add_middleware(HttpMetrics, service=service)
    # Outermost, so even the metrics middleware's work runs under the request's id.
    app.add_middleware(RequestIds)
    install_unavailable_handlers(app, retry_after_seconds=retry_after_seconds)
    install_health_routes(app, readiness_summary=readiness_summary)

    # Left out of the OpenAPI document: it is for Prometheus, not API clients, and needs no key.
    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body, content_type = exposition()
        return Response(body, media_type=content_type)
