"""The sources to simulate, with their secrets, read from the database the services use."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from services.simulate.formats import BUILDERS, SimSource
from shared.db import make_engine, make_sessionmaker
from shared.models import Source


def load_sources(database_url: str, ids: Sequence[str] = ()) -> list[SimSource]:
    """Every enabled source (or just `ids`), oldest first; a missing or disabled id is an error."""
    engine = make_engine(database_url, pool_size=1)
    try:
        with make_sessionmaker(engine)() as session:
            query = select(Source).where(Source.disabled_at.is_(None))
            if ids:
                query = query.where(Source.id.in_(list(ids)))
            rows = session.scalars(query.order_by(Source.created_at, Source.id)).all()
            found = [
                SimSource(
                    id=r.id,
                    provider=r.provider,
                    channel=r.channel,
                    secret=r.secret,
                    config=dict(r.config),
                )
                for r in rows
                if r.provider in BUILDERS
            ]
    finally:
        engine.dispose()
    missing = sorted(set(ids) - {s.id for s in found})
    if missing:
        raise LookupError(f"no enabled source with id {', '.join(missing)}")
    return found
