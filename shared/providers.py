"""The catalogue of provider integrations: what the API needs to know to create a source.

The code that verifies and parses each provider's webhooks lives in the ingest service;
this table is only what both services must agree on.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from shared.events import Channel


@dataclass(frozen=True)
class ProviderInfo:
    """What a source of this provider looks like from outside."""

    name: str
    channels: frozenset[Channel]
    description: str
    # Whether the service mints the signing secret; otherwise the provider issues it
    # (Twilio's auth token, say) and it must be given when the source is created.
    mints_secret: bool


PROVIDERS: dict[str, ProviderInfo] = {
    p.name: p
    for p in (
        ProviderInfo(
            name="generic",
            channels=frozenset({"web", "email", "sms", "chat"}),
            description="JSON survey responses signed per the Standard Webhooks specification",
            mints_secret=True,
        ),
    )
}


def mint_standard_webhooks_secret() -> str:
    """A fresh 256-bit signing secret in the `whsec_` form Standard Webhooks libraries accept."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
