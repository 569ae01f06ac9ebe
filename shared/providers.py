"""The catalogue of provider integrations: what the API needs to know to create a source.

The code that verifies and parses each provider's webhooks lives in the ingest service;
this table is only what both services must agree on: channels, who issues the secret, and
the shape of each provider's source `config` (validated when the source is created, read by
ingest on every delivery).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.events import Channel
from shared.metric_math import Metric

Touchpoint = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
QuestionRole = Literal["nps", "csat", "ces", "comment"]


class _Config(BaseModel):
    """Source settings: unknown keys are refused so a typo does not silently do nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    touchpoint: Touchpoint | None = Field(
        default=None, description="Journey step every response of this source is filed under"
    )


class GenericConfig(BaseModel):
    """The generic provider reads everything from the body; any keys are kept as given."""

    model_config = ConfigDict(extra="allow")


class TextSurveyConfig(_Config):
    """An SMS or email survey: which question the customer is replying to."""

    metric: Metric | None = Field(
        default=None,
        description="The metric the survey asked (nps 0-10, csat 1-5, ces 1-7); the score is read "
        "from the reply text. Unset: replies are stored as comments only",
    )


class TwilioConfig(TextSurveyConfig):
    """Twilio inbound SMS: the metric asked and the thank-you text sent back."""

    reply: str = Field(
        default="Thank you for your feedback!",
        max_length=1600,
        description="Text sent back to the customer as TwiML; empty sends no reply",
    )


class SendGridConfig(TextSurveyConfig):
    """SendGrid Inbound Parse: the metric asked and the basic-auth user name, if any."""

    username: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="User name expected with HTTP basic auth (the password is the source secret); "
        "unset accepts any user name",
    )


class SurveyFormConfig(_Config):
    """A survey tool sending answers keyed by its own question ids."""

    questions: dict[
        Annotated[str, StringConstraints(min_length=1, max_length=200)], QuestionRole
    ] = Field(
        min_length=1,
        max_length=50,
        description="Question id (Typeform field id or ref, Formbricks question id) to the role "
        "its answer plays: nps, csat, ces or comment",
    )


class NoMappingConfig(_Config):
    """Providers whose payload says which metric a score is on (chat ratings, Delighted)."""


@dataclass(frozen=True)
class ProviderInfo:
    """What a source of this provider looks like from outside."""

    name: str
    channels: frozenset[Channel]
    description: str
    # Whether the service mints the signing secret; otherwise the provider issues it
    # (Twilio's auth token, say) and it must be given when the source is created.
    mints_secret: bool
    config_model: type[BaseModel] = GenericConfig
    # How a minted secret looks; the generic provider needs the Standard Webhooks form.
    mint: Callable[[], str] | None = None

    def validate_config(self, config: dict[str, Any]) -> dict[str, Any]:
        """The config as stored: validated against this provider's model (raises ValueError)."""
        return self.config_model.model_validate(config).model_dump(mode="json", exclude_none=True)

    def mint_secret(self) -> str:
        """A fresh secret for a provider that lets us choose it."""
        return (self.mint or mint_standard_webhooks_secret)()


def mint_standard_webhooks_secret() -> str:
    """A fresh 256-bit signing secret in the `whsec_` form Standard Webhooks libraries accept."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def mint_token() -> str:
    """A fresh 256-bit URL-safe secret, for providers where it is pasted into a URL or a form."""
    return secrets.token_urlsafe(32)


PROVIDERS: dict[str, ProviderInfo] = {
    p.name: p
    for p in (
        ProviderInfo(
            name="generic",
            channels=frozenset({"web", "email", "sms", "chat"}),
            description="JSON survey responses signed per the Standard Webhooks specification",
            mints_secret=True,
        ),
        ProviderInfo(
            name="typeform",
            channels=frozenset({"web"}),
            description="Typeform form_response webhooks (Typeform-Signature, sha256 base64)",
            mints_secret=True,
            config_model=SurveyFormConfig,
            mint=mint_token,
        ),
        ProviderInfo(
            name="formbricks",
            channels=frozenset({"web"}),
            description="Formbricks response webhooks (Standard Webhooks headers, whsec_ secret)",
            mints_secret=False,
            config_model=SurveyFormConfig,
        ),
        ProviderInfo(
            name="delighted",
            channels=frozenset({"web", "email", "sms"}),
            description="Delighted survey_response events; the secret is the Delighted API key",
            mints_secret=False,
            config_model=NoMappingConfig,
        ),
        ProviderInfo(
            name="twilio",
            channels=frozenset({"sms"}),
            description="Twilio inbound SMS; the secret is the account's auth token",
            mints_secret=False,
            config_model=TwilioConfig,
        ),
        ProviderInfo(
            name="mailgun",
            channels=frozenset({"email"}),
            description="Mailgun inbound routes; the secret is the HTTP webhook signing key",
            mints_secret=False,
            config_model=TextSurveyConfig,
        ),
        ProviderInfo(
            name="sendgrid",
            channels=frozenset({"email"}),
            description="SendGrid Inbound Parse, with a bearer token or basic-auth password",
            mints_secret=True,
            config_model=SendGridConfig,
            mint=mint_token,
        ),
        ProviderInfo(
            name="intercom",
            channels=frozenset({"chat"}),
            description="Intercom conversation.rating.added; the secret is the app's client secret",
            mints_secret=False,
            config_model=NoMappingConfig,
        ),
        ProviderInfo(
            name="zendesk",
            channels=frozenset({"chat", "email"}),
            description="Zendesk satisfaction-rating webhooks; the secret is the webhook's "
            "signing secret",
            mints_secret=False,
            config_model=NoMappingConfig,
        ),
        ProviderInfo(
            name="chatwoot",
            channels=frozenset({"chat"}),
            description="Chatwoot CSAT survey responses; the secret is the webhook's secret",
            mints_secret=False,
            config_model=NoMappingConfig,
        ),
    )
}
