"""Service processes for end-to-end tests: the real `voc` commands on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shared.embedded import die_with_parent, free_port


def wait_for(
    check: Callable[[], bool], *, timeout_s: float, what: str, every_s: float = 0.2
) -> None:
    """Poll `check` until it holds; fail the test with `what` if it never does."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@dataclass
class Service:
    """One `voc <name>` child process with its log file."""

    name: str
    env: dict[str, str]
    log_path: Path
    port: int | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """Base URL of an HTTP service."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, wait: bool = True) -> Service:
        """Start the process; for HTTP services, wait until /healthz answers."""
        with self.log_path.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "services.cli", self.name],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        if wait:
            self.start_wait()
        return self

    def start_wait(self) -> None:
        """For an HTTP service, wait until /healthz answers."""
        if self.port is not None:
            wait_for(self._healthy, timeout_s=60, what=f"{self.name} to answer /healthz")

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(
                f"{self.name} exited with {self.proc.returncode}: {self.log_tail()}"
            )
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: the crash a test inflicts."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self, timeout_s: float = 30) -> int | None:
        """SIGTERM and wait: the orderly stop an operator asks for."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log_tail(self, lines: int = 30) -> str:
        """The end of the service's log, for failure messages."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def service_env(base: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment a service child runs with: the test's settings, nothing inherited by chance."""
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "TMPDIR"}}
    return {**keep, **base, **extra}


# Where each command listens: the web apps' own port, or the consumers' ops server
# (/metrics, /healthz and /readyz).
PORT_VARIABLES = {
    "ingest": "INGEST_PORT",
    "api": "API_PORT",
    "scoring": "SCORING_HTTP_PORT",
    "dead-letters": "DEAD_LETTERS_HTTP_PORT",
}


def http_service(
    name: str, env: dict[str, str], log_dir: Path, *, log_name: str | None = None
) -> Service:
    """A service on a free port, so a test can wait for /healthz and read /metrics.

    `log_name` tells apart the logs of several processes of one command.
    """
    port = free_port()
    return Service(
        name=name,
        env={**env, PORT_VARIABLES[name]: str(port)},
        log_path=log_dir / f"{log_name or name}.log",
        port=port,
    )
