"""Building webhook deliveries the way a Standard Webhooks sender does (shared.provider_signing)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from shared.provider_signing import standard_webhooks as signed

__all__ = ["post_signed", "signed"]


def post_signed(
    url: str,
    secret: str,
    payload: dict[str, Any] | bytes,
    *,
    headers: Mapping[str, str] | None = None,
    client: httpx.Client | None = None,
) -> httpx.Response:
    """Deliver `payload` to a webhook URL as a new, freshly signed message; `headers` add to it."""
    body, signature = signed(secret, payload)
    send = client.post if client is not None else httpx.post
    return send(url, content=body, headers={**signature, **(headers or {})}, timeout=30)
