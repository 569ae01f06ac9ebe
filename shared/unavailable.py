"""A database that cannot be reached answers 503 with Retry-After, never 500.

Callers (providers, dashboards) retry a 503 by contract; a 500 would tell them the request
itself was at fault. Only errors that mean "could not talk to the database" are mapped:
a query the database refuses is still a bug, and stays a 500 that someone must look at.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from shared.problems import Problem, problem_response

log = logging.getLogger(__name__)


def install_unavailable_handlers(app: FastAPI, *, retry_after_seconds: int) -> None:
    """Answer 503 problem documents when the database is down or the pool is exhausted."""

    async def on_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # The driver's message may quote connection details; only the type is logged.
        log.warning("database unavailable, answering 503", extra={"error": type(exc).__name__})
        return problem_response(
            Problem(
                title="Temporarily unavailable",
                status=503,
                detail="the database cannot be reached; retry later",
            ),
            {"Retry-After": str(retry_after_seconds)},
        )

    app.add_exception_handler(OperationalError, on_unavailable)
    app.add_exception_handler(PoolTimeout, on_unavailable)
