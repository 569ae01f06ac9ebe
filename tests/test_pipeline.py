"""End to end through real processes: signed webhook -> ingest -> Kafka -> scoring -> Postgres -> API.

These start the `voc` commands exactly as an operator would, so they also prove the
command line, the settings and the process lifecycles.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shared.providers import mint_standard_webhooks_secret
from tests.support.stack import Service, http_service, service_env, wait_for
from tests.support.webhooks import signed


@pytest.fixture
def stack(common_env: dict[str, str], log_dir: Path) -> Iterator[dict[str, Service]]:
    """Ingest, API and one scoring worker on this test's database and topics."""
    env = service_env(common_env, SCORING_MAX_BATCH="200")
    ingest = http_service("ingest", env, log_dir)
    api = http_service("api", {**env, "API_PUBLIC_INGEST_URL": "http://127.0.0.1:1"}, log_dir)
    scoring = Service("scoring", env, log_dir / "scoring.log")
    recorder = Service("dead-letters", env, log_dir / "dead-letters.log")
    services = {"ingest": ingest, "api": api, "scoring": scoring, "dead-letters": recorder}
    for s in services.values():
        s.start(wait=False)
    for s in (ingest, api):
        s.start_wait()
    yield services
    for s in services.values():
        s.stop()


def metric(api: Service, key: str, name: str = "nps") -> dict:
    answer = httpx.get(
        f"{api.url}/v1/metrics/{name}",
        params={"window": "24h"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def create_source(api: Service, key: str) -> dict:
    answer = httpx.post(
        f"{api.url}/v1/sources",
        headers={"Authorization": f"Bearer {key}"},
        json={"name": "Checkout survey", "channel": "web", "provider": "generic"},
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


def deliver(
    ingest: Service, source: dict, payload: dict, secret: str | None = None
) -> httpx.Response:
    body, headers = signed(secret or source["secret"], payload)
    return httpx.post(
        f"{ingest.url}/v1/webhooks/{source['id']}", content=body, headers=headers, timeout=30
    )


def test_signed_responses_move_nps_to_the_hand_computed_value(
    stack: dict[str, Service], make_key: Callable[..., str]
) -> None:
    admin = make_key("admin")
    source = create_source(stack["api"], admin)
    # 4 promoters, 1 passive, 3 detractors of 8: NPS = (4 - 3) / 8 = 12.5
    scores = [10, 9, 9, 10, 7, 6, 3, 0]
    for i, score in enumerate(scores):
        answer = deliver(
            stack["ingest"], source, {"response_id": f"r{i}", "metric": "nps", "score": score}
        )
        assert answer.status_code == 202, answer.text
    wait_for(
        lambda: metric(stack["api"], admin)["count"] == len(scores),
        timeout_s=60,
        what="scoring to store every response",
    )

    # The same response delivered again, and one with a wrong signature, change nothing.
    assert (
        deliver(
            stack["ingest"], source, {"response_id": "r0", "metric": "nps", "score": 10}
        ).status_code
        == 202
    )
    forged = deliver(
        stack["ingest"],
        source,
        {"response_id": "x", "metric": "nps", "score": 0},
        secret=mint_standard_webhooks_secret(),
    )
    assert forged.status_code == 401
    # A marker response proves scoring has caught up past the redelivery before we look.
    deliver(stack["ingest"], source, {"response_id": "marker", "metric": "csat", "score": 5})
    wait_for(
        lambda: metric(stack["api"], admin, "csat")["count"] == 1,
        timeout_s=60,
        what="the marker response",
    )
    value = metric(stack["api"], admin)
    assert (value["value"], value["count"]) == (12.5, 8)
    assert value["breakdown"] == {"promoters": 4, "passives": 1, "detractors": 3}


@pytest.mark.slow
def test_scoring_killed_while_responses_stream_loses_and_doubles_nothing(
    stack: dict[str, Service], make_key: Callable[..., str]
) -> None:
    admin = make_key("admin")
    source = create_source(stack["api"], admin)
    accepted: list[str] = []
    lock = threading.Lock()
    rng = random.Random(7)
    total = 3000

    def send(worker: int) -> None:
        with httpx.Client(timeout=30) as client:
            for i in range(worker, total, 4):
                payload = {"response_id": f"r{i}", "metric": "nps", "score": rng.randint(0, 10)}
                body, headers = signed(source["secret"], payload)
                answer = client.post(
                    f"{stack['ingest'].url}/v1/webhooks/{source['id']}",
                    content=body,
                    headers=headers,
                )
                if answer.status_code == 202:
                    with lock:
                        accepted.append(payload["response_id"])
                # Providers retry what was not accepted; a few redeliveries of accepted ones too.
                if i % 50 == 0:
                    client.post(
                        f"{stack['ingest'].url}/v1/webhooks/{source['id']}",
                        content=body,
                        headers=headers,
                    )

    senders = [threading.Thread(target=send, args=(w,)) for w in range(4)]
    for t in senders:
        t.start()
    scoring = stack["scoring"]
    kills = 0
    while any(t.is_alive() for t in senders) and kills < 3:
        threading.Event().wait(rng.uniform(1.0, 2.5))
        scoring.kill()
        kills += 1
        scoring.start(wait=False)
    for t in senders:
        t.join()
    assert kills >= 2, "the stream ended before the worker could be killed twice"
    expected = len(set(accepted))
    assert expected == total
    wait_for(
        lambda: metric(stack["api"], admin)["count"] >= expected,
        timeout_s=120,
        what=f"scoring to catch up to {expected} responses",
    )
    # Give any double counting time to show up before the final look.
    threading.Event().wait(3)
    assert metric(stack["api"], admin)["count"] == expected


def test_an_authentic_delivery_that_cannot_be_parsed_is_listed_as_a_dead_letter(
    stack: dict[str, Service], make_key: Callable[..., str]
) -> None:
    admin = make_key("admin")
    source = create_source(stack["api"], admin)
    body, headers = signed(source["secret"], b"this is not a survey response")
    answer = httpx.post(
        f"{stack['ingest'].url}/v1/webhooks/{source['id']}",
        content=body,
        headers=headers,
        timeout=30,
    )
    assert answer.status_code == 422

    def listed() -> list[dict]:
        page = httpx.get(
            f"{stack['api'].url}/v1/dead-letters",
            params={"source_id": source["id"]},
            headers={"Authorization": f"Bearer {admin}"},
            timeout=10,
        )
        assert page.status_code == 200, page.text
        return list(page.json()["items"])

    wait_for(lambda: len(listed()) == 1, timeout_s=60, what="the dead letter to be recorded")
    assert "not valid JSON" in listed()[0]["reason"]
