"""The parameters every metric read shares: the metric path, filters, group_by and min_count."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Query

from services.api.metric_query import DIMENSIONS, Filters, GroupBy
from services.api.windows import bad_param
from shared.events import Channel
from shared.metric_math import MIN_RELIABLE_COUNT, Measure
from shared.text.themes import THEME_KEY

_TAG = re.compile(r"^([^:\x00]{1,64}):([^\x00]{0,128})$")
_GROUP_TAG = re.compile(r"^tag:([^\x00]{1,64})$")
MAX_TAG_FILTERS = 10

MetricPath = Annotated[
    Measure,
    Path(
        description="nps, csat, ces, or a comment sentiment measure: sentiment (mean -1..1), "
        "positive_share or negative_share (% of comments)"
    ),
]


@dataclass(frozen=True)
class Slice:
    """Which responses a read covers, how to break them down, and when a value is reliable."""

    filters: Filters
    group: GroupBy | None
    group_by: str | None
    min_count: int

    def echo(self) -> dict[str, Any]:
        """The filters as applied, for the response body."""
        tags = [f"{k}:{v}" for k, v in self.filters.tags]
        return self.filters.dimensions() | ({"tag": tags} if tags else {})


def parse_tags(raw: list[str]) -> tuple[tuple[str, str], ...]:
    if len(raw) > MAX_TAG_FILTERS:
        raise bad_param("query.tag", f"at most {MAX_TAG_FILTERS} tag filters")
    out: dict[str, str] = {}
    for item in raw:
        match = _TAG.match(item)
        if not match:
            raise bad_param("query.tag", f"{item!r} must look like key:value (plan:pro)")
        key, value = match.groups()
        if out.get(key, value) != value:
            raise bad_param(
                "query.tag", f"tag {key!r} filtered by two values; no response has both"
            )
        out[key] = value
    return tuple(sorted(out.items()))


def _group(raw: str | None) -> GroupBy | None:
    if raw is None:
        return None
    if raw in DIMENSIONS:
        return GroupBy(dimension=raw)
    match = _GROUP_TAG.match(raw)
    if match:
        return GroupBy(tag=match.group(1))
    raise bad_param("query.group_by", f"must be one of {', '.join(DIMENSIONS)} or tag:<key>")


def slice_params(
    channel: Annotated[Channel | None, Query(description="Only this channel")] = None,
    source_id: Annotated[str | None, Query(max_length=64, description="Only this source")] = None,
    touchpoint: Annotated[
        str | None, Query(max_length=128, description="Only this touchpoint")
    ] = None,
    language: Annotated[str | None, Query(max_length=16, description="e.g. ar, en")] = None,
    tag: Annotated[
        list[str] | None,
        Query(
            description="Tag filter key:value, repeatable; all must hold. One tag filter reads "
            "tag buckets; two or more read the raw feedback (exact but slower)."
        ),
    ] = None,
    group_by: Annotated[
        str | None,
        Query(
            max_length=68,
            description="Break down by channel, source_id, touchpoint, language or tag:<key>. "
            "Groups add up exactly to the whole; a null key is 'absent' (no such tag).",
        ),
    ] = None,
    min_count: Annotated[
        int,
        Query(ge=1, le=100_000, description="Responses needed for a value to count as reliable"),
    ] = MIN_RELIABLE_COUNT,
    theme: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Only responses whose comment mentions this theme key (e.g. delivery): "
            "the metric among them, read from theme buckets",
        ),
    ] = None,
) -> Slice:
    """Parse and check the shared parameters, naming the parameter in any 422."""
    if theme is not None and not THEME_KEY.match(theme):
        raise bad_param("query.theme", "must be a theme key like delivery or price_value")
    filters = Filters(
        theme=theme,
        channel=channel,
        source_id=source_id,
        touchpoint=touchpoint,
        language=language,
        tags=parse_tags(tag or []),
    )
    return Slice(filters=filters, group=_group(group_by), group_by=group_by, min_count=min_count)


SliceDep = Annotated[Slice, Depends(slice_params)]
