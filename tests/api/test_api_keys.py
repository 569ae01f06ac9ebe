"""API keys over the API: admins create (shown once), list (never the key) and revoke them."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from shared.models import ApiKey

Auth = Callable[..., dict[str, str]]

# Who may call what: everything under ADMIN_AREAS is for admins, and so is changing the theme
# taxonomy; elsewhere reading (GET) needs `read` and changing needs `write`. Every route the
# app publishes is held to this rule, so a new one cannot be left out; a route that deserves
# another scope has to change the rule here, on purpose.
ADMIN_AREAS = (
    "/v1/api-keys",
    "/v1/dead-letters",
    "/v1/alert-rules",
    "/v1/notification-destinations",
)
ADMIN_CHANGES = ("/v1/themes/taxonomy",)
RANK = {"read": {"read"}, "write": {"write"}, "admin": {"read", "write", "admin"}}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def needed_scope(method: str, path: str) -> str:
    """The scope a route should demand, by the rule above."""
    if path.startswith(ADMIN_AREAS) or (method != "GET" and path.startswith(ADMIN_CHANGES)):
        return "admin"
    return "read" if method == "GET" else "write"


def v1_operations(api: TestClient) -> list[tuple[str, str]]:
    """Every /v1 operation the running app publishes, each path parameter filled with "x"."""
    paths = api.get("/openapi.json").json()["paths"]
    return [
        (method.upper(), re.sub(r"\{[^}/]+\}", "x", path))
        for path, operations in sorted(paths.items())
        if path.startswith("/v1/")
        for method in sorted(operations)
        if method in HTTP_METHODS
    ]


def test_every_route_refuses_a_request_without_a_key(api: TestClient) -> None:
    operations = v1_operations(api)
    assert {needed_scope(*op) for op in operations} == set(RANK)  # the table was read
    for method, path in operations:
        answer = api.request(method, path, json={})
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("held", ["read", "write", "admin"])
def test_each_scope_gets_403_exactly_on_routes_it_lacks(
    api: TestClient, auth: Auth, held: str
) -> None:
    headers = auth(held)
    for method, path in v1_operations(api):
        needed = needed_scope(method, path)
        answer = api.request(method, path, headers=headers, json={})
        if needed in RANK[held]:
            assert answer.status_code not in (401, 403), (method, path, answer.text)
        else:
            assert answer.status_code == 403, (method, path, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert needed in answer.json()["detail"]


def test_admin_creates_a_key_shown_once_that_works_with_its_scopes(
    api: TestClient, auth: Auth, sessions: sessionmaker[Session]
) -> None:
    admin = auth("admin")
    created = api.post("/v1/api-keys", json={"name": "dash", "scopes": ["read"]}, headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    key = body["key"]
    assert key.startswith("voc_") and body["scopes"] == ["read"] and body["revoked_at"] is None
    new = {"Authorization": f"Bearer {key}"}
    assert api.get("/v1/feedback", headers=new).status_code == 200
    assert api.get("/v1/api-keys", headers=new).status_code == 403
    listed = api.get("/v1/api-keys", headers=admin)
    assert key not in listed.text
    with sessions() as s:
        hashes = s.scalars(select(ApiKey.key_hash)).all()
    assert not any(h in listed.text for h in hashes)
    mine = [k for k in listed.json() if k["id"] == body["id"]]
    assert mine and set(mine[0]) == {
        "id",
        "name",
        "scopes",
        "created_at",
        "last_used_at",
        "revoked_at",
    }
    assert mine[0]["last_used_at"] is not None  # used once above


def test_revocation_is_immediate_and_idempotent(api: TestClient, auth: Auth) -> None:
    admin = auth("admin")
    created = api.post("/v1/api-keys", json={"name": "x", "scopes": ["read"]}, headers=admin)
    key_id, key = created.json()["id"], created.json()["key"]
    victim = {"Authorization": f"Bearer {key}"}
    assert api.get("/v1/feedback", headers=victim).status_code == 200
    revoked = api.post(f"/v1/api-keys/{key_id}/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = api.get("/v1/feedback", headers=victim)
    assert refused.status_code == 401 and key not in refused.text
    again = api.post(f"/v1/api-keys/{key_id}/revoke", headers=admin)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    missing = api.post("/v1/api-keys/abcdef/revoke", headers=admin)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("payload", "loc"),
    [
        ({"name": "x", "scopes": []}, "body.scopes"),
        ({"name": "x", "scopes": ["root"]}, "body.scopes.0"),
        ({"name": "", "scopes": ["read"]}, "body.name"),
        ({"name": "x", "scopes": ["read"], "extra": 1}, "body.extra"),
    ],
)
def test_bad_key_requests_are_422_naming_the_field(
    api: TestClient, auth: Auth, payload: dict, loc: str
) -> None:
    answer = api.post("/v1/api-keys", json=payload, headers=auth("admin"))
    assert answer.status_code == 422
    assert loc in [e["loc"] for e in answer.json()["errors"]]
