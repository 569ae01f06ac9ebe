"""Provider integrations, looked up by the name a source was created with."""

from __future__ import annotations

from services.ingest.config import IngestSettings
from services.ingest.providers.base import Provider
from services.ingest.providers.chatwoot import ChatwootProvider
from services.ingest.providers.delighted import DelightedProvider
from services.ingest.providers.formbricks import FormbricksProvider
from services.ingest.providers.generic import GenericProvider
from services.ingest.providers.intercom import IntercomProvider
from services.ingest.providers.mailgun import MailgunProvider
from services.ingest.providers.sendgrid import SendGridProvider
from services.ingest.providers.twilio import TwilioProvider
from services.ingest.providers.typeform import TypeformProvider
from services.ingest.providers.zendesk import ZendeskProvider


def build_registry(settings: IngestSettings) -> dict[str, Provider]:
    """One instance of each provider, configured from the ingest settings."""
    tolerance = settings.signature_tolerance_seconds
    providers: list[Provider] = [
        GenericProvider(tolerance_seconds=tolerance),
        TwilioProvider(public_base_url=settings.public_base_url),
        MailgunProvider(tolerance_seconds=tolerance),
        SendGridProvider(),
        IntercomProvider(tolerance_seconds=tolerance),
        ZendeskProvider(tolerance_seconds=tolerance),
        ChatwootProvider(tolerance_seconds=tolerance),
        TypeformProvider(tolerance_seconds=tolerance),
        FormbricksProvider(tolerance_seconds=tolerance),
        DelightedProvider(tolerance_seconds=tolerance),
    ]
    return {p.name: p for p in providers}
