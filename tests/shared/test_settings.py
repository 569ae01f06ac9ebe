"""Settings: a misconfiguration stops start-up with one clear line per problem, and secrets stay masked."""

from __future__ import annotations

import pytest

from services.ingest.config import IngestSettings
from shared.settings import CommonSettings, SettingsError, load, load_pair, mask_url_password


def test_every_problem_gets_its_own_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka")
    monkeypatch.setenv("INGEST_PORT", "99999")
    with pytest.raises(SettingsError) as caught:
        load_pair(CommonSettings, IngestSettings)
    assert caught.value.lines == [
        "DATABASE_URL is not set",
        "KAFKA_BOOTSTRAP_SERVERS expected host:port[,host:port...], got 'kafka'",
        "INGEST_PORT Input should be less than or equal to 65535",
    ]
    assert str(caught.value.code).startswith("configuration error: DATABASE_URL is not set")


def test_plain_postgres_urls_get_the_psycopg_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://voc:pw@db:5432/voc")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092, k2:9092")
    settings = load(CommonSettings)
    assert settings.database_url == "postgresql+psycopg://voc:pw@db:5432/voc"
    assert settings.voc_feedback_topic == "voc.feedback.v1"
    assert settings.voc_dlq_topic == "voc.feedback.dlq.v1"
    assert settings.masked()["database_url"] == "postgresql+psycopg://voc:***@db:5432/voc"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:secret@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://postgres:@/voc?host=/tmp/x", "postgresql://postgres:@/voc?host=/tmp/x"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
    ],
)
def test_password_masking(url: str, masked: str) -> None:
    assert mask_url_password(url) == masked
