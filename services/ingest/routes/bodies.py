"""Request bodies read under a size limit, for every ingest route that takes one."""

from __future__ import annotations

from fastapi import Request

from shared.problems import ProblemError


async def read_limited(request: Request, limit: int) -> bytes:
    """Read the body, refusing with 413 as soon as it passes the limit rather than after."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ProblemError(413, "Body too large", f"the limit is {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProblemError(413, "Body too large", f"the limit is {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
