"""API keys, for admins: create (the key is shown once), list (never the key), revoke."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from services.api.deps import AdminKey, SessionDep
from shared.api_keys import SCOPES, Scope, create_api_key, list_api_keys, revoke_api_key
from shared.models import ApiKey
from shared.problems import PROBLEM_RESPONSES, ProblemError, problem_responses

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"], responses=PROBLEM_RESPONSES)
KeyId = Annotated[str, Path(max_length=32, pattern=r"^[0-9a-f]+$", description="The key's id")]


class ApiKeyCreate(BaseModel):
    """A new key: who or what it is for, and what it may do."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00]*$", examples=["ops dashboard"]
    )
    scopes: list[Scope] = Field(
        min_length=1,
        max_length=len(SCOPES),
        description="`read` (every GET), `write` (sources), `admin` (everything)",
        examples=[["read"]],
    )


class ApiKeyOut(BaseModel):
    """A key as listed: its id, name and scopes, never the key or its hash."""

    id: str
    name: str
    scopes: list[Scope]
    created_at: datetime
    last_used_at: datetime | None = Field(description="Recorded at most once a minute")
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """The new key with its secret: store it now, it is not shown again."""

    key: str = Field(description="Send as `Authorization: Bearer <key>`; shown only this once")


def _out(row: ApiKey) -> dict[str, Any]:
    return {name: getattr(row, name) for name in ApiKeyOut.model_fields}


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyCreated,
    summary="Create an API key",
)
def create_key(body: ApiKeyCreate, session: SessionDep, _: AdminKey) -> dict[str, Any]:
    """Mint a key with the given scopes; the key itself is in this answer only."""
    row, plaintext = create_api_key(session=session, name=body.name, scopes=body.scopes)
    session.refresh(row)
    return _out(row) | {"key": plaintext}


@router.get("", response_model=list[ApiKeyOut], summary="List API keys")
def list_keys(session: SessionDep, _: AdminKey) -> list[dict[str, Any]]:
    """Every key, revoked ones included, oldest first."""
    return [_out(row) for row in list_api_keys(session=session)]


@router.post(
    "/{key_id}/revoke",
    response_model=ApiKeyOut,
    summary="Revoke an API key",
    responses=problem_responses(404),
)
def revoke_key(key_id: KeyId, session: SessionDep, _: AdminKey) -> dict[str, Any]:
    """Revoke a key: every API process refuses it from its next request. Revoking twice is fine."""
    row = revoke_api_key(session=session, key_id=key_id)
    if row is None:
        raise ProblemError(404, "API key not found", f"no API key with id {key_id!r}")
    return _out(row)
