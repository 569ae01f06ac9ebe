"""Streaming CSV of feedback rows read through a server-side cursor, so memory stays flat."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session, sessionmaker

from services.api.feedback_query import FIELDS

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
ROWS_PER_CHUNK = 1000
# A cell starting with one of these runs as a formula in spreadsheet programs (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_chunks(sessions: sessionmaker[Session], query: Select[Any]) -> Iterator[str]:
    """Yield the header with the first rows, then ROWS_PER_CHUNK rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(FIELDS)
    with sessions() as session, session.begin():
        result = session.execute(query.execution_options(yield_per=ROWS_PER_CHUNK))
        for partition in result.partitions():
            writer.writerows([_cell(v) for v in row] for row in partition)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()
