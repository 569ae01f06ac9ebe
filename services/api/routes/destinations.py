"""Notification destinations: where alert messages are sent (Slack-compatible or signed JSON)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Response
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.api.deps import AdminKey, SessionDep
from shared.alert_models import NotificationDestination
from shared.problems import PROBLEM_RESPONSES, ProblemError, problem_responses
from shared.providers import mint_standard_webhooks_secret

router = APIRouter(
    prefix="/v1/notification-destinations", tags=["alerts"], responses=PROBLEM_RESPONSES
)
DestinationId = Annotated[str, Path(max_length=32, description="The destination's id, dst_...")]


class DestinationIn(BaseModel):
    """A new destination.

    `slack`: a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat) gets
    `text` and `blocks`. `webhook`: any HTTPS endpoint gets the alert as JSON, signed per
    Standard Webhooks with `secret` (minted if omitted); `webhook-id` is the idempotency key.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    kind: Literal["slack", "webhook"]
    url: AnyHttpUrl
    secret: SecretStr | None = Field(
        default=None, description="For `webhook`: a whsec_ secret of your own; minted if omitted"
    )

    @field_validator("url")
    @classmethod
    def _short_enough(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        if len(str(url)) > 2048:
            raise ValueError("at most 2048 characters")
        return url

    @field_validator("secret")
    @classmethod
    def _whsec(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None:
            value = secret.get_secret_value()
            if not value.startswith("whsec_") or not 16 <= len(value) <= 200:
                raise ValueError("must be a whsec_ secret of 16 to 200 characters")
        return secret


class DestinationOut(BaseModel):
    """A destination as listed: the URL shown without its path, which often holds a token."""

    id: str
    name: str
    kind: str
    url_host: str
    created_at: datetime


class DestinationCreated(DestinationOut):
    """The new destination with its signing secret (webhook kind), shown this once."""

    secret: str | None


def _out(row: NotificationDestination) -> dict[str, Any]:
    parts = urlsplit(row.url)
    return {
        "id": row.id,
        "name": row.name,
        "kind": row.kind,
        "url_host": f"{parts.scheme}://{parts.hostname}",
        "created_at": row.created_at,
    }


def _found(session: Session, destination_id: str) -> NotificationDestination:
    row = session.get(NotificationDestination, destination_id)
    if row is None:
        raise ProblemError(
            404, "Destination not found", f"no notification destination {destination_id!r}"
        )
    return row


@router.post("", status_code=201, response_model=DestinationCreated, summary="Create a destination")
def create_destination(body: DestinationIn, session: SessionDep, _: AdminKey) -> dict[str, Any]:
    """Create a destination; add its id to a rule's `destination_ids` to use it."""
    secret = None
    if body.kind == "webhook":
        secret = body.secret.get_secret_value() if body.secret else mint_standard_webhooks_secret()
    row = NotificationDestination(
        id=f"dst_{secrets.token_hex(8)}",
        name=body.name,
        kind=body.kind,
        url=str(body.url),
        secret=secret,
    )
    session.add(row)
    session.flush()
    session.refresh(row)
    return {**_out(row), "secret": secret}


@router.get("", response_model=list[DestinationOut], summary="List destinations")
def list_destinations(session: SessionDep, _: AdminKey) -> list[dict[str, Any]]:
    """Every destination, oldest first."""
    rows = session.scalars(
        select(NotificationDestination).order_by(
            NotificationDestination.created_at, NotificationDestination.id
        )
    )
    return [_out(r) for r in rows]


@router.get(
    "/{destination_id}",
    response_model=DestinationOut,
    summary="Show a destination",
    responses=problem_responses(404),
)
def get_destination(
    destination_id: DestinationId, session: SessionDep, _: AdminKey
) -> dict[str, Any]:
    """One destination by id."""
    return _out(_found(session, destination_id))


@router.delete(
    "/{destination_id}",
    status_code=204,
    summary="Delete a destination",
    responses=problem_responses(404),
)
def delete_destination(destination_id: DestinationId, session: SessionDep, _: AdminKey) -> Response:
    """Delete it with its undelivered messages; rules that named it simply stop sending there."""
    session.delete(_found(session, destination_id))
    return Response(status_code=204)
