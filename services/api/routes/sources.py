"""Sources: the integrations feedback arrives through, each with its own webhook URL and secret."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from sqlalchemy import select

from services.api.config import ApiSettings
from services.api.deps import ReadKey, SessionDep, SettingsDep, WriteKey
from shared.events import Channel
from shared.models import Source
from shared.problems import (
    PROBLEM_RESPONSES,
    FieldError,
    ProblemError,
    field_errors,
    problem_responses,
)
from shared.providers import PROVIDERS

router = APIRouter(prefix="/v1/sources", tags=["sources"], responses=PROBLEM_RESPONSES)
SourceId = Annotated[str, Path(max_length=64, description="The source's id, src_...")]
SecretIn = Annotated[SecretStr, Field(min_length=8, max_length=200)]


class SourceCreate(BaseModel):
    """A new source; `secret` is needed only for providers that issue their own."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00]*$", examples=["Checkout survey"]
    )
    channel: Channel
    provider: str = Field(examples=["generic"], description="One of the supported providers")
    secret: SecretIn | None = Field(
        default=None, description="The provider's signing secret, if the provider issues it"
    )
    config: dict[str, Any] = Field(default_factory=dict, description="Provider-specific settings")

    @model_validator(mode="after")
    def _provider_fits(self) -> SourceCreate:
        info = PROVIDERS.get(self.provider)
        if info is None:
            raise ValueError(f"provider must be one of {', '.join(sorted(PROVIDERS))}")
        if self.channel not in info.channels:
            allowed = ", ".join(sorted(info.channels))
            raise ValueError(f"provider {self.provider!r} serves channels {allowed}")
        if not info.mints_secret and self.secret is None:
            raise ValueError(f"provider {self.provider!r} needs the secret it issued")
        return self


class SourceOut(BaseModel):
    """A source as listed; its secret is never shown again after creation."""

    id: str
    name: str
    channel: Channel
    provider: str
    webhook_url: str
    created_at: datetime
    disabled_at: datetime | None = Field(description="Set while webhooks are refused (404)")
    previous_secret_expires_at: datetime | None = Field(
        default=None,
        description="After a rotation: until when the previous secret is still accepted",
    )


class SourceCreated(SourceOut):
    """The new source with its signing secret: store it now, it is not shown again."""

    secret: str


class SecretRotation(BaseModel):
    """How to rotate: the new secret (only for providers that issue their own) and the grace."""

    model_config = ConfigDict(extra="forbid")

    secret: SecretIn | None = Field(
        default=None,
        description="The provider's new signing secret; omit to have one minted "
        "(required for providers that issue their own)",
    )
    grace_seconds: int | None = Field(
        default=None,
        ge=0,
        le=30 * 86400,
        description="How long the previous secret stays valid; default API_SECRET_GRACE_SECONDS",
    )


def _found(session: Any, source_id: str) -> Source:
    row: Source | None = session.get(Source, source_id)
    if row is None:
        raise ProblemError(404, "Source not found", f"no source with id {source_id!r}")
    return row


def _previous_expiry(row: Source) -> datetime | None:
    return row.previous_secret_expires_at if row.previous_secret else None


