"""Request dependencies: a database session per request and API-key authorisation by scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from services.api.config import ApiSettings
from shared.api_keys import Scope, find_active_key, touch_key
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
    """A dependency that admits keys holding `scope`; an `admin` key holds every scope."""

    def check(
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
        if scope not in key.scopes and "admin" not in key.scopes:
            raise ProblemError(403, "Insufficient scope", f"this route needs the {scope!r} scope")
        touch_key(session=session, key_id=key.id)
        return key

    return check


ReadKey = Annotated[ApiKey, Depends(require_scope("read"))]
WriteKey = Annotated[ApiKey, Depends(require_scope("write"))]
AdminKey = Annotated[ApiKey, Depends(require_scope("admin"))]
