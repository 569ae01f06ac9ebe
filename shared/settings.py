"""Settings every service shares, read once from the environment at start-up.

`DATABASE_URL` and `KAFKA_BOOTSTRAP_SERVERS` keep their conventional, unprefixed
names because operators and docker-compose files already use them; everything
service-specific lives in the service's own class with its own prefix.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

FEEDBACK_TOPIC = "voc.feedback.v1"
DLQ_TOPIC = "voc.feedback.dlq.v1"
ALERTS_TOPIC = "voc.alerts.v1"

S = TypeVar("S", bound=BaseSettings)
T = TypeVar("T", bound=BaseSettings)


class SettingsError(SystemExit):
    """A misconfiguration: stops the process with one line per problem on stderr, exit status 1."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(f"configuration error: {line}" for line in lines))
        self.lines = lines


class CommonSettings(BaseSettings):
    """Connection settings that every service needs."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(
        description="PostgreSQL URL, e.g. postgresql://user:pass@host:5432/voc",
    )
    kafka_bootstrap_servers: str = Field(
        description="Comma-separated Kafka bootstrap servers, e.g. kafka:9092",
    )
    voc_feedback_topic: str = Field(
        default=FEEDBACK_TOPIC, description="Topic for valid feedback events"
    )
    voc_dlq_topic: str = Field(
        default=DLQ_TOPIC, description="Topic for authentic deliveries that could not be parsed"
    )
    voc_alerts_topic: str = Field(
        default=ALERTS_TOPIC, description="Topic every alert state change is produced to"
    )
    voc_topic_partitions: int = Field(
        default=6, ge=1, le=1000, description="Partitions given to topics the service creates"
    )
    voc_log_level: str = Field(default="INFO", description="Python log level name")

    @property
    def topics(self) -> list[str]:
        """Every topic the services use, as `voc migrate`, `voc run` and the tests create them."""
        return [self.voc_feedback_topic, self.voc_dlq_topic, self.voc_alerts_topic]

    @field_validator("database_url")
    @classmethod
    def _sqlalchemy_driver(cls, url: str) -> str:
        """Accept the plain libpq form operators paste and pin the psycopg 3 driver."""
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        if not url.startswith("postgresql+psycopg://"):
            raise ValueError("must be a postgresql:// URL")
        return url

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _host_port_list(cls, servers: str) -> str:
        """Reject a list the Kafka client would only fail on later, far from the cause."""
        for server in servers.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {server.strip()!r}")
        return servers

    @field_validator("voc_log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        """Catch a typo at start-up rather than logging at an unintended level."""
        upper = level.upper()
        if upper not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return upper

    def masked(self) -> dict[str, Any]:
        """The settings as a dict safe to log: passwords in URLs and secrets are masked."""
        out: dict[str, Any] = {}
        for name, value in self.model_dump().items():
            if hasattr(value, "get_secret_value"):
                value = "**********"
            elif name == "database_url":
                value = mask_url_password(str(value))
            out[name] = value
        return out


def mask_url_password(url: str) -> str:
    """Hide the password part of a URL so it can appear in logs and error lines."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, at, host = rest.rpartition("@")
    user, colon, password = creds.partition(":")
    return f"{scheme}://{user}{':***' if colon and password else colon}{at}{host}"


def load(cls: type[S], **overrides: Any) -> S:
    """Build a settings object or stop with one clear line for each problem found."""
    settings, problems = _try_load(cls, overrides)
    if problems:
        raise SettingsError(problems)
    assert settings is not None
    return settings


def load_pair(first: type[S], second: type[T]) -> tuple[S, T]:
    """Build two settings objects, reporting the problems of both before stopping."""
    a, problems_a = _try_load(first, {})
    b, problems_b = _try_load(second, {})
    if problems_a or problems_b:
        raise SettingsError(problems_a + problems_b)
    assert a is not None and b is not None
    return a, b


def _try_load(cls: type[S], overrides: dict[str, Any]) -> tuple[S | None, list[str]]:
    try:
        return cls(**overrides), []
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            reason = "is not set" if err["type"] == "missing" else err["msg"]
            lines.append(f"{_env_name(cls, field)} {reason.removeprefix('Value error, ')}")
        return None, lines


def _env_name(cls: type[BaseSettings], field: str) -> str:
    """The environment variable an operator sets for a field."""
    prefix = str(cls.model_config.get("env_prefix") or "")
    return f"{prefix}{field}".upper()