def _valid_config(provider: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config as stored for `provider`, or a 422 naming each bad field under body.config.

    Checked here rather than in the request models, so each error names its field.
    """
    try:
        return PROVIDERS[provider].validate_config(config)
    except ValidationError as exc:
        raise ProblemError(
            422,
            "Invalid source config",
            f"config does not fit provider {provider!r}",
            errors=field_errors(exc.errors(include_input=False), prefix="body.config"),
        ) from None


def _out(row: Source, settings: ApiSettings) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "channel": row.channel,
        "provider": row.provider,
        "webhook_url": f"{settings.public_ingest_url.rstrip('/')}/v1/webhooks/{row.id}",
        "created_at": row.created_at,
        "disabled_at": row.disabled_at,
        "previous_secret_expires_at": _previous_expiry(row),
    }


@router.post(
    "",
    status_code=201,
    response_model=SourceCreated,
    summary="Create a source",
)
def create_source(
    body: SourceCreate, session: SessionDep, settings: SettingsDep, _: WriteKey
) -> dict[str, Any]:
    """Create a source and return its webhook URL and signing secret (shown this once)."""
    info = PROVIDERS[body.provider]
    config = _valid_config(body.provider, body.config)
    secret = body.secret.get_secret_value() if body.secret else info.mint_secret()
    row = Source(
        id=f"src_{secrets.token_hex(8)}",
        name=body.name,
        channel=body.channel,
        provider=info.name,
        secret=secret,
        config=config,
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    return {**_out(row, settings), "secret": secret}


@router.get("", response_model=list[SourceOut], summary="List sources")
def list_sources(session: SessionDep, settings: SettingsDep, _: ReadKey) -> list[dict[str, Any]]:
    """Every source, oldest first."""
    rows = session.scalars(select(Source).order_by(Source.created_at, Source.id))
    return [_out(r, settings) for r in rows]


@router.get(
    "/{source_id}",
    response_model=SourceOut,
    summary="Show a source",
    responses=problem_responses(404),
)
def get_source(
    source_id: SourceId, session: SessionDep, settings: SettingsDep, _: ReadKey
) -> dict[str, Any]:
    """One source by id."""
    return _out(_found(session, source_id), settings)


@router.post(
    "/{source_id}/rotate-secret",
    response_model=SourceCreated,
    summary="Rotate a source's signing secret",
    responses=problem_responses(404),
)
def rotate_secret(
    source_id: SourceId,
    body: SecretRotation,
    session: SessionDep,
    settings: SettingsDep,
    _: WriteKey,
) -> dict[str, Any]:
    """Replace the secret; the new one is in this answer only.

    The previous secret stays valid for `grace_seconds`, so the provider can be switched
    over without losing deliveries; rotating again within the grace drops the oldest one.
    Ingest caches sources for `INGEST_SOURCE_CACHE_SECONDS`, so the new secret is accepted
    within that time.
    """
    row = _found(session, source_id)
    info = PROVIDERS[row.provider]
    if body.secret is None and not info.mints_secret:
        raise ProblemError(
            422,
            "Invalid request",
            f"provider {row.provider!r} signs with a secret it issues; send it as `secret`",
            errors=[FieldError(loc="body.secret", msg="Field required", type="missing")],
        )
    secret = body.secret.get_secret_value() if body.secret else info.mint_secret()
    grace = settings.secret_grace_seconds if body.grace_seconds is None else body.grace_seconds
    row.previous_secret = row.secret if grace > 0 else None
    row.previous_secret_expires_at = datetime.now(UTC) + timedelta(seconds=grace)
    row.secret = secret
    session.flush()
    return {**_out(row, settings), "secret": secret}


def _set_disabled(session: Any, source_id: str, disabled: bool) -> Source:
    row = _found(session, source_id)
    if disabled and row.disabled_at is None:
        row.disabled_at = datetime.now(UTC)
    elif not disabled:
        row.disabled_at = None
    session.flush()
    return row


@router.post(
    "/{source_id}/disable",
    response_model=SourceOut,
    summary="Disable a source",
    responses=problem_responses(404),
)
def disable_source(
    source_id: SourceId, session: SessionDep, settings: SettingsDep, _: WriteKey
) -> dict[str, Any]:
    """Refuse the source's webhooks (404) from now on, within ingest's source cache time."""
    return _out(_set_disabled(session, source_id, True), settings)


@router.post(
    "/{source_id}/enable",
    response_model=SourceOut,
    summary="Enable a disabled source",
    responses=problem_responses(404),
)
def enable_source(
    source_id: SourceId, session: SessionDep, settings: SettingsDep, _: WriteKey
) -> dict[str, Any]:
    """Accept the source's webhooks again."""
    return _out(_set_disabled(session, source_id, False), settings)


class SourceUpdate(BaseModel):
    """What can change on a source without a new webhook URL: its name and provider config."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    config: dict[str, Any] | None = Field(
        default=None,
        description="The whole provider config (e.g. a survey's question map), replacing the old",
    )


class SourceWithConfig(SourceOut):
    """A source with its provider config."""

    config: dict[str, Any]


@router.patch(
    "/{source_id}",
    response_model=SourceWithConfig,
    summary="Change a source's name or config",
    responses=problem_responses(404),
)
def update_source(
    source_id: SourceId,
    body: SourceUpdate,
    session: SessionDep,
    settings: SettingsDep,
    _: WriteKey,
) -> dict[str, Any]:
    """Fix a source, typically its question map, so its dead letters can then be replayed.

    Ingest caches sources for `INGEST_SOURCE_CACHE_SECONDS`; a replay reads the source afresh.
    """
    row = _found(session, source_id)
    if body.config is not None:
        row.config = _valid_config(row.provider, body.config)
    if body.name is not None:
        row.name = body.name
    session.flush()
    return {**_out(row, settings), "config": row.config}
