"""`voc run` as a newcomer uses it: it comes up with a ready line, the example it prints works,
and Ctrl-C stops it only after everything acknowledged has been stored."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import psycopg
import pytest

from shared.embedded import EmbeddedPostgres, die_with_parent, free_port
from tests.support.stack import service_env
from tests.support.webhooks import post_signed


@pytest.mark.slow
def test_voc_run_serves_the_printed_example_and_drains_on_ctrl_c(tmp_path: Path) -> None:
    api_port, ingest_port = free_port(), free_port()
    env = service_env(
        {
            "API_PORT": str(api_port),
            "INGEST_PORT": str(ingest_port),
            "VOC_EMBEDDED_KAFKA_PORT": str(free_port()),
        }
    )
    env.pop("DATABASE_URL", None)
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    data = tmp_path / "voc-data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "run", "--data-dir", str(data)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.strip() == "voc | ready":
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert ready.wait(60), "no ready line within a minute:\n" + "".join(lines)
        output = "".join(lines)
        key = re.search(r"admin API key .*: (voc_\S+)", output)
        assert key, output
        example = output[output.index("# create a source") : output.index("voc | ready")]
        shown = subprocess.run(["bash", "-c", example], capture_output=True, text=True, timeout=60)
        assert '"status":"accepted"' in shown.stdout, shown.stdout + shown.stderr

        # Stream signed responses, then press Ctrl-C right after the last 202.
        auth = {"Authorization": f"Bearer {key.group(1)}"}
        source = httpx.post(
            f"http://127.0.0.1:{api_port}/v1/sources",
            headers=auth,
            json={"name": "drain", "channel": "web", "provider": "generic"},
        ).json()
        accepted = 0
        with httpx.Client(timeout=30) as client:
            for i in range(400):
                answer = post_signed(
                    source["webhook_url"],
                    source["secret"],
                    {"response_id": f"d{i}", "metric": "nps", "score": i % 11},
                    client=client,
                )
                accepted += answer.status_code == 202
        proc.send_signal(signal.SIGINT)
        assert proc.wait(90) == 0, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = "".join(lines)
    order = [
        "stopping ingest",
        "waiting for scoring",
        "stopping the API",
        "stopping the broker",
        "stopping PostgreSQL",
    ]
    positions = [output.index(step) for step in order]
    assert positions == sorted(positions), output
    assert "may be lost" not in output

    # The database survives the stop: count what scoring stored before it was let go.
    pg = EmbeddedPostgres(data / "pgdata")
    try:
        url = pg.start()
        with psycopg.connect(url) as conn:
            stored = conn.execute(
                "SELECT count(*) FROM feedback WHERE source_id = %s", (source["id"],)
            ).fetchone()
        assert stored is not None and stored[0] == accepted == 400
    finally:
        pg.stop()
