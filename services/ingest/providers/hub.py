"""JSON webhooks signed with an HMAC of the raw body (Intercom, Typeform, Delighted), or of a
timestamp and the body (Zendesk, Chatwoot): the verification all of them share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from services.ingest.providers.base import Delivery, Unauthenticated
from services.ingest.providers.signing import (
    Algorithm,
    Encoding,
    mac,
    parse_unix,
    require_fresh,
    require_signed,
)
from services.ingest.sources import ActiveSource


@dataclass(frozen=True)
class BodySignature:
    """Where a provider puts its signature and how it computes it."""

    header: str
    algorithm: Algorithm
    encoding: Encoding
    prefix: str = ""  # "sha256=" and the like, part of the header value
    timestamp_header: str | None = None  # signed as timestamp + separator + body
    separator: bytes = b""
    timestamp_iso: bool = False  # ISO 8601 rather than Unix seconds

    def verify(self, delivery: Delivery, source: ActiveSource, tolerance_seconds: int) -> None:
        """Raise Unauthenticated unless a valid secret signed this body (and a fresh timestamp)."""
        signed = delivery.body
        if self.timestamp_header:
            stamp = delivery.headers.get(self.timestamp_header, "")
            sent = (
                _iso(stamp) if self.timestamp_iso else parse_unix(stamp, what=self.timestamp_header)
            )
            require_fresh(sent, delivery.received_at, tolerance_seconds, what=self.timestamp_header)
            signed = stamp.encode() + self.separator + delivery.body
        require_signed(
            source.secrets,
            [delivery.headers.get(self.header)],
            partial(self._expected, message=signed),
            what=self.header,
        )

    def _expected(self, key: bytes, *, message: bytes) -> str:
        return self.prefix + mac(self.algorithm, key, message, self.encoding)


def _iso(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Unauthenticated("signature timestamp is missing or not ISO 8601") from None
    if moment.tzinfo is None:
        raise Unauthenticated("signature timestamp has no UTC offset")
    return moment


class BodySignedProvider:
    """The authentication every provider signing its raw body shares; subclasses set `signature`."""

    signature: BodySignature

    def __init__(self, *, tolerance_seconds: int) -> None:
        self._tolerance = tolerance_seconds

    def authenticate(self, delivery: Delivery, source: ActiveSource) -> None:
        """Check the provider's signature header against every valid secret of the source."""
        self.signature.verify(delivery, source, self._tolerance)
