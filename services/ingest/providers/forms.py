"""Form bodies (urlencoded and multipart) read from the raw bytes the signature covers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from services.ingest.providers.base import Delivery, Unparseable


@dataclass
class Form:
    """Field name to its values, in arrival order; a name may repeat."""

    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, value: str) -> None:
        """Append one value of `name`."""
        self.fields.setdefault(name, []).append(value)

    def get(self, name: str) -> str | None:
        """The first value of `name`, or None."""
        values = self.fields.get(name)
        return values[0] if values else None


def parse_urlencoded(body: bytes) -> Form:
    """`application/x-www-form-urlencoded` as Twilio and Mailgun send it (UTF-8)."""
    form = Form()
    text = body.decode("utf-8", errors="replace")
    for name, value in parse_qsl(text, keep_blank_values=True, errors="replace"):
        form.add(name, value)
    return form


@dataclass
class _Part:
    """One multipart part: its Content-Disposition parameters (read once) and its data."""

    disposition: dict[bytes, bytes] = field(default_factory=dict)
    data: bytearray = field(default_factory=bytearray)

    @property
    def is_field(self) -> bool:
        """A named part that is not an attachment."""
        return b"name" in self.disposition and b"filename" not in self.disposition


def parse_multipart(body: bytes, content_type: str) -> tuple[Form, dict[str, bytes]]:
    """`multipart/form-data` fields, text decoded as UTF-8 and also kept as bytes; parts with a
    file name (attachments) are skipped, never buffered to disk."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise Unparseable("multipart body without a boundary")
    parts: list[_Part] = []
    header_field = bytearray()
    header_value = bytearray()

    def begin() -> None:
        parts.append(_Part())

    def on_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def header_end() -> None:
        if bytes(header_field).lower() == b"content-disposition":
            parts[-1].disposition = parse_options_header(bytes(header_value))[1]
        header_field.clear()
        header_value.clear()

    def on_data(data: bytes, start: int, end: int) -> None:
        part = parts[-1]
        if part.is_field:
            part.data.extend(data[start:end])

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": begin,
            "on_header_field": on_field,
            "on_header_value": on_value,
            "on_header_end": header_end,
            "on_part_data": on_data,
        },
        max_header_count=32,
    )
    try:
        parser.write(body)
        parser.finalize()
    except (MultipartParseError, ValueError, IndexError) as exc:
        raise Unparseable(f"multipart body cannot be read: {exc}") from None
    form = Form()
    raw: dict[str, bytes] = {}
    for part in parts:
        if not part.is_field:
            continue
        name = part.disposition[b"name"].decode("utf-8", errors="replace")
        raw.setdefault(name, bytes(part.data))
        form.add(name, bytes(part.data).decode("utf-8", errors="replace"))
    return form, raw


def read_form(delivery: Delivery) -> tuple[Form, dict[str, bytes]]:
    """The form in either encoding, by the delivery's content type."""
    content_type = delivery.headers.get("content-type", "")
    if delivery.content_type == "multipart/form-data":
        return parse_multipart(delivery.body, content_type)
    if delivery.content_type in (None, "application/x-www-form-urlencoded"):
        return parse_urlencoded(delivery.body), {}
    raise Unparseable(f"expected a form body, got {delivery.content_type}")


def decode_with_charsets(raw: Mapping[str, bytes], charsets_json: str | None, name: str) -> str:
    """A multipart field decoded with the charset the sender declared for it (SendGrid's `charsets`)."""
    value = raw.get(name, b"")
    charset = "utf-8"
    if charsets_json:
        try:
            declared = json.loads(charsets_json)
        except ValueError:
            declared = {}
        if isinstance(declared, dict) and isinstance(declared.get(name), str):
            charset = declared[name]
    try:
        return value.decode(charset, errors="replace")
    except LookupError:  # a charset name Python does not know
        return value.decode("utf-8", errors="replace")
