"""Mailgun inbound routes: a form (urlencoded, or multipart with attachments) signed with the
HTTP webhook signing key as hex(HMAC-SHA256(key, timestamp + token)).

The timestamp must be recent and the token unused (the endpoint records it once the event is
on the broker), so a captured request cannot be replayed. Mailgun retries every answer except
2xx and 406 for hours, so a permanent refusal of an authentic delivery is 406.
"""

from __future__ import annotations

import json
from functools import partial

from services.ingest.providers.base import Delivery, ParsedFeedback, Unauthenticated, Unparseable
from services.ingest.providers.common import source_config
from services.ingest.providers.email_text import clean_message_id, reply_feedback
from services.ingest.providers.forms import Form
from services.ingest.providers.signing import mac, parse_unix, require_fresh, require_signed
from services.ingest.sources import ActiveSource
from shared.providers import TextSurveyConfig


class MailgunProvider:
    """Replies to an email survey, forwarded by a Mailgun route."""

    name = "mailgun"
    permanent_status = 406

    def __init__(self, *, tolerance_seconds: int) -> None:
        self._tolerance = tolerance_seconds

    def authenticate(self, delivery: Delivery, source: ActiveSource) -> str:
        """Check the signature and the timestamp; return the token, which must not be reused."""
        try:
            form = delivery.form
        except Unparseable as exc:
            raise Unauthenticated(f"no signed form: {exc.reason}") from None
        timestamp, token = form.get("timestamp") or "", form.get("token") or ""
        require_fresh(
            parse_unix(timestamp, what="timestamp"),
            delivery.received_at,
            self._tolerance,
            what="timestamp",
        )
        if not token or len(token) > 256:
            raise Unauthenticated("token is missing or too long")
        require_signed(
            source.secrets,
            [form.get("signature")],
            partial(_signature, message=(timestamp + token).encode()),
            what="signature",
        )
        return token

    def parse(self, delivery: Delivery, source: ActiveSource) -> list[ParsedFeedback]:
        """One feedback per email: the reply without quotes or signature, scored on the metric."""
        config = source_config(source, TextSurveyConfig)
        form = delivery.form
        msg_id = clean_message_id(form.get("Message-Id") or _header(form, "Message-Id"))
        if not msg_id:
            raise Unparseable("the email has no Message-Id")  # Mailgun's name for the field
        return reply_feedback(
            message_id=msg_id,
            body=form.get("body-plain") or form.get("stripped-text") or "",
            sender=form.get("sender") or form.get("from") or "",
            metric=config.metric,
            touchpoint=config.touchpoint,
            received_at=delivery.received_at,
        )


def _signature(key: bytes, *, message: bytes) -> str:
    return mac("sha256", key, message, "hex")


def _header(form: Form, name: str) -> str | None:
    """A header from Mailgun's `message-headers` field: a JSON list of [name, value] pairs."""
    try:
        pairs = json.loads(form.get("message-headers") or "[]")
    except ValueError:
        return None
    for pair in pairs if isinstance(pairs, list) else []:
        if isinstance(pair, list) and len(pair) == 2 and str(pair[0]).lower() == name.lower():
            return str(pair[1])
    return None
