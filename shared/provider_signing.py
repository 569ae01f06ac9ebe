"""Signing deliveries the way each provider's documentation says the provider signs them.

This is the sender's side, written from the providers' documents rather than from ingest's
verifiers, so the tests that use it check ingest against the providers, not against itself;
`voc simulate` uses it to post load in every provider's real format.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from standardwebhooks import Webhook

Signed = tuple[bytes, dict[str, str]]


def hmac_of(algorithm: str, key: str, message: bytes) -> bytes:
    """The raw HMAC of `message` under a text key."""
    return hmac.new(key.encode(), message, getattr(hashlib, algorithm)).digest()


def as_body(payload: dict[str, Any] | bytes) -> bytes:
    """A payload as the bytes posted: JSON for a dict, as is for bytes."""
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def standard_webhooks(
    secret: str,
    payload: dict[str, Any] | bytes,
    *,
    msg_id: str | None = None,
    at: datetime | None = None,
) -> Signed:
    """Standard Webhooks (generic, Formbricks), signed by the reference library."""
    body = as_body(payload)
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }
    return body, headers


def intercom(secret: str, payload: dict[str, Any] | bytes) -> Signed:
    """X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body> (Intercom's webhook docs)."""
    body = as_body(payload)
    sig = "sha1=" + hmac_of("sha1", secret, body).hex()
    return body, {"content-type": "application/json", "x-hub-signature": sig}


def zendesk(secret: str, payload: dict[str, Any] | bytes, *, at: datetime | None = None) -> Signed:
    """base64(HMAC-SHA256(TIMESTAMP + BODY)) (Zendesk "Verifying webhook authenticity")."""
    body = as_body(payload)
    stamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sig = base64.b64encode(hmac_of("sha256", secret, stamp.encode() + body)).decode()
    return body, {
        "content-type": "application/json",
        "x-zendesk-webhook-signature": sig,
        "x-zendesk-webhook-signature-timestamp": stamp,
    }


def chatwoot(secret: str, payload: dict[str, Any] | bytes, *, at: float | None = None) -> Signed:
    """sha256=<hex HMAC-SHA256 of "timestamp.body">, X-Chatwoot-Timestamp in Unix seconds."""
    body = as_body(payload)
    stamp = str(int(at if at is not None else datetime.now(UTC).timestamp()))
    sig = "sha256=" + hmac_of("sha256", secret, stamp.encode() + b"." + body).hex()
    return body, {
        "content-type": "application/json",
        "x-chatwoot-signature": sig,
        "x-chatwoot-timestamp": stamp,
        "x-chatwoot-delivery": "d-1",
    }


def typeform(secret: str, payload: dict[str, Any] | bytes) -> Signed:
    """Typeform-Signature: sha256=<base64 HMAC-SHA256 of the body> (Typeform's webhook docs)."""
    body = as_body(payload)
    sig = "sha256=" + base64.b64encode(hmac_of("sha256", secret, body)).decode()
    return body, {"content-type": "application/json", "typeform-signature": sig}


def delighted(secret: str, payload: dict[str, Any] | bytes) -> Signed:
    """X-Delighted-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the API key>."""
    body = as_body(payload)
    sig = "sha256=" + hmac_of("sha256", secret, body).hex()
    return body, {"content-type": "application/json", "x-delighted-webhook-signature": sig}


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature: base64 HMAC-SHA1 of the URL and each parameter name + value, sorted."""
    message = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac_of("sha1", auth_token, message.encode())).decode()


def mailgun_fields(
    key: str, *, timestamp: int | None = None, token: str = "t" * 50
) -> dict[str, str]:
    """timestamp, token and signature = hex HMAC-SHA256(key, timestamp + token) (Mailgun docs)."""
    ts = str(timestamp if timestamp is not None else int(datetime.now(UTC).timestamp()))
    sig = hmac_of("sha256", key, (ts + token).encode()).hex()
    return {"timestamp": ts, "token": token, "signature": sig}


def multipart(fields: Mapping[str, str | bytes], boundary: str = "xYzZY") -> tuple[bytes, str]:
    """A multipart/form-data body as SendGrid and Mailgun post it, and its content type."""
    out = b""
    for name, value in fields.items():
        data = value if isinstance(value, bytes) else value.encode()
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"
