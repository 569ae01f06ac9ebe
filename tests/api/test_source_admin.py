"""Rotating a source's secret (the previous one stays valid for a grace period) and disabling it,
checked through the real ingest service; and the provider config check on create and change."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from services.ingest.app import create_app as create_ingest
from services.ingest.config import IngestSettings
from shared.settings import CommonSettings
from tests.support.webhooks import signed

Auth = Callable[..., dict[str, str]]
NEW_SOURCE = {"name": "Checkout survey", "channel": "web", "provider": "generic"}


@pytest.fixture
def ingest(common: CommonSettings) -> Iterator[TestClient]:
    """Ingest on the same database and topics, without its source cache."""
    with TestClient(create_ingest(common, IngestSettings(source_cache_seconds=0))) as client:
        yield client


def _deliver(ingest: TestClient, source_id: str, secret: str) -> int:
    body, headers = signed(secret, {"metric": "nps", "score": 9})
    return ingest.post(f"/v1/webhooks/{source_id}", content=body, headers=headers).status_code


def test_rotation_returns_the_new_secret_once_and_keeps_the_old_one_for_the_grace(
    api: TestClient, ingest: TestClient, auth: Auth
) -> None:
    writer = auth("write")
    source = api.post("/v1/sources", json=NEW_SOURCE, headers=writer).json()
    old = source["secret"]
    rotated = api.post(f"/v1/sources/{source['id']}/rotate-secret", json={}, headers=writer)
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new != old and new.startswith("whsec_")
    assert rotated.json()["previous_secret_expires_at"] is not None
    shown = api.get(f"/v1/sources/{source['id']}", headers=writer)
    assert new not in shown.text and old not in shown.text
    assert _deliver(ingest, source["id"], new) == 202
    assert _deliver(ingest, source["id"], old) == 202  # still inside the grace period

    api.post(f"/v1/sources/{source['id']}/rotate-secret", json={"grace_seconds": 0}, headers=writer)
    assert _deliver(ingest, source["id"], new) == 401
    assert _deliver(ingest, source["id"], old) == 401


def test_providers_that_issue_secrets_must_send_the_new_one(api: TestClient, auth: Auth) -> None:
    writer = auth("write")
    body = {"name": "sms", "channel": "sms", "provider": "twilio", "secret": "auth-token-1"}
    source = api.post("/v1/sources", json=body, headers=writer).json()
    path = f"/v1/sources/{source['id']}/rotate-secret"
    missing = api.post(path, json={}, headers=writer)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["loc"] == "body.secret"
    ok = api.post(path, json={"secret": "auth-token-2"}, headers=writer)
    assert ok.status_code == 200 and ok.json()["secret"] == "auth-token-2"


def test_disabled_source_is_refused_by_ingest_until_enabled(
    api: TestClient, ingest: TestClient, auth: Auth
) -> None:
    writer = auth("write")
    source = api.post("/v1/sources", json=NEW_SOURCE, headers=writer).json()
    disabled = api.post(f"/v1/sources/{source['id']}/disable", headers=writer)
    assert disabled.status_code == 200 and disabled.json()["disabled_at"] is not None
    assert _deliver(ingest, source["id"], source["secret"]) == 404
    assert api.post(f"/v1/sources/{source['id']}/enable", headers=writer).status_code == 200
    assert _deliver(ingest, source["id"], source["secret"]) == 202


@pytest.mark.parametrize("path", ["disable", "enable", "rotate-secret"])
def test_unknown_source_is_404(api: TestClient, auth: Auth, path: str) -> None:
    answer = api.post(f"/v1/sources/src_nothere/{path}", json={}, headers=auth("write"))
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


def test_a_config_that_does_not_fit_the_provider_is_refused_alike_on_create_and_change(
    api: TestClient, auth: Auth
) -> None:
    writer = auth("write")
    form = {"name": "Form", "channel": "web", "provider": "typeform"}
    bad = {"questions": {"q1": "joy"}}
    created = api.post("/v1/sources", json=form | {"config": bad}, headers=writer)
    source = api.post(
        "/v1/sources", json=form | {"config": {"questions": {"q1": "nps"}}}, headers=writer
    )
    assert source.status_code == 201, source.text
    changed = api.patch(f"/v1/sources/{source.json()['id']}", json={"config": bad}, headers=writer)
    for refused in (created, changed):
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["title"] == "Invalid source config"
        assert [e["loc"] for e in problem["errors"]] == ["body.config.questions.q1"]
