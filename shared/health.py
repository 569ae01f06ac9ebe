"""Liveness and readiness, the same on every service, whether served by FastAPI or the ops server.

`/healthz` says only that the process answers: a failing liveness probe restarts the process,
which would not bring a stopped database back. `/readyz` says whether the dependencies this
service needs to do its work answer now; what those are differs per service and is set where
the service builds its `Readiness`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from sqlalchemy import Engine

from shared.db import database_reachable
from shared.kafka import bootstrap_list

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], bool]


def broker_reachable(bootstrap_servers: str, *, timeout_ms: int = 2000) -> bool:
    """Whether a broker answers the Kafka protocol (bootstrap and metadata) within the timeout."""
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_list(bootstrap_servers),
            client_id="voc-readiness",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
            reconnect_backoff_max_ms=timeout_ms,
        )
    except (KafkaError, OSError):
        return False
    try:
        admin.list_topics()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


class Readiness:
    """The named checks that decide whether a service is ready; each failing one is named."""

    def __init__(self, checks: Mapping[str, ReadinessCheck]) -> None:
        self._checks = dict(checks)

    @classmethod
    def of(cls, *, engine: Engine, bootstrap_servers: str | None = None) -> Readiness:
        """Database always; the broker too when the service reads or writes Kafka."""
        checks: dict[str, ReadinessCheck] = {"database": lambda: database_reachable(engine)}
        if bootstrap_servers is not None:
            checks["broker"] = lambda: broker_reachable(bootstrap_servers)
        return cls(checks)

    def report(self) -> tuple[bool, dict[str, object]]:
        """Run every check; the body names each dependency with whether it answered."""
        results = {name: check() for name, check in self._checks.items()}
        ready = all(results.values())
        if not ready:
            log.warning("not ready", extra={"failing": [n for n, ok in results.items() if not ok]})
        return ready, {"status": "ok" if ready else "unavailable", **results}


def install_health_routes(app: FastAPI, *, readiness_summary: str) -> None:
    """`/healthz` and `/readyz`; the lifespan puts the service's `Readiness` in app.state.readiness."""

    @app.get("/healthz", tags=["health"], summary="The process is alive (no dependency is checked)")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["health"],
        summary=readiness_summary,
        responses={503: {"description": "A dependency did not answer; the body names it"}},
    )
    def readyz() -> JSONResponse:
        readiness: Readiness = app.state.readiness
        ready, body = readiness.report()
        return JSONResponse(body, status_code=200 if ready else 503)
