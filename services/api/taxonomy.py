"""The theme taxonomy scoring matches comments against: request shapes and store functions.

Scoring reloads the table every SCORING_TAXONOMY_REFRESH_SECONDS, so an edit applies to
events scored after that; comments already stored keep the themes found when they were
scored (their counts stay what they were, and a rebuild gives the same numbers).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.models import ThemeDefinition
from shared.problems import ProblemError

MAX_KEYWORDS = 500
Keyword = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^[^\x00]*$"),
]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,8}$")]
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00]*$"),
]
KEYWORDS_DOC = (
    "Words and phrases by language code ({'en': [...], 'ar': [...]}), written as customers "
    "write them; each is normalised like comments (case, Arabic letter variants, "
    "diacritics, repeated letters), Arabic words match with clitics (التوصيل, بالتوصيل), and "
    f"a trailing * matches a prefix (deliver*). At most {MAX_KEYWORDS} per language."
)


def _check_keywords(value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
    if value is None:
        return None
    for language, words in value.items():
        if len(words) > MAX_KEYWORDS:
            raise ValueError(f"{language}: at most {MAX_KEYWORDS} keywords")
        for word in words:
            if not any(ch.isalnum() for ch in word):
                raise ValueError(f"{language}: {word!r} has no letters or digits to match")
    return {language: list(dict.fromkeys(words)) for language, words in value.items()}


class ThemeCreate(BaseModel):
    """A new theme."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        description="Stable identifier: lower-case letters, digits and _, starting with a letter",
        examples=["parking"],
    )
    name_en: Name = Field(examples=["Parking"])
    name_ar: Name | None = Field(default=None, examples=["المواقف"])
    keywords: dict[Language, list[Keyword]] = Field(description=KEYWORDS_DOC)
    enabled: bool = True

    _keywords = field_validator("keywords")(_check_keywords)


class ThemePatch(BaseModel):
    """Changes to a theme; fields left out stay as they are. `keywords` replaces all of them."""

    model_config = ConfigDict(extra="forbid")

    name_en: Name | None = None
    name_ar: Name | None = None
    keywords: dict[Language, list[Keyword]] | None = Field(default=None, description=KEYWORDS_DOC)
    enabled: bool | None = None

    _keywords = field_validator("keywords")(_check_keywords)


class ThemeOut(BaseModel):
    """A theme of the taxonomy."""

    key: str
    name_en: str
    name_ar: str | None
    keywords: dict[str, list[str]]
    enabled: bool = Field(description="Disabled themes are not matched in new comments")
    created_at: datetime
    updated_at: datetime


def theme_out(row: ThemeDefinition) -> dict[str, Any]:
    """A row as a ThemeOut-shaped dict."""
    return {name: getattr(row, name) for name in ThemeOut.model_fields}


def list_themes(*, session: Session) -> Sequence[ThemeDefinition]:
    """The whole taxonomy, in key order."""
    return session.scalars(select(ThemeDefinition).order_by(ThemeDefinition.key)).all()


def get_theme(*, session: Session, key: str, lock: bool = False) -> ThemeDefinition:
    """One theme, or a 404 problem."""
    query = select(ThemeDefinition).where(ThemeDefinition.key == key)
    row = session.scalars(query.with_for_update() if lock else query).first()
    if row is None:
        raise ProblemError(404, "Theme not found", f"no theme with key {key!r}")
    return row


def create_theme(*, session: Session, body: ThemeCreate) -> ThemeDefinition:
    """Add a theme; a 409 problem if the key is taken."""
    if session.get(ThemeDefinition, body.key) is not None:
        raise ProblemError(409, "Theme exists", f"a theme with key {body.key!r} already exists")
    row = ThemeDefinition(**body.model_dump())
    session.add(row)
    session.flush()
    session.refresh(row)
    return row


def update_theme(*, session: Session, key: str, body: ThemePatch) -> ThemeDefinition:
    """Apply the fields given; name_en cannot be cleared."""
    row = get_theme(session=session, key=key, lock=True)
    changes = body.model_dump(exclude_unset=True)
    if "name_en" in changes and changes["name_en"] is None:
        raise ProblemError(422, "Invalid request", "name_en cannot be null")
    for field, value in changes.items():
        if field == "enabled" and value is None:
            continue
        setattr(row, field, value)
    row.updated_at = func.now()
    session.flush()
    session.refresh(row)
    return row


def delete_theme(*, session: Session, key: str) -> None:
    """Remove a theme from the taxonomy (stored counts of it stay)."""
    session.delete(get_theme(session=session, key=key, lock=True))
    session.flush()
