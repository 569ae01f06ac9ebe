"""Liveness and readiness routes, the same on every HTTP service."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from shared.db import database_reachable


def install_health_routes(app: FastAPI) -> None:
    """`/healthz`: the process answers; `/readyz`: it can reach the database (app.state.engine)."""

    @app.get("/healthz", tags=["health"], summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], summary="The database answers")
    def readyz() -> JSONResponse:
        ok = database_reachable(app.state.engine)
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "database": ok},
            status_code=200 if ok else 503,
        )
