"""The baseline for `make bench`: a FastAPI endpoint at ingest's webhook path that reads the
body and does nothing else, so the same signed requests can be sent to both."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/v1/webhooks/{source_id}", status_code=202)
async def noop(request: Request, source_id: str) -> JSONResponse:
    """Read the body, as ingest must, and answer at once."""
    await request.body()
    return JSONResponse({"status": "accepted"}, status_code=202)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    """Readiness for the benchmark's start-up wait."""
    return {"status": "ok"}
