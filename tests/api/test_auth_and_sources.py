"""Every route needs a key with the right scope; sources hand out their secret exactly once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from shared.db import transaction
from shared.models import ApiKey, Source

NEW_SOURCE = {"name": "Checkout survey", "channel": "web", "provider": "generic"}


@pytest.mark.parametrize("path", ["/v1/metrics/nps", "/v1/feedback", "/v1/sources"])
def test_no_key_or_a_wrong_key_is_401(api: TestClient, path: str) -> None:
    assert api.get(path).status_code == 401
    wrong = api.get(path, headers={"Authorization": "Bearer voc_nothere_xyz"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert "voc_nothere_xyz" not in wrong.text


def test_read_key_cannot_create_sources(api: TestClient, make_key: Callable[..., str]) -> None:
    answer = api.post(
        "/v1/sources", json=NEW_SOURCE, headers={"Authorization": f"Bearer {make_key('read')}"}
    )
    assert answer.status_code == 403
    assert "write" in answer.json()["detail"]


def test_keys_are_stored_hashed_and_revocation_is_immediate(
    api: TestClient, make_key: Callable[..., str], sessions: sessionmaker[Session]
) -> None:
    key = make_key("read")
    headers = {"Authorization": f"Bearer {key}"}
    assert api.get("/v1/feedback", headers=headers).status_code == 200
    with sessions() as s:
        stored = s.scalars(select(ApiKey.key_hash)).all()
    assert key not in stored and all(len(h) == 64 for h in stored)
    with transaction(sessions) as s:
        s.execute(update(ApiKey).values(revoked_at=ApiKey.created_at))
    assert api.get("/v1/feedback", headers=headers).status_code == 401


def test_create_source_returns_secret_once_and_webhook_url(
    api: TestClient, make_key: Callable[..., str], sessions: sessionmaker[Session]
) -> None:
    headers = {"Authorization": f"Bearer {make_key('admin')}"}
    created = api.post("/v1/sources", json=NEW_SOURCE, headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["webhook_url"] == f"https://voc.example.com/ingest/v1/webhooks/{body['id']}"
    with sessions() as s:
        assert s.get(Source, body["id"]) is not None
    listed = api.get("/v1/sources", headers=headers).json()
    shown = api.get(f"/v1/sources/{body['id']}", headers=headers).json()
    assert [s["id"] for s in listed] == [body["id"]]
    assert "secret" not in listed[0] and "secret" not in shown


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({**NEW_SOURCE, "provider": "carrier-pigeon"}, "provider must be one of"),
        ({**NEW_SOURCE, "channel": "fax"}, "Input should be"),
        ({"channel": "web", "provider": "generic"}, "Field required"),
    ],
)
def test_bad_source_is_422_with_reason(
    api: TestClient, make_key: Callable[..., str], payload: dict, reason: str
) -> None:
    answer = api.post(
        "/v1/sources", json=payload, headers={"Authorization": f"Bearer {make_key('write')}"}
    )
    assert answer.status_code == 422
    assert any(reason in e["msg"] for e in answer.json()["errors"]), answer.json()
