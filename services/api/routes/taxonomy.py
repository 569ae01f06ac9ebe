"""The theme taxonomy over the API: anyone with `read` lists it, `admin` edits it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from services.api.deps import AdminKey, ReadKey, SessionDep
from services.api.taxonomy import (
    ThemeCreate,
    ThemeOut,
    ThemePatch,
    create_theme,
    delete_theme,
    get_theme,
    list_themes,
    theme_out,
    update_theme,
)
from shared.problems import PROBLEM_RESPONSES, problem_responses

router = APIRouter(prefix="/v1/themes/taxonomy", tags=["themes"], responses=PROBLEM_RESPONSES)
ThemeKey = Annotated[
    str, Path(max_length=64, pattern=r"^[a-z][a-z0-9_]{0,63}$", description="The theme's key")
]


@router.get("", response_model=list[ThemeOut], summary="List the theme taxonomy")
def list_taxonomy(session: SessionDep, _: ReadKey) -> list[dict[str, Any]]:
    """Every theme, disabled ones included, in key order."""
    return [theme_out(row) for row in list_themes(session=session)]


@router.get(
    "/{key}", response_model=ThemeOut, summary="Show one theme", responses=problem_responses(404)
)
def read_theme(key: ThemeKey, session: SessionDep, _: ReadKey) -> dict[str, Any]:
    """One theme with its keywords."""
    return theme_out(get_theme(session=session, key=key))


@router.post(
    "",
    status_code=201,
    response_model=ThemeOut,
    summary="Add a theme",
    responses=problem_responses(409),
)
def add_theme(body: ThemeCreate, session: SessionDep, _: AdminKey) -> dict[str, Any]:
    """Add a theme; scoring matches it in comments scored after its next taxonomy reload."""
    return theme_out(create_theme(session=session, body=body))


@router.patch(
    "/{key}", response_model=ThemeOut, summary="Change a theme", responses=problem_responses(404)
)
def change_theme(
    key: ThemeKey, body: ThemePatch, session: SessionDep, _: AdminKey
) -> dict[str, Any]:
    """Rename, re-word, enable or disable a theme; applies to comments scored from then on."""
    return theme_out(update_theme(session=session, key=key, body=body))


@router.delete(
    "/{key}", status_code=204, summary="Remove a theme", responses=problem_responses(404)
)
def remove_theme(key: ThemeKey, session: SessionDep, _: AdminKey) -> Response:
    """Remove a theme; past counts of it stay readable under its key. To stop matching every
    theme, disable them: an empty taxonomy table makes scoring fall back to the shipped one.
    """
    delete_theme(session=session, key=key)
    return Response(status_code=204)
