"""The baseline for `make bench`: a FastAPI endpoint that reads the body and does nothing else."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/noop", status_code=202)
async def noop(request: Request) -> JSONResponse:
    """Read the body, as ingest must, and answer at once."""
    await request.body()
    return JSONResponse({"status": "accepted"}, status_code=202)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    """Readiness for the benchmark's start-up wait."""
    return {"status": "ok"}
