"""Twilio inbound SMS: form-encoded, signed with the auth token over the public URL and params.

X-Twilio-Signature is base64(HMAC-SHA1(auth token, URL + each parameter name and value,
sorted by name)). The URL is the one Twilio posted to, so behind a proxy that changes scheme,
host or port it is rebuilt from INGEST_PUBLIC_BASE_URL plus the request path and query.
The answer is TwiML, so the customer gets a thank-you text.
"""

from __future__ import annotations

from functools import partial
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

from fastapi.responses import Response

from services.ingest.providers.base import Delivery, ParsedFeedback, Unauthenticated, Unparseable
from services.ingest.providers.common import source_config
from services.ingest.providers.forms import Form
from services.ingest.providers.signing import mac, require_signed
from services.ingest.sources import ActiveSource
from services.ingest.textscore import guess_language, read_score
from shared.providers import TwilioConfig


class TwilioProvider:
    """Inbound SMS replies to an SMS survey."""

    name = "twilio"

    def __init__(self, *, public_base_url: str | None) -> None:
        self._base = public_base_url

    def public_urls(self, delivery: Delivery) -> list[str]:
        """The URL Twilio signed, with and without an explicit default port, as its library tries."""
        parts = urlsplit(delivery.url)
        if self._base:
            base = urlsplit(self._base)
            parts = parts._replace(scheme=base.scheme, netloc=base.netloc)
        url = urlunsplit(parts)
        default = {"http": 80, "https": 443}.get(parts.scheme)
        if parts.port is None and default:
            with_port = parts._replace(netloc=f"{parts.netloc}:{default}")
            return [url, urlunsplit(with_port)]
        if parts.port == default and parts.hostname:
            bare = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
            return [url, urlunsplit(bare)]
        return [url]

    def authenticate(self, delivery: Delivery, source: ActiveSource) -> None:
        """Accept the delivery if any valid auth token signed this URL and these parameters."""
        if delivery.content_type not in (None, "application/x-www-form-urlencoded"):
            raise Unauthenticated("Twilio posts application/x-www-form-urlencoded")
        params = _sorted_params(delivery.form)
        signature = delivery.headers.get("x-twilio-signature")
        for url in self.public_urls(delivery):
            message = (url + params).encode()
            try:
                require_signed(
                    source.secrets,
                    [signature],
                    partial(_sha1_b64, message=message),
                    what="X-Twilio-Signature",
                )
                return None
            except Unauthenticated:
                continue
        raise Unauthenticated("X-Twilio-Signature does not match this source's auth token and URL")

    def parse(self, delivery: Delivery, source: ActiveSource) -> list[ParsedFeedback]:
        """One feedback per message: the score read from the text on the source's metric."""
        config = source_config(source, TwilioConfig)
        form = delivery.form
        sid = form.get("MessageSid") or form.get("SmsMessageSid") or form.get("SmsSid")
        if not sid:
            raise Unparseable("MessageSid is missing")
        text = (form.get("Body") or "").strip()
        score = read_score(text, config.metric) if config.metric else None
        if score is None and not text:
            raise Unparseable("the message has neither a score nor any text")
        return [
            ParsedFeedback(
                provider_message_id=sid[:256],
                occurred_at=delivery.received_at,
                metric=config.metric if score is not None else None,
                score=score,
                text=text[:20_000] or None,
                language=guess_language(text),
                respondent_id=(form.get("From") or None),
                touchpoint=config.touchpoint,
            )
        ]

    def acknowledge(self, source: ActiveSource) -> Response:
        """TwiML that texts the source's thank-you message back (nothing if it is empty)."""
        reply = source_config(source, TwilioConfig).reply
        inner = f"<Message>{escape(reply)}</Message>" if reply else ""
        xml = f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>'
        return Response(xml, status_code=200, media_type="application/xml")


def _sha1_b64(key: bytes, *, message: bytes) -> str:
    return mac("sha1", key, message, "base64")


def _sorted_params(form: Form) -> str:
    """Every parameter name followed by its value, names sorted, as Twilio concatenates them."""
    return "".join(
        name + value for name in sorted(form.fields) for value in sorted(set(form.fields[name]))
    )
