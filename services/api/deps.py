"""Request dependencies: a database session per request and API-key authorisation by scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from services.api.config import ApiSettings
from services.api.limits import TokenBuckets, retry_after
from shared.api_keys import Scope, TouchMemo, find_active_key, touch_key
from shared.models import ApiKey
from shared.problems import ProblemError


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, committed if the route returns normally."""
    with request.app.state.sessions() as session, session.begin():
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer voc_...`")


def get_settings(request: Request) -> ApiSettings:
    """The API settings the app was built with."""
    settings: ApiSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]


def require_scope(scope: Scope) -> Callable[..., ApiKey]:
    """A dependency that admits keys holding `scope`; an `admin` key holds every scope.

    The key is looked up on every request (one unique-index read), so a revoked key is
    refused on its next request by every replica. Then the key's rate limit is applied.
    """

    def check(
        request: Request,
        session: SessionDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiKey:
        challenge = {"WWW-Authenticate": "Bearer"}
        if credentials is None:
            raise ProblemError(
                401,
                "Missing API key",
                "send the key as `Authorization: Bearer <key>`",
                headers=challenge,
            )
        key = find_active_key(session=session, plaintext=credentials.credentials)
        if key is None:
            raise ProblemError(
                401, "Invalid API key", "the key is unknown or revoked", headers=challenge
            )
        buckets: TokenBuckets = request.app.state.rate_limits
        wait = buckets.take(key.id)
        if wait > 0:
            raise ProblemError(
                429,
                "Too many requests",
                f"this key may make {buckets.rate:g} requests a second; retry later",
                headers={"Retry-After": retry_after(wait)},
            )
        if scope not in key.scopes and "admin" not in key.scopes:
            raise ProblemError(403, "Insufficient scope", f"this route needs the {scope!r} scope")
        memo: TouchMemo = request.app.state.key_touches
        if memo.due(key.id):
            touch_key(session=session, key_id=key.id)
        return key

    return check


ReadKey = Annotated[ApiKey, Depends(require_scope("read"))]
WriteKey = Annotated[ApiKey, Depends(require_scope("write"))]
AdminKey = Annotated[ApiKey, Depends(require_scope("admin"))]
