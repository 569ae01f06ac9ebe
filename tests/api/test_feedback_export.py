"""CSV export: correct RFC 4180 rows for a filtered listing, streamed with flat memory."""

from __future__ import annotations

import asyncio
import csv
import io
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from services.api.feedback_query import FIELDS
from tests.support.events import make_event

Auth = Callable[..., dict[str, str]]
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_csv_is_correct_and_filtered(api: TestClient, auth: Auth, stored: Callable) -> None:
    awkward = 'قال "ممتاز", then\nleft;  ok'
    stored(
        [
            make_event(response_id="a", occurred_at=T0, text=awkward, tags={"plan": "pro"}),
            make_event(response_id="b", occurred_at=T0 + timedelta(minutes=1), text="=1+2"),
            make_event(response_id="c", occurred_at=T0 + timedelta(minutes=2), channel="sms"),
        ]
    )
    answer = api.get("/v1/feedback/export.csv", params={"channel": "web"}, headers=auth("read"))
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == list(FIELDS)
    assert [r["text"] for r in rows] == ["'=1+2", awkward]  # newest first; formula defused
    first = rows[1]
    assert first["tags"] == '{"plan": "pro"}'
    assert first["occurred_at"] == "2026-11-20T10:00:00+00:00"
    assert first["score"] == "9" and first["excluded_reason"] == ""
    listed = api.get("/v1/feedback", params={"channel": "web"}, headers=auth("read")).json()
    assert [r["event_id"] for r in rows] == [i["event_id"] for i in listed["items"]]


def test_empty_export_is_just_the_header(api: TestClient, auth: Auth) -> None:
    answer = api.get("/v1/feedback/export.csv", params={"q": "nothing"}, headers=auth("read"))
    assert answer.text == ",".join(FIELDS) + "\r\n"


def _insert_rows(engine: Engine, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO feedback (event_id, source_id, channel, provider, provider_message_id,
                    metric, score, text, occurred_at, received_at, kafka_partition, kafka_offset)
                SELECT gen_random_uuid(), 'src_bulk', 'web', 'generic', 'm' || i, 'nps', i % 11,
                    repeat('comment ' || i || ' ', 20), now() - i * interval '1 second', now(),
                    0, i
                FROM generate_series(1, :n) AS i
                """
            ),
            {"n": n},
        )


def _stream(app: Any, key_header: str) -> tuple[int, int, int]:
    """Run one export through the ASGI app, dropping each chunk: (bytes, chunks, peak memory)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/feedback/export.csv",
        "raw_path": b"/v1/feedback/export.csv",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), (b"authorization", key_header.encode())],
        "client": ("127.0.0.1", 1),
        "server": ("test", 80),
    }
    sent = {"bytes": 0, "chunks": 0, "status": 0}

    async def run() -> None:
        never = asyncio.Event()
        first = True

        async def receive() -> dict[str, Any]:
            nonlocal first
            if first:
                first = False
                return {"type": "http.request", "body": b"", "more_body": False}
            await never.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message.get("body"):
                sent["bytes"] += len(message["body"])
                sent["chunks"] += 1

        await app(scope, receive, send)

    tracemalloc.start()
    try:
        asyncio.run(run())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sent["status"] == 200
    return sent["bytes"], sent["chunks"], peak


def test_export_streams_with_flat_memory(api: TestClient, auth: Auth, engine: Engine) -> None:
    key = auth("read")["Authorization"]
    _insert_rows(engine, 2_000)
    _stream(api.app, key)  # warm-up: first-use caches are not the export's memory
    small_bytes, _, small_peak = _stream(api.app, key)
    _insert_rows(engine, 18_000)
    big_bytes, chunks, big_peak = _stream(api.app, key)
    assert chunks >= 20  # one chunk per server-side cursor batch of 1000 rows, not one body
    assert big_bytes > 9 * small_bytes and big_bytes > 8_000_000
    # Ten times the rows, (nearly) the same peak: memory does not grow with the export.
    assert big_peak < small_peak * 1.25 + 256_000, (small_peak, big_peak, big_bytes)
    assert big_peak < big_bytes / 1.5
