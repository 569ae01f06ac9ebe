"""A real HTTP receiver for notifications, the API app, and helpers to put feedback in and alert on it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from services.scoring.alerts.dispatcher import Dispatcher, RetryPolicy
from shared.kafka import EventProducer
from shared.settings import CommonSettings
from tests.api.conftest import api, auth, stored  # noqa: F401 (fixtures shared with the API tests)


@dataclass
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed."""
        return json.loads(self.body)


@dataclass
class Receiver:
    """A local HTTP server that records every POST and answers as told: 200, a failure, or slowly."""

    port: int = 0
    requests: list[Received] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    hang_next: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook") -> str:
        """Where to point a destination."""
        return f"http://127.0.0.1:{self.port}{path}"

    def fail_next(self, *statuses: int) -> None:
        """Answer the next requests with these statuses, in order, then 200 again."""
        with self.lock:
            self.failures.extend(statuses)

    def received(self, path: str | None = None) -> list[Received]:
        """A copy of what arrived so far (at `path`, if given)."""
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]

    def _answer(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length)
        with self.lock:
            self.requests.append(
                Received(handler.path, {k.lower(): v for k, v in handler.headers.items()}, body)
            )
            status = self.failures.pop(0) if self.failures else 200
            hang = self.hang_next > 0
            self.hang_next -= 1 if hang else 0
        if hang:  # a receiver that never answers, until the test ends
            self.release.wait(60)
        try:
            handler.send_response(status)
            handler.send_header("content-length", "2")
            handler.end_headers()
            handler.wfile.write(b"ok")
        except OSError:
            pass  # the sender gave up (or was killed) meanwhile


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A receiver on a free port for the test's duration."""
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            rec._answer(self)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    rec.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield rec
    rec.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def dispatcher(
    common: CommonSettings, sessions: sessionmaker[Session]
) -> Iterator[Callable[..., Dispatcher]]:
    """Dispatchers on the test's database and alerts topic, with a chosen retry policy."""
    producer = EventProducer(common.kafka_bootstrap_servers, client_id="test-alerts")
    made: list[Dispatcher] = []

    def make(*, timeout_s: float = 2.0, max_attempts: int = 5, base_s: float = 0.01) -> Dispatcher:
        d = Dispatcher(
            sessions=sessions,
            producer=producer,
            alerts_topic=common.voc_alerts_topic,
            policy=RetryPolicy(
                timeout_s=timeout_s, max_attempts=max_attempts, base_s=base_s, cap_s=base_s * 4
            ),
        )
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()
    producer.close()


def hours_ago(now: datetime, hours: float) -> datetime:
    """An instant `hours` before `now`."""
    return now - timedelta(hours=hours)


def utc_now() -> datetime:
    """Now, in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)
