"""Signing requests the way each provider's documentation says it signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any


def hmac_of(algorithm: str, key: str, message: bytes) -> bytes:
    return hmac.new(key.encode(), message, getattr(hashlib, algorithm)).digest()


def as_body(payload: dict[str, Any] | bytes) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def intercom(secret: str, payload: dict[str, Any] | bytes) -> tuple[bytes, dict[str, str]]:
    """X-Hub-Signature: sha1=<hex HMAC-SHA1 of the body> (Intercom's webhook docs)."""
    body = as_body(payload)
    sig = "sha1=" + hmac_of("sha1", secret, body).hex()
    return body, {"content-type": "application/json", "x-hub-signature": sig}


def zendesk(
    secret: str, payload: dict[str, Any] | bytes, *, at: datetime | None = None
) -> tuple[bytes, dict[str, str]]:
    """base64(HMAC-SHA256(TIMESTAMP + BODY)) (Zendesk "Verifying webhook authenticity")."""
    body = as_body(payload)
    stamp = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sig = base64.b64encode(hmac_of("sha256", secret, stamp.encode() + body)).decode()
    return body, {
        "content-type": "application/json",
        "x-zendesk-webhook-signature": sig,
        "x-zendesk-webhook-signature-timestamp": stamp,
    }


def chatwoot(
    secret: str, payload: dict[str, Any] | bytes, *, at: float | None = None
) -> tuple[bytes, dict[str, str]]:
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


def typeform(secret: str, payload: dict[str, Any] | bytes) -> tuple[bytes, dict[str, str]]:
    """Typeform-Signature: sha256=<base64 HMAC-SHA256 of the body> (Typeform's webhook docs)."""
    body = as_body(payload)
    sig = "sha256=" + base64.b64encode(hmac_of("sha256", secret, body)).decode()
    return body, {"content-type": "application/json", "typeform-signature": sig}


def delighted(secret: str, payload: dict[str, Any] | bytes) -> tuple[bytes, dict[str, str]]:
    """X-Delighted-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body, keyed by the API key>."""
    body = as_body(payload)
    sig = "sha256=" + hmac_of("sha256", secret, body).hex()
    return body, {"content-type": "application/json", "x-delighted-webhook-signature": sig}


def mailgun_fields(
    key: str, *, timestamp: int | None = None, token: str = "t" * 50
) -> dict[str, str]:
    """timestamp, token and signature = hex HMAC-SHA256(key, timestamp + token) (Mailgun docs)."""
    ts = str(timestamp if timestamp is not None else int(datetime.now(UTC).timestamp()))
    sig = hmac_of("sha256", key, (ts + token).encode()).hex()
    return {"timestamp": ts, "token": token, "signature": sig}


def multipart(fields: dict[str, str | bytes], boundary: str = "xYzZY") -> tuple[bytes, str]:
    """A multipart/form-data body as SendGrid and Mailgun post it."""
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
