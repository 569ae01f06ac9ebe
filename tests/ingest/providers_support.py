"""Signing requests the way each provider's documentation says it signs them.

The helpers live in shared.provider_signing, where `voc simulate` uses them too.
"""

from __future__ import annotations

from shared.provider_signing import (
    as_body,
    chatwoot,
    delighted,
    hmac_of,
    intercom,
    mailgun_fields,
    multipart,
    typeform,
    zendesk,
)

__all__ = [
    "as_body",
    "chatwoot",
    "delighted",
    "hmac_of",
    "intercom",
    "mailgun_fields",
    "multipart",
    "typeform",
    "zendesk",
]
