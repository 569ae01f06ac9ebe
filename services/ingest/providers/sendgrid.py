"""SendGrid Inbound Parse: multipart form, authenticated by credentials on the source.

Inbound Parse does not sign; the URL pasted into SendGrid carries basic-auth credentials
(https://user:SECRET@host/...), or a proxy adds `Authorization: Bearer SECRET`. Either is
compared in constant time with every valid secret. Fields are decoded with the charsets
SendGrid declares in `charsets`; the Message-ID comes from the `headers` field, or from the
raw message when "post the raw, full MIME message" is on.
"""

from __future__ import annotations

import base64
import binascii
from email import message_from_bytes
from email.message import Message
from email.policy import compat32

from services.ingest.providers.base import Delivery, ParsedFeedback, Unauthenticated, Unparseable
from services.ingest.providers.common import source_config
from services.ingest.providers.email_text import clean_message_id, message_id, reply_feedback
from services.ingest.providers.forms import decode_with_charsets, parse_multipart
from services.ingest.providers.signing import require_signed
from services.ingest.sources import ActiveSource
from shared.providers import SendGridConfig


class SendGridProvider:
    """Replies to an email survey, posted by SendGrid Inbound Parse."""

    name = "sendgrid"

    def authenticate(self, delivery: Delivery, source: ActiveSource) -> None:
        """Accept a bearer token or a basic-auth password equal to a valid secret."""
        scheme, _, credentials = delivery.headers.get("authorization", "").strip().partition(" ")
        presented = credentials.strip()
        if scheme.lower() == "basic":
            try:
                user, _, presented = (
                    base64.b64decode(presented, validate=True).decode().partition(":")
                )
            except (binascii.Error, UnicodeDecodeError):
                raise Unauthenticated("basic credentials are not base64 user:password") from None
            expected_user = (
                source_config(source, SendGridConfig).username if source.config else None
            )
            if expected_user is not None and user != expected_user:
                raise Unauthenticated("basic-auth user name does not match this source")
        elif scheme.lower() != "bearer":
            raise Unauthenticated("Authorization (Bearer or Basic) is missing")
        require_signed(source.secrets, [presented], bytes.decode, what="credential")

    def parse(self, delivery: Delivery, source: ActiveSource) -> list[ParsedFeedback]:
        """One feedback per email: the reply without quotes or signature, scored on the metric."""
        config = source_config(source, SendGridConfig)
        if delivery.content_type != "multipart/form-data":
            raise Unparseable(f"expected multipart/form-data, got {delivery.content_type}")
        form, raw = parse_multipart(delivery.body, delivery.headers.get("content-type", ""))
        charsets = form.get("charsets")
        if "email" in raw:  # the raw MIME message
            mime = message_from_bytes(raw["email"], policy=compat32)
            msg_id = clean_message_id(str(mime.get("Message-ID") or "")) or None
            body = _plain_text(mime)
        else:
            msg_id = message_id(decode_with_charsets(raw, charsets, "headers"))
            body = decode_with_charsets(raw, charsets, "text")
        if not msg_id:
            raise Unparseable("the email has no Message-ID")
        return reply_feedback(
            message_id=msg_id,
            body=body,
            sender=decode_with_charsets(raw, charsets, "from").strip(),
            metric=config.metric,
            touchpoint=config.touchpoint,
            received_at=delivery.received_at,
        )


def _plain_text(mime: Message) -> str:
    """The first text/plain part of a MIME message, decoded with its declared charset."""
    for part in mime.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                try:
                    return payload.decode(part.get_content_charset() or "utf-8", errors="replace")
                except LookupError:
                    return payload.decode("utf-8", errors="replace")
    return ""
