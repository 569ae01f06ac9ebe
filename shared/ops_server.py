"""A small HTTP server for processes that have no web app: /metrics, /healthz and /readyz.

The scoring worker and the dead-letter recorder are Kafka consumers, not web services, but
Prometheus must scrape them and an orchestrator must probe them like the others. The stdlib
server on a daemon thread is enough for a handful of scrapes and probes a minute, and keeps
a web framework out of the consumer processes.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from shared.health import Readiness
from shared.observability import exposition

log = logging.getLogger(__name__)


class OpsServer:
    """Serves the operational endpoints on a daemon thread until closed."""

    def __init__(self, *, host: str, port: int, readiness: Readiness) -> None:
        handler = _handler_for(readiness)
        # Port 0 asks the OS for a free port; `port` below tells which one it chose.
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="ops-http", daemon=True
        )

    @property
    def url(self) -> str:
        """The base URL the endpoints are served on."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> OpsServer:
        """Start serving and log where, since with port 0 only the log says so."""
        self._thread.start()
        log.info(
            "metrics and health endpoints up",
            extra={"metrics_url": f"{self.url}/metrics", "ready_url": f"{self.url}/readyz"},
        )
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()


def _handler_for(readiness: Readiness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """GET /metrics, /healthz and /readyz; everything else is 404."""

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                body, content_type = exposition()
                self._answer(200, body, content_type)
            elif path == "/healthz":
                self._json(200, {"status": "ok"})
            elif path == "/readyz":
                ready, report = readiness.report()
                self._json(200 if ready else 503, report)
            else:
                self._json(404, {"status": "not found"})

        def _json(self, status: int, doc: dict[str, object]) -> None:
            self._answer(status, json.dumps(doc).encode(), "application/json")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # Probes and scrapes every few seconds would drown the log; errors still go out.
            return

        def log_message(self, format: str, *args: object) -> None:
            log.warning("ops endpoint: " + format % args)

    return Handler
