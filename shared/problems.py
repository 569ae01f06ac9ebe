"""RFC 9457 problem details, so every error from every service has one machine-readable shape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_MEDIA_TYPE = "application/problem+json"


class FieldError(BaseModel):
    """One thing wrong with one field: where it is and why it was refused."""

    loc: str = Field(description="Where the problem is, e.g. body.score or query.window")
    msg: str = Field(description="What is wrong, in words a person can act on")
    type: str = Field(description="A stable machine-readable error code")


class Problem(BaseModel):
    """The body of every error response (RFC 9457)."""

    type: str = Field(default="about:blank", description="A URI naming the kind of problem")
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.problem = Problem(
            title=title, status=status, detail=detail, errors=list(errors) if errors else None
        )
        self.headers = headers


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    """Render a problem with the problem+json media type."""
    return JSONResponse(
        problem.model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def field_errors(errors: Sequence[Any], *, prefix: str = "") -> list[FieldError]:
    """Turn pydantic's error list into field errors with dotted locations.

    The offending input value is deliberately left out: it may hold a secret or personal data.
    """
    out = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        if prefix:
            loc = f"{prefix}.{loc}" if loc else prefix
        out.append(
            FieldError(
                loc=loc or "body",
                msg=str(err.get("msg", "invalid")),
                type=str(err.get("type", "invalid")),
            )
        )
    return out


PROBLEM_TEXTS: dict[int, str] = {
    401: "Missing or invalid credentials",
    403: "The API key lacks the scope this route needs",
    404: "No such resource",
    409: "The request conflicts with the resource's state",
    413: "The request body is larger than the API accepts",
    422: "The request is invalid; `errors` lists each field and why",
    429: "The key made too many requests; retry after `Retry-After` seconds",
}


def problem_doc(status: int, description: str | None = None) -> dict[str, Any]:
    """The OpenAPI entry for an error answered with a problem document."""
    doc: dict[str, Any] = {
        "model": Problem,
        "description": description or PROBLEM_TEXTS[status],
        "content": {PROBLEM_MEDIA_TYPE: {}},
    }
    if status == 429:
        doc["headers"] = {
            "Retry-After": {
                "description": "Seconds to wait before retrying",
                "schema": {"type": "integer"},
            }
        }
    if status == 401:
        doc["headers"] = {
            "WWW-Authenticate": {"description": "Always `Bearer`", "schema": {"type": "string"}}
        }
    return doc


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for several problem statuses, for a route's `responses=`."""
    return {status: problem_doc(status) for status in statuses}


# Shown in the OpenAPI document for every route that can answer with a problem.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = problem_responses(401, 403, 413, 422, 429)


def install_problem_handlers(app: FastAPI) -> None:
    """Make validation errors, HTTP errors and ProblemError all answer as problem documents."""

    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc.problem, exc.headers)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(
            Problem(
                title="Invalid request",
                status=422,
                detail="The request has invalid fields; see errors.",
                errors=field_errors(exc.errors()),
            )
        )

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(
            Problem(title=str(exc.detail), status=exc.status_code),
            dict(exc.headers) if exc.headers else None,
        )

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
