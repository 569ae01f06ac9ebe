"""Conditional GETs for metric reads: a weak ETag over the figures, Cache-Control, and 304s."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel


def _trim(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not points:
        return points
    out = list(points)
    out[0] = {k: v for k, v in out[0].items() if k != "start"}
    out[-1] = {k: v for k, v in out[-1].items() if k != "end"}
    return out


def _fixed_part(doc: dict[str, Any]) -> dict[str, Any]:
    """The answer without what moves with the clock on every rolling read: the window echo and
    the outer edges of a series (they equal the window's ends). Two answers with the same
    figures are the same to a dashboard, hence a weak ETag over this part."""
    fixed = {k: v for k, v in doc.items() if k != "window"}
    if "points" in fixed:
        fixed["points"] = _trim(fixed["points"])
    if fixed.get("groups") and "points" in fixed["groups"][0]:
        fixed["groups"] = [g | {"points": _trim(g["points"])} for g in fixed["groups"]]
    return fixed


CACHED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The figures",
        "headers": {
            "ETag": {
                "description": "Weak tag of the figures; send it back as If-None-Match",
                "schema": {"type": "string"},
            },
            "Cache-Control": {
                "description": "`private, max-age=<API_METRICS_MAX_AGE_SECONDS>`",
                "schema": {"type": "string"},
            },
        },
    },
    304: {"description": "The figures have not changed since the ETag in If-None-Match"},
}


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison (RFC 9110 13.1.2) of an If-None-Match list with our tag."""
    if not if_none_match:
        return False
    ours = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == ours:
            return True
    return False


def conditional_json(
    request: Request, model: type[BaseModel], body: dict[str, Any], *, max_age: int
) -> Response:
    """Render `body` through `model`; answer 304 when the client already holds these figures."""
    doc = model.model_validate(body).model_dump(mode="json", by_alias=True)
    canonical = json.dumps(
        _fixed_part(doc), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    etag = f'W/"{hashlib.sha256(canonical.encode()).hexdigest()[:32]}"'
    headers = {
        "ETag": etag,
        "Cache-Control": f"private, max-age={max_age}",
        "Vary": "Authorization",
    }
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return JSONResponse(doc, headers=headers)
