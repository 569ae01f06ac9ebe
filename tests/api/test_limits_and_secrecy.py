"""Request size (413) and per-key rate (429) limits, and no key or secret in logs or error bodies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app
from services.api.config import ApiSettings
from services.api.limits import TokenBuckets
from shared.settings import CommonSettings

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def strict_api(common: CommonSettings) -> Iterator[TestClient]:
    """The API with a small body limit and a slow rate limit."""
    settings = ApiSettings(max_body_bytes=1024, rate_limit_per_second=0.5, rate_limit_burst=3)
    with TestClient(create_app(common, settings)) as client:
        yield client


def test_large_body_is_413_by_length_and_while_streaming(
    strict_api: TestClient, auth: Auth
) -> None:
    headers = auth("write") | {"content-type": "application/json"}
    big = b'{"name": "' + b"x" * 2000 + b'", "channel": "web", "provider": "generic"}'
    declared = strict_api.post("/v1/sources", content=big, headers=headers)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"
    streamed = strict_api.post("/v1/sources", content=iter([big[:600], big[600:]]), headers=headers)
    assert streamed.status_code == 413  # chunked: no Content-Length, counted while read


def test_rate_limit_is_per_key_with_retry_after(strict_api: TestClient, auth: Auth) -> None:
    greedy, other = auth("read"), auth("read")
    codes = [strict_api.get("/v1/sources", headers=greedy).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    refused = strict_api.get("/v1/sources", headers=greedy)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 2
    assert refused.json()["status"] == 429
    assert strict_api.get("/v1/sources", headers=other).status_code == 200


def test_token_bucket_refills_at_its_rate() -> None:
    buckets = TokenBuckets(rate=1000.0, burst=2)
    assert [buckets.take("k") for _ in range(2)] == [0.0, 0.0]
    assert 0 < buckets.take("k") <= 0.001
    assert TokenBuckets(rate=0, burst=1).take("k") == 0.0  # 0 turns the limit off


def test_no_key_or_secret_in_logs_or_error_bodies(
    api: TestClient, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = auth("admin")
    token = admin["Authorization"].removeprefix("Bearer ")
    made = api.post("/v1/api-keys", json={"name": "k", "scopes": ["read"]}, headers=admin)
    source = api.post(
        "/v1/sources",
        json={"name": "s", "channel": "sms", "provider": "twilio", "secret": "twilio-token-1"},
        headers=admin,
    ).json()
    rotated = api.post(
        f"/v1/sources/{source['id']}/rotate-secret",
        json={"secret": "twilio-token-2"},
        headers=admin,
    )
    bad_secret = api.post(  # a secret of the wrong type must not be echoed
        "/v1/sources",
        json={"name": "s", "channel": "sms", "provider": "twilio", "secret": "Zq7wk"},
        headers=admin,
    )
    too_long = api.post(
        f"/v1/sources/{source['id']}/rotate-secret",
        json={"secret": "S3CRET" * 40},
        headers=admin,
    )
    wrong_key = api.get("/v1/sources", headers={"Authorization": f"Bearer {token}x"})
    assert bad_secret.status_code == too_long.status_code == 422
    assert wrong_key.status_code == 401
    assert "Zq7wk" not in bad_secret.text and "S3CRET" not in too_long.text
    assert token not in wrong_key.text
    secrets = [token, made.json()["key"], "twilio-token-1", "twilio-token-2", "S3CRET", "Zq7wk"]
    assert rotated.status_code == 200
    logged = "\n".join(r.getMessage() + repr(vars(r)) for r in caplog.records)
    assert logged  # the requests above were logged at all
    assert not [s for s in secrets if s in logged]


def test_nul_in_a_path_is_422_not_500(api: TestClient, auth: Auth) -> None:
    answer = api.get("/v1/sources/bad%00id", headers=auth("read"))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
