"""Sources: the integrations feedback arrives through, each with its own webhook URL and secret."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from sqlalchemy import select

from services.api.deps import ReadKey, SessionDep, SettingsDep, WriteKey
from shared.events import Channel
from shared.models import Source
from shared.problems import PROBLEM_RESPONSES, ProblemError, field_errors
from shared.providers import PROVIDERS

router = APIRouter(prefix="/v1/sources", tags=["sources"], responses=PROBLEM_RESPONSES)


class SourceCreate(BaseModel):
    """A new source; `secret` is needed only for providers that issue their own."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, examples=["Checkout survey"])
    channel: Channel
    provider: str = Field(examples=["generic"], description="One of the supported providers")
    secret: SecretStr | None = Field(
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
    disabled_at: datetime | None


class SourceCreated(SourceOut):
    """The new source with its signing secret: store it now, it is not shown again."""

    secret: str


def _out(row: Source, settings: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "channel": row.channel,
        "provider": row.provider,
        "webhook_url": f"{settings.public_ingest_url.rstrip('/')}/v1/webhooks/{row.id}",
        "created_at": row.created_at,
        "disabled_at": row.disabled_at,
    }


@router.post("", status_code=201, response_model=SourceCreated, summary="Create a source")
def create_source(
    body: SourceCreate, session: SessionDep, settings: SettingsDep, _: WriteKey
) -> dict[str, Any]:
    """Create a source and return its webhook URL and signing secret (shown this once)."""
    info = PROVIDERS[body.provider]
    try:  # checked here, not in the model, so each error names its field under body.config
        config = info.validate_config(body.config)
    except ValidationError as exc:
        raise ProblemError(
            422,
            "Invalid source config",
            f"config does not fit provider {body.provider!r}",
            errors=field_errors(exc.errors(include_input=False), prefix="body.config"),
        ) from None
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
    responses={404: PROBLEM_RESPONSES[422] | {"description": "No such source"}},
)
def get_source(
    source_id: Annotated[str, Path(max_length=64)],
    session: SessionDep,
    settings: SettingsDep,
    _: ReadKey,
) -> dict[str, Any]:
    """One source by id."""
    row = session.get(Source, source_id)
    if row is None:
        raise ProblemError(404, "Source not found", f"no source with id {source_id!r}")
    return _out(row, settings)
