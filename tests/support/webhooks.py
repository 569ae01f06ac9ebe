"""Building webhook deliveries the way a Standard Webhooks sender does (shared.provider_signing)."""

from __future__ import annotations

from shared.provider_signing import standard_webhooks as signed

__all__ = ["signed"]
