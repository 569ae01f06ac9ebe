"""The API's side of a dead-letter replay: send the stored delivery to ingest, signed, and turn
ingest's answer into a result or a problem the operator can act on."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from pydantic import ValidationError

from shared.problems import Problem, ProblemError
from shared.redrive import (
    REDRIVE_PATH,
    REPLAY_SETTING,
    TOLERANCE_SECONDS,
    RedriveRequest,
    RedriveResult,
    signed_headers,
)


class StillUnparseable(Exception):
    """Ingest parsed the delivery again and it still does not fit: its problem, with field errors."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail or problem.title)
        self.problem = problem


def replay_delivery(
    *, ingest_url: str, secret: str, call: RedriveRequest, timeout_s: float
) -> RedriveResult:
    """Have ingest parse and produce `call`; raise StillUnparseable or a ProblemError otherwise."""
    body = call.model_dump_json().encode()
    url = ingest_url.rstrip("/") + REDRIVE_PATH
    headers = {"content-type": "application/json"} | signed_headers(
        secret, body, now=datetime.now(UTC)
    )
    try:
        answer = httpx.post(url, content=body, headers=headers, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise ProblemError(
            503,
            "Ingest unreachable",
            f"could not reach ingest at {ingest_url} ({type(exc).__name__}); retry later",
            headers={"Retry-After": "5"},
        ) from None
    if answer.status_code == 200:
        try:
            return RedriveResult.model_validate_json(answer.content)
        except ValidationError:
            raise _bad_gateway(answer.status_code) from None
    problem = _problem(answer)
    if answer.status_code == 422 and problem is not None:
        raise StillUnparseable(problem)
    if answer.status_code == 404:
        raise ProblemError(
            409,
            "Source not enabled",
            f"source {call.source_id!r} is disabled or gone; enable it, then replay",
        )
    if answer.status_code == 401:
        raise ProblemError(
            503,
            "Replay misconfigured",
            f"ingest refused the API's signature: {REPLAY_SETTING} must be the same on both "
            f"services and their clocks within {TOLERANCE_SECONDS} s of each other",
        )
    if answer.status_code == 503:
        retry = answer.headers.get("retry-after")
        raise ProblemError(
            503,
            problem.title if problem else "Ingest unavailable",
            problem.detail if problem else "retry later",
            headers={"Retry-After": retry} if retry and retry.isdigit() else None,
        )
    raise _bad_gateway(answer.status_code)


def _problem(answer: httpx.Response) -> Problem | None:
    try:
        return Problem.model_validate_json(answer.content)
    except ValidationError:
        return None


def _bad_gateway(status: int) -> ProblemError:
    return ProblemError(502, "Ingest failed", f"ingest answered {status} to the replay")
